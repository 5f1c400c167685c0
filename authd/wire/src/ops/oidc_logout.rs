//! `oidc_logout`: RP-initiated logout (OpenID Connect RP-Initiated Logout
//! 1.0). The browser's Throng session ends — and with it every grant made
//! in it, each client told by back-channel logout — and the browser goes
//! back to the client only to a post-logout URI registered for it, named
//! by a valid ID token the provider issued to that client.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` session token (empty: none), `str` ID token hint, `str` client id,
/// `str` post-logout redirect URI, `bool` confirmed (the user pressed
/// "sign out" on the provider's own page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcLogout {
    pub token: Secret,
    pub id_token_hint: Secret,
    pub client_id: String,
    pub post_logout_redirect_uri: String,
    pub confirmed: bool,
}

/// `bool` ended (false: the user must confirm first — no valid hint
/// names this session, so the request may come from anywhere), `str`
/// where the browser goes next (empty: the signed-out page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedOut {
    pub ended: bool,
    pub redirect: String,
}

impl Operation for OidcLogout {
    const OPCODE: Opcode = Opcode::OidcLogout;
    // Ending a session twice leaves it ended.
    const REPEATABLE: bool = true;
    type Answer = LoggedOut;
}

impl Message for OidcLogout {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str())
            .str(self.id_token_hint.as_str())
            .str(&self.client_id)
            .str(&self.post_logout_redirect_uri)
            .bool(self.confirmed);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<OidcLogout, DecodeError> {
        Ok(OidcLogout {
            token: secret(r)?,
            id_token_hint: secret(r)?,
            client_id: string(r)?,
            post_logout_redirect_uri: string(r)?,
            confirmed: r.bool()?,
        })
    }
}

impl Message for LoggedOut {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.bool(self.ended).str(&self.redirect);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<LoggedOut, DecodeError> {
        Ok(LoggedOut {
            ended: r.bool()?,
            redirect: string(r)?,
        })
    }
}
