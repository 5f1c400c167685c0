//! `logout`: ends a session (`ok` also when it was already gone).

use super::secret;
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logout {
    pub token: Secret,
}

impl Operation for Logout {
    const OPCODE: Opcode = Opcode::Logout;
    // Ending a session twice ends it once.
    const REPEATABLE: bool = true;
    type Answer = ();
}

impl Message for Logout {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str());
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Logout, DecodeError> {
        Ok(Logout { token: secret(r)? })
    }
}
