//! `oidc_userinfo`: the UserInfo endpoint (OpenID Connect Core 5.3): the
//! claims an access token's scope allows, about the user it was issued
//! for.

use super::{optional, secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcUserinfo {
    pub access_token: Secret,
}

/// `str` sub (the user's uuid), `str` scope, `str` username, `str`
/// nickname, `u64` updated (unix s), `str`/`null` e-mail, `str`/`null`
/// avatar id. The caller shows only what `scope` covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserClaims {
    pub sub: String,
    pub scope: String,
    pub username: String,
    pub nickname: String,
    pub updated_at: u64,
    pub email: Option<String>,
    pub avatar: Option<String>,
}

impl Operation for OidcUserinfo {
    const OPCODE: Opcode = Opcode::OidcUserinfo;
    // A read.
    const REPEATABLE: bool = true;
    type Answer = UserClaims;
}

impl Message for OidcUserinfo {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.access_token.as_str());
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<OidcUserinfo, DecodeError> {
        Ok(OidcUserinfo {
            access_token: secret(r)?,
        })
    }
}

impl Message for UserClaims {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.sub)
            .str(&self.scope)
            .str(&self.username)
            .str(&self.nickname)
            .u64(self.updated_at);
        match &self.email {
            Some(e) => w.str(e),
            None => w.null(),
        };
        match &self.avatar {
            Some(a) => w.str(a),
            None => w.null(),
        };
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<UserClaims, DecodeError> {
        Ok(UserClaims {
            sub: string(r)?,
            scope: string(r)?,
            username: string(r)?,
            nickname: string(r)?,
            updated_at: r.u64()?,
            email: optional(r)?,
            avatar: optional(r)?,
        })
    }
}
