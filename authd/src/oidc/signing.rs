//! The provider's signing keys: one RS256 key (RSA 2048, what every client
//! supports) and one EdDSA key (Ed25519, fast) that sign, plus every key
//! that still verifies tokens already issued. Each has a `kid`; the JWKS
//! publishes the public halves. Private halves live sealed in MariaDB
//! ([`super::seal`]), so every authd of a cluster signs with the same keys.
//!
//! Rotation without breaking anything: a new key is published at once but
//! signs only once it is `oidc.key_publish_ahead` old (every authd reloads
//! its key set every `oidc.key_reload`, and clients that cache the JWKS
//! fetch it again on an unknown `kid`); a retired key stops signing and
//! stays published until every token it signed has expired. Tokens are
//! signed by `jwt-compact` with `aws-lc-rs` key pairs parsed once per key
//! ([`super::jws_algorithms`]); they are verified by `jsonwebtoken` (ring).
//! Keys are made by `rsa` and ring.
use super::{jws_algorithms, seal};
use crate::store::db::Db;
use crate::store::oidc::StoredKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::json;
use std::time::Duration;

/// The algorithms the provider signs with, by their JOSE names.
pub const ALGORITHMS: &[&str] = &["RS256", "EdDSA"];

/// One key, ready to sign (when it may) and to verify.
pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    signer: Signer,
    decoding: DecodingKey,
    created_ms: u64,
    retired_ms: Option<u64>,
    public_jwk: serde_json::Value,
}

/// The private half, parsed once: `jsonwebtoken` would parse its key
/// again for every signature, which for Ed25519 means deriving the public
/// key — measured with perf, as much CPU as the signature itself.
enum Signer {
    Rsa(aws_lc_rs::signature::RsaKeyPair),
    Ed25519(aws_lc_rs::signature::Ed25519KeyPair),
}

/// Every key the provider holds: the ones that sign and the ones that
/// only verify, and the JWKS text of those published.
pub struct KeySet {
    keys: Vec<SigningKey>,
    jwks: String,
    /// How long a key is published before it signs (ms).
    ahead_ms: u64,
}

/// Why the key set could not be made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("mysql: {0}")]
    Mysql(#[from] mysql::Error),
    #[error("making a key: {0}")]
    Make(String),
}

fn algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "RS256" => Some(Algorithm::RS256),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

fn random_kid(alg: &str) -> Result<String, KeyError> {
    let mut raw = [0u8; 12];
    getrandom::fill(&mut raw).map_err(|e| KeyError::Make(e.to_string()))?;
    let tag = if alg == "RS256" { "rs" } else { "ed" };
    Ok(format!("{tag}-{}", URL_SAFE_NO_PAD.encode(raw)))
}

/// A new key of `alg`: its kid, public JWK and private half (PKCS#1 DER
/// for RSA, PKCS#8 for Ed25519).
pub fn make_key(alg: &str) -> Result<(String, serde_json::Value, Vec<u8>), KeyError> {
    let kid = random_kid(alg)?;
    match alg {
        "RS256" => {
            use rsa::pkcs1::EncodeRsaPrivateKey;
            use rsa::traits::PublicKeyParts;
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                .map_err(|e| KeyError::Make(e.to_string()))?;
            let der = key
                .to_pkcs1_der()
                .map_err(|e| KeyError::Make(e.to_string()))?;
            let jwk = json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
            });
            Ok((kid, jwk, der.as_bytes().to_vec()))
        }
        "EdDSA" => {
            use ring::signature::{Ed25519KeyPair, KeyPair};
            let rng = ring::rand::SystemRandom::new();
            let pkcs8 =
                Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| KeyError::Make(e.to_string()))?;
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                .map_err(|e| KeyError::Make(e.to_string()))?;
            let jwk = json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            });
            Ok((kid, jwk, pkcs8.as_ref().to_vec()))
        }
        other => Err(KeyError::Make(format!("no algorithm {other}"))),
    }
}

/// Makes a key of `alg`, seals it and stores it; its kid.
pub fn add_key(db: &Db, seal_key: &[u8; 32], alg: &str) -> Result<String, KeyError> {
    let (kid, jwk, private) = make_key(alg)?;
    let sealed = seal::seal(seal_key, &kid, &private).map_err(|e| KeyError::Make(e.to_string()))?;
    db.add_signing_key(&kid, alg, &jwk.to_string(), &sealed)?;
    Ok(kid)
}

fn ready(stored: &StoredKey, seal_key: &[u8; 32]) -> Result<SigningKey, String> {
    let alg = algorithm(&stored.alg).ok_or_else(|| format!("unknown alg {}", stored.alg))?;
    let private =
        seal::open(seal_key, &stored.kid, &stored.private_sealed).map_err(|e| e.to_string())?;
    let jwk: serde_json::Value =
        serde_json::from_str(&stored.public_jwk).map_err(|e| e.to_string())?;
    let field = |name: &str| jwk[name].as_str().unwrap_or("").to_owned();
    let (signer, decoding) = match alg {
        Algorithm::RS256 => {
            use aws_lc_rs::signature::KeyPair;
            let pair =
                aws_lc_rs::signature::RsaKeyPair::from_der(&private).map_err(|e| e.to_string())?;
            let public = pair.public_key();
            let modulus =
                URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
            let exponent =
                URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
            if modulus != field("n") || exponent != field("e") {
                return Err("the private key is not the published one's".into());
            }
            (
                Signer::Rsa(pair),
                DecodingKey::from_rsa_components(&field("n"), &field("e"))
                    .map_err(|e| e.to_string())?,
            )
        }
        _ => {
            use aws_lc_rs::signature::KeyPair;
            let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&private)
                .map_err(|e| e.to_string())?;
            if URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()) != field("x") {
                return Err("the private key is not the published one's".into());
            }
            (
                Signer::Ed25519(pair),
                DecodingKey::from_ed_components(&field("x")).map_err(|e| e.to_string())?,
            )
        }
    };
    Ok(SigningKey {
        kid: stored.kid.clone(),
        alg,
        signer,
        decoding,
        created_ms: stored.created_ms,
        retired_ms: stored.retired_ms,
        public_jwk: jwk,
    })
}

impl KeySet {
    /// The key set in the database, with a signing key of every algorithm
    /// made first where there is none. Keys retired longer ago than
    /// `verify_for` are no longer published. A key that does not open
    /// (sealed under another master key) is left out and said in the log.
    pub fn load(
        db: &Db,
        seal_key: &[u8; 32],
        verify_for: Duration,
        ahead: Duration,
    ) -> Result<KeySet, KeyError> {
        let mut stored = db.signing_keys()?;
        let mut made = false;
        let now = crate::records::now_ms();
        for alg in ALGORITHMS {
            let usable = stored.iter().any(|k| {
                k.alg == *alg
                    && k.retired_ms.is_none_or(|r| r > now)
                    && seal::open(seal_key, &k.kid, &k.private_sealed).is_ok()
            });
            if !usable {
                let kid = add_key(db, seal_key, alg)?;
                log::info!("made signing key {kid} ({alg})");
                made = true;
            }
        }
        if made {
            stored = db.signing_keys()?;
        }
        let ahead_ms = ahead.as_millis() as u64;
        let horizon = verify_for.as_millis() as u64 + ahead_ms;
        let keys: Vec<SigningKey> = stored
            .iter()
            .filter(|k| k.retired_ms.is_none_or(|r| now.saturating_sub(r) < horizon))
            .filter_map(|k| match ready(k, seal_key) {
                Ok(key) => Some(key),
                Err(e) => {
                    log::warn!("signing key {} left out: {e}", k.kid);
                    None
                }
            })
            .collect();
        let jwks = json!({ "keys": keys.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>() });
        Ok(KeySet {
            keys,
            jwks: jwks.to_string(),
            ahead_ms,
        })
    }

    /// The published keys as a JWKS (RFC 7517) object.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    /// The key that signs with `alg` now: among those not retired (a key
    /// is retired `key_publish_ahead` after the rotation that replaced it,
    /// so it signs until its successor has been published that long), the
    /// newest published at least that long ago, else the oldest.
    pub fn signer(&self, alg: Algorithm) -> Option<&SigningKey> {
        let now = crate::records::now_ms();
        let ahead = self.ahead_ms;
        let active: Vec<&SigningKey> = self
            .keys
            .iter()
            .filter(|k| k.alg == alg && k.retired_ms.is_none_or(|r| r > now))
            .collect();
        active
            .iter()
            .filter(|k| now.saturating_sub(k.created_ms) >= ahead)
            .max_by_key(|k| k.created_ms)
            .or_else(|| active.iter().min_by_key(|k| k.created_ms))
            .copied()
    }

    /// `claims` signed as a JWT of type `typ` with the key for `alg`.
    pub fn sign<T: serde::Serialize>(
        &self,
        alg: Algorithm,
        typ: &str,
        claims: &T,
    ) -> Result<String, String> {
        use jwt_compact::AlgorithmExt;
        let key = self.signer(alg).ok_or("no signing key")?;
        let header = jwt_compact::Header::empty()
            .with_key_id(key.kid.clone())
            .with_token_type(typ);
        let claims = jwt_compact::Claims::new(claims);
        let token = match &key.signer {
            Signer::Ed25519(pair) => jws_algorithms::EdDsa.token(&header, &claims, pair),
            Signer::Rsa(pair) => jws_algorithms::Rs256.token(&header, &claims, pair),
        };
        jws_algorithms::signed_or_error(token.map_err(|e| e.to_string())?)
    }

    /// The claims of a JWT this provider signed (any published key), with
    /// `validation` applied; `None` for anything else.
    pub fn verify<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        validation: impl Fn(Algorithm) -> Validation,
    ) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let kid = header.kid?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid && k.alg == header.alg)?;
        jsonwebtoken::decode::<T>(token, &key.decoding, &validation(key.alg))
            .ok()
            .map(|d| d.claims)
    }
}

/// Algorithm of a client's `id_token_alg` (RS256 when unknown).
pub fn client_algorithm(name: &str) -> Algorithm {
    algorithm(name).unwrap_or(Algorithm::RS256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(alg: &str) -> (StoredKey, [u8; 32]) {
        let seal_key = [7u8; 32];
        let (kid, jwk, private) = make_key(alg).unwrap();
        let sealed = seal::seal(&seal_key, &kid, &private).unwrap();
        let key = StoredKey {
            kid,
            alg: alg.into(),
            public_jwk: jwk.to_string(),
            private_sealed: sealed,
            created_ms: 0,
            retired_ms: None,
        };
        (key, seal_key)
    }

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Claims {
        iss: String,
        aud: String,
        exp: u64,
    }

    #[test]
    fn tokens_of_either_algorithm_verify_against_the_published_key() {
        let claims = Claims {
            iss: "https://id.example".into(),
            aud: "app".into(),
            exp: crate::records::now_ms() / 1000 + 60,
        };
        for (name, alg) in [("RS256", Algorithm::RS256), ("EdDSA", Algorithm::EdDSA)] {
            let (key, seal_key) = stored(name);
            let set = KeySet {
                keys: vec![ready(&key, &seal_key).unwrap()],
                jwks: String::new(),
                ahead_ms: 0,
            };
            let token = set.sign(alg, "JWT", &claims).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.alg, alg);
            assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
            assert_eq!(header.typ.as_deref(), Some("JWT"));
            let validation = |alg| {
                let mut v = Validation::new(alg);
                v.set_audience(&["app"]);
                v
            };
            let got: Claims = set.verify(&token, validation).expect("verifies");
            assert_eq!(got, claims);
            // One changed byte of the payload, and it no longer does.
            let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
            parts[1] = URL_SAFE_NO_PAD
                .encode(br#"{"iss":"https://id.example","aud":"app","exp":9999999999}"#);
            let forged = parts.join(".");
            assert!(set.verify::<Claims>(&forged, validation).is_none());
        }
    }

    #[test]
    fn a_private_key_that_is_not_the_published_ones_is_refused() {
        for alg in ["EdDSA", "RS256"] {
            let (mut key, seal_key) = stored(alg);
            assert!(ready(&key, &seal_key).is_ok());
            let (other, _) = stored(alg);
            key.public_jwk = other.public_jwk;
            assert!(ready(&key, &seal_key).is_err(), "{alg}");
        }
    }
}
