//! CSRF tokens bound to who is asking. A form's token is an HMAC under
//! webd's CSRF key of what the client holds:
//!
//! - signed in: its session token, so a token works only with the session
//!   it was made for, and a new session (every log-in) has a new one;
//! - signed out (the sign-up and log-in forms): a random pre-session id in
//!   its own cookie, renewed at every log-in, so a token planted before a
//!   log-in is worth nothing after it.
//!
//! Nobody can make a token without the key, whatever cookies they can
//! set; with `Secure` cookies their names carry the `__Host-` prefix, so
//! a neighbouring subdomain cannot plant them either. The key comes from
//! the config (shared by every webd behind one balancer) or, when unset,
//! is random per process (forms then expire with the process).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// What a token is bound to.
#[derive(Clone, Copy)]
pub enum Holder<'a> {
    /// The session cookie's token.
    Session(&'a str),
    /// The pre-session cookie's id.
    PreSession(&'a str),
}

#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl CsrfKey {
    /// The key from the config (at least 32 bytes), or a random one when
    /// `configured` is empty.
    pub fn new(configured: &str) -> Result<CsrfKey, String> {
        let mut key = [0u8; 32];
        if configured.is_empty() {
            getrandom::fill(&mut key).map_err(|e| e.to_string())?;
            return Ok(CsrfKey(key));
        }
        if configured.len() < 32 {
            return Err("csrf_key must be at least 32 bytes".into());
        }
        // Any length in, 32 bytes out.
        let mut mac = Hmac::<Sha256>::new_from_slice(configured.as_bytes())
            .expect("HMAC takes any key length");
        mac.update(b"throng webd csrf key v1");
        key.copy_from_slice(&mac.finalize().into_bytes());
        Ok(CsrfKey(key))
    }

    /// The token for `holder`: 32 hex digits (128 bits).
    pub fn token(&self, holder: Holder<'_>) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        let (tag, value) = match holder {
            Holder::Session(v) => (&b"session\0"[..], v),
            Holder::PreSession(v) => (&b"pre-session\0"[..], v),
        };
        mac.update(tag);
        mac.update(value.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// Whether `shown` is `holder`'s token (constant time).
    pub fn check(&self, holder: Holder<'_>, shown: &str) -> bool {
        let expected = self.token(holder);
        expected.len() == shown.len() && bool::from(expected.as_bytes().ct_eq(shown.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_only_for_its_holder_and_key() {
        let key = CsrfKey::new("a-csrf-key-of-at-least-thirty-two-bytes").unwrap();
        let t = key.token(Holder::Session("r.abc"));
        assert_eq!(t.len(), 32);
        assert!(key.check(Holder::Session("r.abc"), &t));
        assert!(!key.check(Holder::Session("r.abd"), &t));
        assert!(
            !key.check(Holder::PreSession("r.abc"), &t),
            "purposes differ"
        );
        let other = CsrfKey::new("another-csrf-key-of-at-least-32-bytes").unwrap();
        assert!(!other.check(Holder::Session("r.abc"), &t));
        assert!(CsrfKey::new("short").is_err());
        let random = CsrfKey::new("").unwrap();
        assert!(!random.check(Holder::Session("r.abc"), &t));
    }
}
