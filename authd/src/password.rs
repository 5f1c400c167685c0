//! Passwords: argon2id with a per-user salt for what is stored, and the
//! keyed fast verifier (HMAC-SHA256 under its own key, `keys::Keys`) of a recently
//! verified password, kept in Redis so repeated sign-ins cost microseconds
//! while the stored hash stays slow (the mod_authn_socache idea).
//!
//! The verifier binds the user id and the stored hash, so a changed password
//! (a new hash) invalidates every verifier of the old one by itself.

use crate::config::Argon2Config;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Hashes and verifies with the configured argon2id parameters.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
}

impl Passwords {
    pub fn new(cfg: &Argon2Config) -> Result<Passwords, String> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| format!("argon2 parameters: {e}"))?;
        Ok(Passwords { params })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=…`) with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, String> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    }

    /// Checks a password against a stored PHC string (its own parameters
    /// apply, so raising them later keeps old hashes valid).
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(parsed) => self
                .argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// The fast verifier of (user, stored hash, password), hex.
pub fn fast_verifier(secret: &[u8], user_id: u64, pw_fingerprint: &str, password: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"throng-fv2\0");
    mac.update(&user_id.to_be_bytes());
    mac.update(pw_fingerprint.as_bytes());
    mac.update(b"\0");
    mac.update(password.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub use throng_core::node_token::same;

/// SHA-256 of a token: what the stores keep instead of the token itself.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Passwords {
        Passwords::new(&Argon2Config {
            memory_kib: 1024,
            iterations: 1,
            ..Argon2Config::default()
        })
        .unwrap()
    }

    #[test]
    fn hash_then_verify() {
        let p = cheap();
        let phc = p.hash("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(p.verify("correct horse", &phc));
        assert!(!p.verify("wrong horse", &phc));
        assert!(!p.verify("x", "not a phc string"));
        assert_ne!(phc, p.hash("correct horse").unwrap(), "salts differ");
    }

    #[test]
    fn verifiers_bind_user_hash_and_password() {
        let s = b"0123456789abcdef0123456789abcdef";
        let v = fast_verifier(s, 1, "h", "pw");
        assert!(same(&v, &fast_verifier(s, 1, "h", "pw")));
        assert!(!same(&v, &fast_verifier(s, 2, "h", "pw")));
        assert!(!same(&v, &fast_verifier(s, 1, "h2", "pw")));
        assert!(!same(&v, &fast_verifier(s, 1, "h", "pw2")));
        assert!(!same(&v, &fast_verifier(b"another secret", 1, "h", "pw")));
    }

    #[test]
    fn defaults_are_no_weaker_than_owasp() {
        let d = Argon2Config::default();
        assert!(d.memory_kib >= 19 * 1024 && d.iterations >= 2 && d.parallelism >= 1);
    }
}
