//! The two JWS algorithms the provider signs with (RS256 and EdDSA), as
//! `jwt-compact` algorithms whose keys are `aws-lc-rs` key pairs parsed
//! once. `jwt-compact` writes the JOSE header and the compact form;
//! aws-lc-rs does the cryptography.
//!
//! Why aws-lc-rs: signing is most of the CPU of a code exchange, and on
//! this machine (Xeon with AVX-512 IFMA) aws-lc signs an RSA-2048 token in
//! about half the time ring does and an Ed25519 one in about half the
//! time ed25519-dalek does (bench/RESULTS.md, "Signing with aws-lc-rs").

use aws_lc_rs::signature::{self, Ed25519KeyPair, RsaKeyPair, UnparsedPublicKey};
use jwt_compact::{Algorithm, AlgorithmSignature};
use std::borrow::Cow;
use std::num::NonZeroUsize;

/// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
#[derive(Debug, Clone, Copy)]
pub struct Rs256;

/// Ed25519 (RFC 8037).
#[derive(Debug, Clone, Copy)]
pub struct EdDsa;

/// An RSA signature: as long as the key's modulus. Empty when signing
/// failed, which `jwt-compact`'s infallible `sign` cannot say otherwise;
/// [`signed_or_error`] turns that into an error.
#[derive(Debug)]
pub struct RsaSignature(Vec<u8>);

/// An Ed25519 signature.
#[derive(Debug)]
pub struct Ed25519Signature([u8; 64]);

impl AlgorithmSignature for RsaSignature {
    fn try_from_slice(slice: &[u8]) -> anyhow::Result<Self> {
        Ok(Self(slice.to_vec()))
    }

    fn as_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.0)
    }
}

impl AlgorithmSignature for Ed25519Signature {
    const LENGTH: Option<NonZeroUsize> = NonZeroUsize::new(64);

    fn try_from_slice(slice: &[u8]) -> anyhow::Result<Self> {
        let bytes: [u8; 64] = slice
            .try_into()
            .map_err(|_| anyhow::anyhow!("an Ed25519 signature is 64 bytes"))?;
        Ok(Self(bytes))
    }

    fn as_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.0)
    }
}

/// A public key as aws-lc-rs reads it: DER `RSAPublicKey` for RSA, the
/// 32 raw bytes for Ed25519.
pub struct PublicKeyBytes(pub Vec<u8>);

impl Algorithm for Rs256 {
    type SigningKey = RsaKeyPair;
    type VerifyingKey = PublicKeyBytes;
    type Signature = RsaSignature;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("RS256")
    }

    fn sign(&self, key: &RsaKeyPair, message: &[u8]) -> RsaSignature {
        let mut out = vec![0u8; key.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match key.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut out) {
            Ok(()) => RsaSignature(out),
            Err(_) => RsaSignature(Vec::new()),
        }
    }

    fn verify_signature(
        &self,
        signature: &RsaSignature,
        key: &PublicKeyBytes,
        message: &[u8],
    ) -> bool {
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &key.0)
            .verify(message, &signature.0)
            .is_ok()
    }
}

impl Algorithm for EdDsa {
    type SigningKey = Ed25519KeyPair;
    type VerifyingKey = PublicKeyBytes;
    type Signature = Ed25519Signature;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("EdDSA")
    }

    fn sign(&self, key: &Ed25519KeyPair, message: &[u8]) -> Ed25519Signature {
        let mut bytes = [0u8; 64];
        bytes.copy_from_slice(key.sign(message).as_ref());
        Ed25519Signature(bytes)
    }

    fn verify_signature(
        &self,
        signature: &Ed25519Signature,
        key: &PublicKeyBytes,
        message: &[u8],
    ) -> bool {
        UnparsedPublicKey::new(&signature::ED25519, &key.0)
            .verify(message, &signature.0)
            .is_ok()
    }
}

/// `token`, unless its signature is empty (an RSA signing failure).
pub fn signed_or_error(token: String) -> Result<String, String> {
    if token.ends_with('.') {
        Err("signing failed".into())
    } else {
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::KeyPair;
    use jwt_compact::{AlgorithmExt, Claims, Header, UntrustedToken};

    /// The public half of a key pair, in the form [`PublicKeyBytes`] wants.
    fn public_key_of<K: KeyPair>(pair: &K) -> PublicKeyBytes
    where
        K::PublicKey: AsRef<[u8]>,
    {
        PublicKeyBytes(pair.public_key().as_ref().to_vec())
    }

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Body {
        sub: String,
    }

    fn round_trip<A>(alg: A, key: &A::SigningKey, public: &A::VerifyingKey)
    where
        A: Algorithm,
    {
        let claims = Claims::new(Body { sub: "ada".into() });
        let token = alg
            .token(&Header::empty().with_key_id("k1"), &claims, key)
            .unwrap();
        let token = signed_or_error(token).unwrap();
        let untrusted = UntrustedToken::new(&token).unwrap();
        assert_eq!(untrusted.algorithm(), alg.name());
        let checked = alg
            .validator::<Body>(public)
            .validate(&untrusted)
            .expect("verifies");
        assert_eq!(checked.claims().custom.sub, "ada");

        // Another subject under the same signature does not verify.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_body = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"sub":"eve"}"#,
        );
        parts[1] = &forged_body;
        let forged = parts.join(".");
        let untrusted = UntrustedToken::new(&forged).unwrap();
        assert!(alg.validator::<Body>(public).validate(&untrusted).is_err());
    }

    #[test]
    fn either_algorithm_signs_what_its_public_key_verifies_and_nothing_else() {
        let (_, _, rsa_der) = super::super::signing::make_key("RS256").unwrap();
        let rsa = RsaKeyPair::from_der(&rsa_der).unwrap();
        round_trip(Rs256, &rsa, &public_key_of(&rsa));

        let (_, _, ed_pkcs8) = super::super::signing::make_key("EdDSA").unwrap();
        let ed = Ed25519KeyPair::from_pkcs8(&ed_pkcs8).unwrap();
        round_trip(EdDsa, &ed, &public_key_of(&ed));
    }

    #[test]
    fn a_wrong_length_ed25519_signature_is_refused() {
        assert!(Ed25519Signature::try_from_slice(&[0u8; 63]).is_err());
    }
}
