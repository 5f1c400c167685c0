//! Users, cache-aside: Redis first (one MGET for the whole batch), MySQL
//! for the misses, and the misses written back to Redis (one more
//! pipeline). Every write to a user deletes its cache entries, before and
//! after the MySQL write, so a concurrent reader cannot put back stale data
//! for longer than the tiny window between the two.

use super::Worker;
use crate::store::User;

/// A user lookup's outcome: found, absent, or the stores failed.
pub type Found = Result<Option<User>, ()>;

#[derive(Clone, Copy)]
pub enum By<'a> {
    Name(&'a str),
    Uuid(&'a [u8; 16]),
}

impl Worker {
    fn user_key(&self, by: By<'_>) -> String {
        match by {
            By::Name(name) => self.cache.key("u:n", &name.to_ascii_lowercase()),
            By::Uuid(uuid) => self.cache.key("u:i", &hex::encode(uuid)),
        }
    }

    /// Looks up many users at once.
    pub(super) fn users(&mut self, wanted: &[By<'_>]) -> Vec<Found> {
        // An MGET of no keys is a Redis error (a batch of dead sessions
        // asked for none).
        if wanted.is_empty() {
            return Vec::new();
        }
        let keys: Vec<String> = wanted.iter().map(|b| self.user_key(*b)).collect();
        let cached: Vec<Option<String>> = self
            .cache
            .run(|c| redis::cmd("MGET").arg(&keys).query(c))
            .filter(|got: &Vec<Option<String>>| got.len() == keys.len())
            .unwrap_or_else(|| vec![None; keys.len()]);
        let mut out = Vec::with_capacity(wanted.len());
        let mut fill = Vec::new();
        for (by, hit) in wanted.iter().zip(cached) {
            if let Some(user) = hit.as_deref().and_then(User::decode) {
                out.push(Ok(Some(user)));
                continue;
            }
            let loaded = match by {
                By::Name(name) => self.shared.db.user_by_name(name),
                By::Uuid(uuid) => self.shared.db.user_by_uuid(uuid),
            };
            match loaded {
                Ok(Some(user)) => {
                    fill.push(user.clone());
                    out.push(Ok(Some(user)));
                }
                Ok(None) => out.push(Ok(None)),
                Err(e) => {
                    log::error!("loading a user: {e}");
                    out.push(Err(()));
                }
            }
        }
        if !fill.is_empty() {
            self.cache_users(&fill);
        }
        out
    }

    pub(super) fn user(&mut self, by: By<'_>) -> Found {
        self.users(&[by]).pop().unwrap_or(Err(()))
    }

    /// Puts users into the cache under both keys.
    pub(super) fn cache_users(&mut self, users: &[User]) {
        let ttl = self.shared.cfg.redis.user_ttl.as_secs().max(1);
        let entries: Vec<(String, String, String)> = users
            .iter()
            .map(|u| {
                (
                    self.user_key(By::Name(&u.username)),
                    self.user_key(By::Uuid(&u.uuid)),
                    u.encode(),
                )
            })
            .collect();
        self.cache.run(|c| {
            let mut p = redis::pipe();
            for (by_name, by_uuid, value) in &entries {
                p.set_ex(by_name, value, ttl).ignore();
                p.set_ex(by_uuid, value, ttl).ignore();
            }
            p.query::<()>(c)
        });
    }

    /// Deletes a user's cache entries (and fast verifier); false when Redis
    /// is unavailable ([`crate::store::cache::Cache::forget_user`]).
    pub(super) fn forget_user(&mut self, user: &User, also_verifier: bool) -> bool {
        self.cache.forget_user(user, also_verifier)
    }
}
