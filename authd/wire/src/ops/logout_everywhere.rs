//! `logout_everywhere`: ends every session of the token's account ("sign out
//! everywhere"), this one included.

use super::secret;
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutEverywhere {
    pub token: Secret,
}

impl Operation for LogoutEverywhere {
    const OPCODE: Opcode = Opcode::LogoutEverywhere;
    // A late copy of it would set a later mark and end sessions made in between: sent again only if it never left.
    const REPEATABLE: bool = false;
    type Answer = ();
}

impl Message for LogoutEverywhere {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str());
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<LogoutEverywhere, DecodeError> {
        Ok(LogoutEverywhere { token: secret(r)? })
    }
}
