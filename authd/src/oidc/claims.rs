//! The JWTs the provider signs: ID tokens (OpenID Connect Core 2) and
//! back-channel logout tokens (Back-Channel Logout 2.4), and what an ID
//! token hint is read for at logout.

use serde::{Deserialize, Serialize};

/// An ID token's claims. The profile and e-mail claims are present only
/// when the grant's scope has `profile` / `email`.
#[derive(Debug, Serialize, Deserialize)]
pub struct IdToken {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
    pub auth_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub sid: String,
    /// The left half of the access token's hash, base64url (Core
    /// 3.3.2.11: binds the two). Optional in the code flow; given for
    /// RS256 (SHA-256), left out for EdDSA, whose hash the specs do not
    /// name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// The standard claims of the `profile` and `email` scopes.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ProfileClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// A logout token's claims: no `nonce` (the spec forbids it), and the
/// back-channel logout event.
#[derive(Debug, Serialize, Deserialize)]
pub struct LogoutToken {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    pub sid: String,
    pub events: serde_json::Value,
}

/// The back-channel logout event's name.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// What logout reads of an ID token hint.
#[derive(Debug, Deserialize)]
pub struct Hint {
    pub aud: String,
    pub sid: String,
}

/// `at_hash` of an access token for RS256: SHA-256's left half.
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}
