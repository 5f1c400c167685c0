//! `sign_in`: a new session for a username and password.

use super::{secret, string};
use crate::ops::Profile;
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` username, `str` password, `str` client ip, `str` user agent (the
/// last two for the login record and the per-address limit), `str` device
/// (the browser's long-lived random device id, empty when unknown), `str`
/// referrer (the page that sent the visitor to the sign-in form), `str`
/// link (a pending link of an identity at another provider, from
/// `sso_finish`, to complete once the password proved the account; empty
/// for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub username: String,
    pub password: Secret,
    pub ip: String,
    pub agent: String,
    pub device: String,
    pub referrer: String,
    pub link: Secret,
}

/// `str` token, then the [`Profile`], then `u32` warnings (the bits of
/// [`crate::ops::warnings`]: why this sign-in was unusual, 0 when not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub token: Secret,
    pub profile: Profile,
    pub warnings: u32,
}

impl Operation for SignIn {
    const OPCODE: Opcode = Opcode::SignIn;
    // A repeated sign-in makes one more session; the first expires unused.
    const REPEATABLE: bool = true;
    type Answer = SignedIn;
}

impl Message for SignIn {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.username)
            .str(self.password.as_str())
            .str(&self.ip)
            .str(&self.agent)
            .str(&self.device)
            .str(&self.referrer)
            .str(self.link.as_str());
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SignIn, DecodeError> {
        Ok(SignIn {
            username: string(r)?,
            password: secret(r)?,
            ip: string(r)?,
            agent: string(r)?,
            device: string(r)?,
            referrer: string(r)?,
            link: secret(r)?,
        })
    }
}

impl Message for SignedIn {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str());
        self.profile.encode(w);
        w.u32(self.warnings);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SignedIn, DecodeError> {
        Ok(SignedIn {
            token: secret(r)?,
            profile: Profile::decode(r)?,
            warnings: r.u32()?,
        })
    }
}
