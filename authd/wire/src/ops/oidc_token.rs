//! `oidc_token`: the token endpoint (RFC 6749 section 3.2): a code for
//! tokens (with the PKCE verifier), or a refresh token for new ones (the
//! old one is used up; used again, it ends the whole grant). The client
//! authenticates with its secret unless it is public.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` client id, `str` client secret (empty for a public client), `str`
/// grant type, `str` code, `str` redirect URI, `str` code verifier, `str`
/// refresh token, `str` scope (a refresh may narrow it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcToken {
    pub client_id: String,
    pub client_secret: Secret,
    pub grant_type: String,
    pub code: Secret,
    pub redirect_uri: String,
    pub code_verifier: Secret,
    pub refresh_token: Secret,
    pub scope: String,
}

/// `str` access token, `u32` its life in seconds, `str` ID token (empty
/// without `openid`), `str` refresh token, `str` scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: Secret,
    pub expires_in: u32,
    pub id_token: Secret,
    pub refresh_token: Secret,
    pub scope: String,
}

impl Operation for OidcToken {
    const OPCODE: Opcode = Opcode::OidcToken;
    // A code or refresh token is used up by the first try: a repeat after
    // a lost answer would end the grant as a replay.
    const REPEATABLE: bool = false;
    type Answer = Tokens;
}

impl Message for OidcToken {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.client_id)
            .str(self.client_secret.as_str())
            .str(&self.grant_type)
            .str(self.code.as_str())
            .str(&self.redirect_uri)
            .str(self.code_verifier.as_str())
            .str(self.refresh_token.as_str())
            .str(&self.scope);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<OidcToken, DecodeError> {
        Ok(OidcToken {
            client_id: string(r)?,
            client_secret: secret(r)?,
            grant_type: string(r)?,
            code: secret(r)?,
            redirect_uri: string(r)?,
            code_verifier: secret(r)?,
            refresh_token: secret(r)?,
            scope: string(r)?,
        })
    }
}

impl Message for Tokens {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.access_token.as_str())
            .u32(self.expires_in)
            .str(self.id_token.as_str())
            .str(self.refresh_token.as_str())
            .str(&self.scope);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Tokens, DecodeError> {
        Ok(Tokens {
            access_token: secret(r)?,
            expires_in: r.u32()?,
            id_token: secret(r)?,
            refresh_token: secret(r)?,
            scope: string(r)?,
        })
    }
}
