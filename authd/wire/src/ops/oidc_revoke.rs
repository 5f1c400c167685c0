//! `oidc_revoke`: token revocation (RFC 7009). A client ends one of its
//! own tokens; revoking a refresh token ends its whole grant. An unknown
//! token, or another client's, is `ok` with nothing done (the RFC's
//! answer, which reveals nothing).

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` client id, `str` client secret, `str` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcRevoke {
    pub client_id: String,
    pub client_secret: Secret,
    pub token: Secret,
}

impl Operation for OidcRevoke {
    const OPCODE: Opcode = Opcode::OidcRevoke;
    // Revoking twice leaves it revoked.
    const REPEATABLE: bool = true;
    type Answer = ();
}

impl Message for OidcRevoke {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.client_id)
            .str(self.client_secret.as_str())
            .str(self.token.as_str());
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<OidcRevoke, DecodeError> {
        Ok(OidcRevoke {
            client_id: string(r)?,
            client_secret: secret(r)?,
            token: secret(r)?,
        })
    }
}
