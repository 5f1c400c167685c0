//! `sign_up`: creates a user and its profile in one transaction.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` username, `str` nickname, `str` password, `str` client ip (for the per-address limits; empty when the
/// caller cannot know it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUp {
    pub username: String,
    pub nickname: String,
    pub password: Secret,
    pub ip: String,
}

/// `uuid` of the new user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUp {
    pub user: [u8; 16],
}

impl Operation for SignUp {
    const OPCODE: Opcode = Opcode::SignUp;
    // A second try of a sign-up that went through says the name is taken.
    const REPEATABLE: bool = false;
    type Answer = SignedUp;
}

impl Message for SignUp {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.username)
            .str(&self.nickname)
            .str(self.password.as_str())
            .str(&self.ip);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SignUp, DecodeError> {
        Ok(SignUp {
            username: string(r)?,
            nickname: string(r)?,
            password: secret(r)?,
            ip: string(r)?,
        })
    }
}

impl Message for SignedUp {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.uuid(self.user);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SignedUp, DecodeError> {
        Ok(SignedUp { user: r.uuid()? })
    }
}
