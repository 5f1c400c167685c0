//! `sso_finish`: the provider sent the browser back with a code. authd
//! takes the state it kept (once), exchanges the code with the PKCE
//! verifier, verifies the ID token (signature against the provider's JWKS,
//! `iss`, `aud`, `exp`, `nonce`), and then: signs in the account linked to
//! that identity; or links it to the account of the session that started
//! the flow; or — when the provider vouches for a verified e-mail an
//! account already has — asks for that account's password first (a
//! pending link the next `sign_in` completes); or creates an account.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` provider id, `str` state, `str` code, `str` client ip, `str` user
/// agent, `str` device id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoFinish {
    pub provider: String,
    pub state: Secret,
    pub code: Secret,
    pub ip: String,
    pub agent: String,
    pub device: String,
}

/// How the flow ended.
pub const SSO_SIGNED_IN: u32 = 0;
pub const SSO_LINKED: u32 = 1;
pub const SSO_PASSWORD_NEEDED: u32 = 2;
pub const SSO_PASSWORD_TO_LINK: u32 = 3;

/// `u32` outcome ([`SSO_SIGNED_IN`]: `token` is the new session's;
/// [`SSO_LINKED`]: already linked to the session's account, no token;
/// [`SSO_PASSWORD_NEEDED`]: a verified e-mail matched an account, `token`
/// is the pending link, `username` the account whose password proves it;
/// [`SSO_PASSWORD_TO_LINK`]: the same for a link asked from a session),
/// `str` token, `str` username, `str`
/// where to go next, `u32` warnings of the sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoFinished {
    pub outcome: u32,
    pub token: Secret,
    pub username: String,
    pub next: String,
    pub warnings: u32,
}

impl Operation for SsoFinish {
    const OPCODE: Opcode = Opcode::SsoFinish;
    // The state is used up by the first try.
    const REPEATABLE: bool = false;
    type Answer = SsoFinished;
}

impl Message for SsoFinish {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.provider)
            .str(self.state.as_str())
            .str(self.code.as_str())
            .str(&self.ip)
            .str(&self.agent)
            .str(&self.device);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SsoFinish, DecodeError> {
        Ok(SsoFinish {
            provider: string(r)?,
            state: secret(r)?,
            code: secret(r)?,
            ip: string(r)?,
            agent: string(r)?,
            device: string(r)?,
        })
    }
}

impl Message for SsoFinished {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.u32(self.outcome)
            .str(self.token.as_str())
            .str(&self.username)
            .str(&self.next)
            .u32(self.warnings);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SsoFinished, DecodeError> {
        Ok(SsoFinished {
            outcome: r.u32()?,
            token: secret(r)?,
            username: string(r)?,
            next: string(r)?,
            warnings: r.u32()?,
        })
    }
}
