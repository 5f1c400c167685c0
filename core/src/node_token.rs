//! The token that admits a user to a massd node: authd's TryLogin signs it,
//! massd checks it offline with the shared secret. It lives in core because
//! both daemons need the exact same format and neither should depend on the
//! other.
//!
//! Format: `v1.<user uuid hex>.<node id>.<expires unix s>.<hmac hex>`, where
//! the HMAC-SHA256 under the secret covers everything before its dot. Node
//! ids must not contain `.`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// HMAC-SHA256 of `message` under `secret`, as lowercase hex.
pub fn sign(secret: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Equality in time that depends only on the length, for secrets.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The token for `uuid_hex` on `node_id`, valid until `expires` (unix s).
pub fn token(secret: &[u8], uuid_hex: &str, node_id: &str, expires: u64) -> String {
    let claims = format!("v1.{uuid_hex}.{node_id}.{expires}");
    let mac = sign(secret, &claims);
    format!("{claims}.{mac}")
}

/// Checks a token for `node_id` at time `now` (unix s); the user's uuid hex
/// when it is authentic, for this node and not expired.
pub fn check_token(secret: &[u8], token: &str, node_id: &str, now: u64) -> Option<String> {
    let (claims, mac) = token.rsplit_once('.')?;
    if !same(&sign(secret, claims), mac) {
        return None;
    }
    let mut f = claims.split('.');
    let (version, uuid, node, expires) = (f.next()?, f.next()?, f.next()?, f.next()?);
    let live = version == "v1"
        && node == node_id
        && expires.parse::<u64>().ok()? >= now
        && f.next().is_none();
    live.then(|| uuid.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_check_out_only_unaltered_for_their_node_and_time() {
        let s = b"secret-secret-secret-secret-1234";
        let t = token(s, "ab12", "node1", 1000);
        assert_eq!(check_token(s, &t, "node1", 999).as_deref(), Some("ab12"));
        assert_eq!(check_token(s, &t, "node2", 999), None);
        assert_eq!(check_token(s, &t, "node1", 1001), None);
        assert_eq!(check_token(b"other", &t, "node1", 999), None);
        assert_eq!(
            check_token(s, &t.replace("ab12", "ab13"), "node1", 999),
            None
        );
        assert_eq!(check_token(s, "garbage", "node1", 0), None);
    }
}
