//! What a code and an access token stand for, as Redis keeps them (JSON
//! under the SHA-256 of the token, never the token): `oc:` codes (single
//! use: taken with `GETDEL`), `ocu:` codes already used (their grant, so a
//! replay ends it), `oat:` access tokens, and `oga:` the access-token keys
//! of each grant (ending the grant deletes them, so they stop at once).

use serde::{Deserialize, Serialize};

/// An authorization code's request, kept until the code is exchanged.
#[derive(Debug, Serialize, Deserialize)]
pub struct CodeGrant {
    pub user_id: u64,
    pub uuid: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: String,
    pub challenge: String,
    pub sid: String,
    pub auth_time: u64,
}

/// An access token's grant.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessGrant {
    pub grant_id: u64,
    pub uuid: String,
    pub client_id: String,
    pub scope: String,
    pub iat: u64,
    pub exp: u64,
}
