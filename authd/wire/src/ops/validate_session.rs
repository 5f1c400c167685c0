//! `validate_session`: the profile of a session's user; slides its expiry.

use super::secret;
use crate::ops::Profile;
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateSession {
    pub token: Secret,
}

impl Operation for ValidateSession {
    const OPCODE: Opcode = Opcode::ValidateSession;
    // A read (it slides the expiry, which a repeat slides again).
    const REPEATABLE: bool = true;
    type Answer = Profile;
}

impl Message for ValidateSession {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str());
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<ValidateSession, DecodeError> {
        Ok(ValidateSession { token: secret(r)? })
    }
}
