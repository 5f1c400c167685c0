//! `end_session`: ends one of the caller's own sessions ("sign out" on one
//! row of `/security`), by its id in the session index.

use super::secret;
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` token, `u64` session id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSession {
    pub token: Secret,
    pub session: u64,
}

impl Operation for EndSession {
    const OPCODE: Opcode = Opcode::EndSession;
    // Ending a session twice leaves it ended.
    const REPEATABLE: bool = true;
    type Answer = ();
}

impl Message for EndSession {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str()).u64(self.session);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<EndSession, DecodeError> {
        Ok(EndSession {
            token: secret(r)?,
            session: r.u64()?,
        })
    }
}
