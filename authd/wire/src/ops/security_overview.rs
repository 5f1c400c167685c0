//! `security_overview`: the signed-in user's own recent sign-ins and open
//! sessions (the `/security` page), the asking session marked `current`.

use super::secret;
use crate::ops::History;
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityOverview {
    pub token: Secret,
}

impl Operation for SecurityOverview {
    const OPCODE: Opcode = Opcode::SecurityOverview;
    // A read.
    const REPEATABLE: bool = true;
    type Answer = History;
}

impl Message for SecurityOverview {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str());
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SecurityOverview, DecodeError> {
        Ok(SecurityOverview { token: secret(r)? })
    }
}
