//! A grant's first refresh token, derived from the grant instead of
//! stored.
//!
//! Why: a code exchange wrote two rows, its grant and its first refresh
//! token, and the token's row (a random primary key, an index on its
//! grant, a foreign key) was about half of MariaDB's work per exchange
//! (perf: `ha_write_row` is half of mariadbd's CPU on the exchange
//! benchmark). Many grants are never refreshed at all.
//!
//! How: the token is the grant id followed by an HMAC-SHA256, under a key
//! derived from the master key for this purpose alone, of the grant's id,
//! user, client, session and sign-in time. Only authd can make one, and a
//! token made for one grant never passes for another, even one that got
//! the same id after the first was deleted. Its first use is recorded on
//! the grant (`first_refresh_used_at`), by the UPDATE that makes rotation
//! atomic: a second use finds it set (or loses the race for it) and ends
//! the grant, as for any refresh token. Its life runs from the grant's
//! creation, by the configured `refresh_token_ttl` of the moment it is
//! presented (a changed TTL applies to unused first tokens too).
//!
//! The grant id is in the token in the clear: it tells the client when
//! its own grant was made (to the millisecond, which it knows anyway) and
//! the 22-bit tag of the authd process that made it. Nothing accepts a
//! grant id alone; a guessed id with a made-up MAC is refused like any
//! unknown token.

use crate::store::oidc::Grant;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Grant id (8 bytes) and the MAC (32 bytes), before base64.
const RAW_LEN: usize = 8 + 32;

fn mac_of(key: &[u8; 32], grant: &Grant) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(&grant.id.to_be_bytes());
    mac.update(&grant.user_id.to_be_bytes());
    mac.update(&grant.auth_time.to_be_bytes());
    // Lengths first, so no two (client, sid) pairs run together alike.
    for part in [grant.client_id.as_bytes(), grant.sid.as_bytes()] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac
}

/// The first refresh token of `grant` (without the refresh prefix).
pub fn token(key: &[u8; 32], grant: &Grant) -> String {
    let mut raw = [0u8; RAW_LEN];
    raw[..8].copy_from_slice(&grant.id.to_be_bytes());
    raw[8..].copy_from_slice(&mac_of(key, grant).finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(raw)
}

/// The grant id a token (without the refresh prefix) claims to be the
/// first refresh token of; `None` when it has not that form (a stored
/// token is 32 random bytes). Nothing is checked: see [`matches`].
pub fn claimed_grant(token: &str) -> Option<u64> {
    // Length first: a long input is never decoded.
    if token.len() != (RAW_LEN * 4).div_ceil(3) {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    let id: [u8; 8] = raw.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(id))
}

/// Whether `token` (without the refresh prefix) is `grant`'s first
/// refresh token; the MAC is compared in constant time.
pub fn matches(key: &[u8; 32], token: &str, grant: &Grant) -> bool {
    let Ok(raw) = URL_SAFE_NO_PAD.decode(token) else {
        return false;
    };
    if raw.len() != RAW_LEN || raw[..8] != grant.id.to_be_bytes() {
        return false;
    }
    mac_of(key, grant).verify_slice(&raw[8..]).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(id: u64) -> Grant {
        Grant {
            id,
            user_id: 7,
            client_id: "app".into(),
            scope: "openid".into(),
            sid: "0123456789abcdef0123456789abcdef".into(),
            auth_time: 1_700_000_000,
            revoked: false,
        }
    }

    #[test]
    fn a_first_token_names_its_grant_and_matches_only_it() {
        let key = [3u8; 32];
        let g = grant(0x0123_4567_89ab_cdef);
        let t = token(&key, &g);
        assert_eq!(claimed_grant(&t), Some(g.id));
        assert!(matches(&key, &t, &g));
        // Another key, or a grant that differs in anything the MAC covers.
        assert!(!matches(&[4u8; 32], &t, &g));
        let others = [
            Grant {
                user_id: 8,
                ..g.clone()
            },
            Grant {
                client_id: "app2".into(),
                ..g.clone()
            },
            Grant {
                sid: "f".repeat(32),
                ..g.clone()
            },
            Grant {
                auth_time: 1,
                ..g.clone()
            },
            Grant {
                id: g.id + 1,
                ..g.clone()
            },
        ];
        for other in &others {
            assert!(!matches(&key, &t, other), "{other:?}");
        }
    }

    #[test]
    fn tokens_of_other_forms_claim_no_grant_and_match_nothing() {
        let key = [3u8; 32];
        let g = grant(42);
        let good = token(&key, &g);
        // A stored token's form (32 random bytes), a truncated or
        // lengthened one, bad base64, one changed character.
        let stored = URL_SAFE_NO_PAD.encode([9u8; 32]);
        let mut changed: Vec<u8> = good.clone().into_bytes();
        let last = changed.len() - 1;
        changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(changed).unwrap();
        for bad in [
            stored.as_str(),
            &good[..good.len() - 1],
            &format!("{good}A"),
            &format!("{}*", &good[..good.len() - 1]),
            "",
        ] {
            assert_eq!(claimed_grant(bad), None, "{bad}");
            assert!(!matches(&key, bad, &g), "{bad}");
        }
        assert_eq!(claimed_grant(&changed), Some(42));
        assert!(!matches(&key, &changed, &g));
    }
}
