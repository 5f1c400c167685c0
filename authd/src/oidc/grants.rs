//! What a code and an access token stand for, as Redis keeps them (JSON
//! under the SHA-256 of the token, never the token): `oc:` codes (single
//! use: taken by one script that writes the `ocu:` record too), `ocu:`
//! codes already used (their grant, so a replay ends it), `oat:` access
//! tokens, `oga:` the access-token keys of each grant (ending the grant
//! deletes them, so they stop at once) and `ogx:` grants ended within an
//! access token's life (a token stored while its grant was being ended
//! sees the mark and is taken back).

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
    /// The session that authorized the code: the SHA-256 (hex) of its
    /// token, whether it lives in Redis, when it was made (ms; 0 for a
    /// fallback session in MySQL) and the password it was made with. A
    /// code is worth nothing once that session has ended.
    pub session: String,
    pub session_in_redis: bool,
    pub session_made: u64,
    pub pw_fingerprint: String,
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
