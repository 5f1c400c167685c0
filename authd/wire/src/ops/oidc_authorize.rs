//! `oidc_authorize`: the authorization endpoint's decision for a browser
//! (OpenID Connect Core 3.1.2). authd checks the client and its exact
//! redirect URI, the scope, PKCE and the session, then either issues a
//! single-use code or says the user must consent first. webd redirects
//! (with `state`, which authd never needs) or shows the consent page.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `prompt=none`: never show a page; a missing session or consent is an
/// error sent back to the client.
pub const PROMPT_NONE: u32 = 1;
/// `prompt=consent`: ask again even when consent was remembered.
pub const PROMPT_CONSENT: u32 = 2;

/// `str` session token (empty: none), `str` client id, `str` redirect URI,
/// `str` scope, `str` nonce, `str` code challenge, `str` challenge method,
/// `u32` prompt bits, `bool` approved (the user allowed it on the consent
/// page just now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcAuthorize {
    pub token: Secret,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    pub prompt: u32,
    pub approved: bool,
}

/// What the authorization step decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// Send the browser back with this code.
    Code(Secret),
    /// Ask the user: the client's name and the scope it asks.
    Consent { client_name: String, scope: String },
}

impl Operation for OidcAuthorize {
    const OPCODE: Opcode = Opcode::OidcAuthorize;
    // A repeat issues a second code; the first expires unused.
    const REPEATABLE: bool = true;
    type Answer = Authorization;
}

impl Message for OidcAuthorize {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str())
            .str(&self.client_id)
            .str(&self.redirect_uri)
            .str(&self.scope)
            .str(&self.nonce)
            .str(&self.code_challenge)
            .str(&self.code_challenge_method)
            .u32(self.prompt)
            .bool(self.approved);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<OidcAuthorize, DecodeError> {
        Ok(OidcAuthorize {
            token: secret(r)?,
            client_id: string(r)?,
            redirect_uri: string(r)?,
            scope: string(r)?,
            nonce: string(r)?,
            code_challenge: string(r)?,
            code_challenge_method: string(r)?,
            prompt: r.u32()?,
            approved: r.bool()?,
        })
    }
}

/// `bool` consent needed; then `str` code, or `str` client name and `str`
/// scope.
impl Message for Authorization {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        match self {
            Authorization::Code(code) => w.bool(false).str(code.as_str()),
            Authorization::Consent { client_name, scope } => {
                w.bool(true).str(client_name).str(scope)
            }
        };
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Authorization, DecodeError> {
        Ok(if r.bool()? {
            Authorization::Consent {
                client_name: string(r)?,
                scope: string(r)?,
            }
        } else {
            Authorization::Code(secret(r)?)
        })
    }
}
