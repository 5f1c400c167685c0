//! One key per purpose. The master key (`secret`) is used for nothing but
//! deriving: HKDF-SHA256 (RFC 5869) with a label per purpose, so a key
//! that leaks from one use (a fast verifier's key in a core dump, say)
//! says nothing about another. The massd token key is the exception: it
//! is configured on its own (`massd.token_secret`), because every massd
//! host must hold it, and those hosts must hold nothing else of authd's.

use crate::config::Config;
use hkdf::Hkdf;
use sha2::Sha256;

/// The keys authd uses.
pub struct Keys {
    /// Keys the fast verifiers (`password::fast_verifier`).
    pub fast_verifier: [u8; 32],
    /// Keys what Redis keeps of codes: the address in their key names and
    /// the code itself (`worker::codes`).
    pub codes: [u8; 32],
    /// Signs the tokens TryLogin hands out for massd nodes.
    pub massd_token: Vec<u8>,
}

/// The key for `purpose`, derived from `master`.
pub fn derive(master: &[u8], purpose: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(b"throng authd keys v1"), master)
        .expand(purpose.as_bytes(), &mut key)
        .expect("32 bytes is within HKDF-SHA256's output length");
    key
}

impl Keys {
    /// The keys of `cfg` from the master key `master`; refuses a massd
    /// token key shorter than 32 bytes or equal to the master key.
    pub fn new(master: &[u8], cfg: &Config) -> Result<Keys, String> {
        let configured = cfg.massd.token_secret.as_bytes();
        let massd_token = if configured.is_empty() {
            log::warn!(
                "massd.token_secret is not set: massd tokens are signed with a derived key that no massd has, so no node will accept them"
            );
            derive(master, "massd token").to_vec()
        } else if configured.len() < 32 {
            return Err("massd.token_secret must be at least 32 bytes".into());
        } else if configured == master {
            return Err(
                "massd.token_secret must not be the server secret: massd hosts would hold authd's master key".into(),
            );
        } else {
            configured.to_vec()
        };
        Ok(Keys {
            fast_verifier: derive(master, "fast verifier"),
            codes: derive(master, "codes"),
            massd_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_has_its_own_key_and_none_is_the_master() {
        let master = b"a-master-key-of-at-least-32-bytes!!";
        let cfg = Config::default();
        let keys = Keys::new(master, &cfg).unwrap();
        assert_ne!(keys.fast_verifier.as_slice(), keys.massd_token.as_slice());
        assert_ne!(keys.fast_verifier.as_slice(), &master[..32]);
        assert_eq!(derive(master, "fast verifier"), keys.fast_verifier);
        assert_ne!(
            derive(b"another-master-key-of-32-bytes!!!!!", "fast verifier"),
            keys.fast_verifier
        );
    }

    #[test]
    fn the_massd_key_is_its_own() {
        let master = b"a-master-key-of-at-least-32-bytes!!";
        let mut cfg = Config::default();
        cfg.massd.token_secret = "short".into();
        assert!(Keys::new(master, &cfg).is_err());
        cfg.massd.token_secret = String::from_utf8(master.to_vec()).unwrap();
        assert!(Keys::new(master, &cfg).is_err());
        cfg.massd.token_secret = "the-massd-token-key-of-32-bytes!!!".into();
        let keys = Keys::new(master, &cfg).unwrap();
        assert_eq!(keys.massd_token, cfg.massd.token_secret.as_bytes());
    }
}
