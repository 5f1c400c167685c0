//! `oidc_introspect`: token introspection (RFC 7662) for resource
//! servers, which authenticate as registered clients. An unknown, expired
//! or revoked token is `active: false` and nothing more; a token is only
//! described to the client it was issued to.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` client id, `str` client secret, `str` token (access or refresh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcIntrospect {
    pub client_id: String,
    pub client_secret: Secret,
    pub token: Secret,
}

/// `bool` active; when active: `str` scope, `str` client id, `str` sub,
/// `str` username, `str` token type (`access_token`/`refresh_token`), `u64`
/// issued at, `u64` expires at (unix s).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Introspection {
    pub active: bool,
    pub scope: String,
    pub client_id: String,
    pub sub: String,
    pub username: String,
    pub token_type: String,
    pub iat: u64,
    pub exp: u64,
}

impl Operation for OidcIntrospect {
    const OPCODE: Opcode = Opcode::OidcIntrospect;
    // A read.
    const REPEATABLE: bool = true;
    type Answer = Introspection;
}

impl Message for OidcIntrospect {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.client_id)
            .str(self.client_secret.as_str())
            .str(self.token.as_str());
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<OidcIntrospect, DecodeError> {
        Ok(OidcIntrospect {
            client_id: string(r)?,
            client_secret: secret(r)?,
            token: secret(r)?,
        })
    }
}

impl Message for Introspection {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.bool(self.active);
        if self.active {
            w.str(&self.scope)
                .str(&self.client_id)
                .str(&self.sub)
                .str(&self.username)
                .str(&self.token_type)
                .u64(self.iat)
                .u64(self.exp);
        }
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Introspection, DecodeError> {
        if !r.bool()? {
            return Ok(Introspection::default());
        }
        Ok(Introspection {
            active: true,
            scope: string(r)?,
            client_id: string(r)?,
            sub: string(r)?,
            username: string(r)?,
            token_type: string(r)?,
            iat: r.u64()?,
            exp: r.u64()?,
        })
    }
}
