//! A user as authd works with it (account and profile), and its compact
//! cache encoding. The cache keeps only what the hot paths need: not the
//! argon2 hash and not the e-mail address, so a copy of Redis (a dump, a
//! replica, the password of it) yields neither. In their place it keeps a
//! fingerprint of the hash, which is all a fast verifier needs to know
//! the password changed; the paths that need the hash or the address load
//! the user from MySQL.

/// One account with its profile.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: u64,
    pub uuid: [u8; 16],
    pub username: String,
    /// `None` from the cache as well as when the account has none.
    pub email: Option<String>,
    /// Whether the account has an address (known from the cache too, so a
    /// mail that needs the address loads it only when there is one).
    pub has_email: bool,
    /// The argon2id PHC string; `None` when the user came from the cache.
    pub pwhash: Option<String>,
    /// [`fingerprint`] of the hash: changes whenever the password does.
    pub pw_fingerprint: String,
    pub nickname: String,
    pub avatar: Option<String>,
    /// An operator locked the account: it cannot sign in.
    pub locked: bool,
    /// The bits of the permissions its roles give
    /// (`authd_wire::ops::Permission`), for showing and hiding; privileged
    /// operations read them from MySQL again.
    pub permissions: u32,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Field separator of the cache encoding: a control character, which no
/// validated field can contain.
const SEP: char = '\u{1f}';

/// A fingerprint of a password hash: the first 16 bytes of its SHA-256,
/// in hex. It reveals nothing a guesser can use (the hash's salt and value
/// stay in MySQL) and changes with every new hash.
pub fn fingerprint(pwhash: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(pwhash.as_bytes())[..16])
}

impl User {
    pub fn uuid_hex(&self) -> String {
        hex::encode(self.uuid)
    }

    /// The cache encoding: no hash, no e-mail (a `v3` tag first, so an
    /// entry written by an older authd is a miss).
    pub fn encode(&self) -> String {
        [
            "v3".to_owned(),
            self.id.to_string(),
            self.uuid_hex(),
            self.username.clone(),
            self.pw_fingerprint.clone(),
            self.nickname.clone(),
            self.avatar.clone().unwrap_or_default(),
            u8::from(self.locked).to_string(),
            self.permissions.to_string(),
            u8::from(self.has_email).to_string(),
        ]
        .join(&SEP.to_string())
    }

    /// Parses the cache encoding; `None` for anything else (a stale or
    /// foreign value is treated as a cache miss).
    pub fn decode(text: &str) -> Option<User> {
        let f: Vec<&str> = text.split(SEP).collect();
        if f.len() != 10 || f[0] != "v3" {
            return None;
        }
        let mut uuid = [0u8; 16];
        hex::decode_to_slice(f[2], &mut uuid).ok()?;
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Some(User {
            id: f[1].parse().ok()?,
            uuid,
            username: f[3].to_owned(),
            email: None,
            pwhash: None,
            pw_fingerprint: f[4].to_owned(),
            nickname: f[5].to_owned(),
            avatar: opt(f[6]),
            locked: match f[7] {
                "0" => false,
                "1" => true,
                _ => return None,
            },
            permissions: f[8].parse().ok()?,
            has_email: match f[9] {
                "0" => false,
                "1" => true,
                _ => return None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_encoding_round_trips_unicode() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$abc$def";
        let u = User {
            id: 7,
            uuid: [3; 16],
            username: "alice".into(),
            email: Some("alice@example.com".into()),
            has_email: true,
            pwhash: Some(hash.into()),
            pw_fingerprint: fingerprint(hash),
            nickname: "小明 🐱 a|b".into(),
            avatar: Some("ab".repeat(32)),
            locked: true,
            permissions: 5,
        };
        let text = u.encode();
        assert!(
            !text.contains("argon2") && !text.contains("example.com"),
            "{text}"
        );
        let back = User::decode(&text).unwrap();
        assert_eq!(
            back,
            User {
                email: None,
                pwhash: None,
                ..u.clone()
            }
        );
        assert_eq!(User::decode("garbage"), None);
        assert_ne!(fingerprint(hash), fingerprint("$argon2id$other"));
    }
}
