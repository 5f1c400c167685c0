//! A user as authd works with it (account and profile), and its compact
//! cache encoding.

/// One account with its profile.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: u64,
    pub uuid: [u8; 16],
    pub username: String,
    pub email: Option<String>,
    /// The argon2id PHC string.
    pub pwhash: String,
    pub nickname: String,
    pub avatar: Option<String>,
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

impl User {
    pub fn uuid_hex(&self) -> String {
        hex::encode(self.uuid)
    }

    /// The cache encoding.
    pub fn encode(&self) -> String {
        [
            self.id.to_string(),
            self.uuid_hex(),
            self.username.clone(),
            self.email.clone().unwrap_or_default(),
            self.pwhash.clone(),
            self.nickname.clone(),
            self.avatar.clone().unwrap_or_default(),
        ]
        .join(&SEP.to_string())
    }

    /// Parses the cache encoding; `None` for anything else (a stale or
    /// foreign value is treated as a cache miss).
    pub fn decode(text: &str) -> Option<User> {
        let f: Vec<&str> = text.split(SEP).collect();
        if f.len() != 7 {
            return None;
        }
        let mut uuid = [0u8; 16];
        hex::decode_to_slice(f[1], &mut uuid).ok()?;
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Some(User {
            id: f[0].parse().ok()?,
            uuid,
            username: f[2].to_owned(),
            email: opt(f[3]),
            pwhash: f[4].to_owned(),
            nickname: f[5].to_owned(),
            avatar: opt(f[6]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_encoding_round_trips_unicode() {
        let u = User {
            id: 7,
            uuid: [3; 16],
            username: "alice".into(),
            email: None,
            pwhash: "$argon2id$v=19$m=19456,t=2,p=1$abc$def".into(),
            nickname: "小明 🐱 a|b".into(),
            avatar: Some("ab".repeat(32)),
        };
        assert_eq!(User::decode(&u.encode()), Some(u));
        assert_eq!(User::decode("garbage"), None);
    }
}
