//! `whoami`: who a session belongs to, and nothing else (a caller that
//! needs only the user, like a chat gateway checking a cookie, need not
//! read the whole profile). Slides the session's expiry like
//! `validate_session`.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whoami {
    pub token: Secret,
}

/// `uuid` user, `str` username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: [u8; 16],
    pub username: String,
}

impl Operation for Whoami {
    const OPCODE: Opcode = Opcode::Whoami;
    // A read.
    const REPEATABLE: bool = true;
    type Answer = Identity;
}

impl Message for Whoami {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str());
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Whoami, DecodeError> {
        Ok(Whoami { token: secret(r)? })
    }
}

impl Message for Identity {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.uuid(self.user).str(&self.username);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Identity, DecodeError> {
        Ok(Identity {
            user: r.uuid()?,
            username: string(r)?,
        })
    }
}
