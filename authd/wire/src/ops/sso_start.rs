//! `sso_start`: the first step of "Sign in with …" (Throng as a relying
//! party of another OpenID provider). authd makes the state, nonce and
//! PKCE verifier, keeps them, and answers where to send the browser; webd
//! binds the state to the browser in a cookie.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` provider id, `str` session token (empty: a sign-in; a session:
/// link the identity to its account), `str` where to go once signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoStart {
    pub provider: String,
    pub token: Secret,
    pub next: String,
}

/// `str` the provider's authorization URL, `str` state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoRedirect {
    pub url: String,
    pub state: Secret,
}

impl Operation for SsoStart {
    const OPCODE: Opcode = Opcode::SsoStart;
    // A repeat makes another state; the first expires unused.
    const REPEATABLE: bool = true;
    type Answer = SsoRedirect;
}

impl Message for SsoStart {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.provider)
            .str(self.token.as_str())
            .str(&self.next);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SsoStart, DecodeError> {
        Ok(SsoStart {
            provider: string(r)?,
            token: secret(r)?,
            next: string(r)?,
        })
    }
}

impl Message for SsoRedirect {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.url).str(self.state.as_str());
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SsoRedirect, DecodeError> {
        Ok(SsoRedirect {
            url: string(r)?,
            state: secret(r)?,
        })
    }
}
