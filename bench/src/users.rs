//! The seeded users, as both `bench seed` and the `rpc-*` scenarios know
//! them: `user00000001`…, a password derived from the index through the
//! pool of precomputed hashes, and a Unicode nickname.

/// Precomputed argon2 hashes the seeder reuses (see bench/README.md).
pub const DEFAULT_HASH_POOL: u64 = 100;

pub fn username(i: u64) -> String {
    format!("user{i:08}")
}

/// The password of user `i`: the one hashed in pool slot `i % pool`.
pub fn password(i: u64, pool: u64) -> String {
    password_of_slot(i % pool.max(1))
}

pub fn password_of_slot(slot: u64) -> String {
    format!("seed-password-{slot:04}")
}

/// Nicknames with CJK, emoji, accents and plain ASCII, in turn.
pub fn nickname(i: u64) -> String {
    match i % 4 {
        0 => format!("用户{i}号"),
        1 => format!("🐱 user {i}"),
        2 => format!("Ünïcødé {i}"),
        _ => format!("User {i}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_fields() {
        assert_eq!(username(42), "user00000042");
        assert_eq!(password(101, 100), password(1, 100));
        assert_ne!(password(1, 100), password(2, 100));
        assert!(nickname(4).contains('用'));
        assert!(password(7, 100).len() >= 8);
    }
}
