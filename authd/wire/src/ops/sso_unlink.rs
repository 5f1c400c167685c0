//! `sso_unlink`: the signed-in user removes one of their linked
//! identities at other providers (a row of `/security`).

use super::secret;
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` token, `u64` identity id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoUnlink {
    pub token: Secret,
    pub identity: u64,
}

impl Operation for SsoUnlink {
    const OPCODE: Opcode = Opcode::SsoUnlink;
    // Unlinking twice leaves it unlinked.
    const REPEATABLE: bool = true;
    type Answer = ();
}

impl Message for SsoUnlink {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str()).u64(self.identity);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SsoUnlink, DecodeError> {
        Ok(SsoUnlink {
            token: secret(r)?,
            identity: r.u64()?,
        })
    }
}
