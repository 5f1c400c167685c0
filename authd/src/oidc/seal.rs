//! Sealing the provider's private signing keys before they are stored in
//! MariaDB: AES-256-GCM (ring) under a key derived from authd's master key
//! for this purpose alone, a fresh random nonce per seal, and the key's
//! `kid` as associated data, so a sealed key moved to another row does not
//! open. A copy of the database alone yields no private key.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

/// Why a sealed key did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the sealed key is too short")]
    Truncated,
    #[error("the sealed key does not open with this master key (another secret, or altered)")]
    WrongKey,
    #[error("no randomness")]
    Random,
}

fn key(seal_key: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, seal_key).expect("32 bytes is AES-256's key"))
}

/// `nonce || ciphertext || tag` of `plain`, bound to `kid`.
pub fn seal(seal_key: &[u8; 32], kid: &str, plain: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| SealError::Random)?;
    let mut data = plain.to_vec();
    key(seal_key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(kid.as_bytes()),
            &mut data,
        )
        .map_err(|_| SealError::WrongKey)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&data);
    Ok(out)
}

/// The plain key of a [`seal`]ed one.
pub fn open(seal_key: &[u8; 32], kid: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(SealError::Truncated);
    }
    let (nonce, data) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Truncated)?;
    let mut data = data.to_vec();
    let plain = key(seal_key)
        .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut data)
        .map_err(|_| SealError::WrongKey)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_with_its_key_and_kid() {
        let (k1, k2) = ([1u8; 32], [2u8; 32]);
        let sealed = seal(&k1, "kid-a", b"private").unwrap();
        assert_eq!(open(&k1, "kid-a", &sealed).unwrap(), b"private");
        assert_eq!(open(&k2, "kid-a", &sealed), Err(SealError::WrongKey));
        assert_eq!(open(&k1, "kid-b", &sealed), Err(SealError::WrongKey));
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(open(&k1, "kid-a", &altered), Err(SealError::WrongKey));
        assert_eq!(open(&k1, "kid-a", &sealed[..10]), Err(SealError::Truncated));
        // Two seals of one key differ (a fresh nonce each).
        assert_ne!(seal(&k1, "kid-a", b"private").unwrap(), sealed);
    }
}
