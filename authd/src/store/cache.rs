//! Redis access for one worker: one connection (to a server or a Redis
//! Cluster, `throng-redis`), every key under the configured prefix, and the outage rule — when Redis fails, callers get
//! `None` and fall back (reads to MySQL) or answer `unavailable`; the
//! outage is logged once, not per request, and the connection is retried
//! at most once a second.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_redis::{RedisLink, RedisTarget};

/// Whether Redis is known to be down, shared by all workers so that an
/// outage is logged once.
#[derive(Debug, Default)]
pub struct Health {
    down: AtomicBool,
}

impl Health {
    fn failed(&self, why: &redis::RedisError) {
        if !self.down.swap(true, Ordering::AcqRel) {
            log::warn!("redis unavailable ({}); reads fall back to MySQL, sessions and codes answer unavailable", why.kind_name());
        }
    }

    fn worked(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            log::info!("redis is answering again");
        }
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for redis::RedisError {
    /// The error category only: a Redis error message could echo a key.
    fn kind_name(&self) -> String {
        format!("{:?}", self.kind())
    }
}

pub struct Cache {
    target: RedisTarget,
    conn: Option<RedisLink>,
    prefix: String,
    health: Arc<Health>,
    retry_at: Option<Instant>,
}

const RETRY: Duration = Duration::from_secs(1);
/// The same for a Redis Cluster: one node failing (a primary until its
/// replica takes over) leaves the other shards working, so the connection
/// is tried again almost at once instead of every key waiting a second.
const CLUSTER_RETRY: Duration = Duration::from_millis(50);
const TIMEOUT: Duration = Duration::from_millis(1000);

impl Cache {
    /// Where Redis is, from `redis.url` and `redis.cluster`.
    pub fn target(url: &str, cluster: bool) -> redis::RedisResult<RedisTarget> {
        RedisTarget::open(url, cluster, TIMEOUT)
    }

    pub fn new(target: RedisTarget, prefix: &str, health: Arc<Health>) -> Cache {
        Cache {
            target,
            conn: None,
            prefix: prefix.to_owned(),
            health,
            retry_at: None,
        }
    }

    /// `prefix + family + ":" + id`.
    pub fn key(&self, family: &str, id: &str) -> String {
        format!("{}{family}:{id}", self.prefix)
    }

    fn retry(&self) -> Duration {
        if self.target.is_cluster() {
            CLUSTER_RETRY
        } else {
            RETRY
        }
    }

    /// Runs `f` on the connection; `None` when Redis is unavailable.
    pub fn run<T>(&mut self, f: impl FnOnce(&mut RedisLink) -> redis::RedisResult<T>) -> Option<T> {
        if self.conn.is_none() {
            if self.retry_at.is_some_and(|at| Instant::now() < at) {
                return None;
            }
            match self.target.connect(TIMEOUT) {
                Ok(conn) => self.conn = Some(conn),
                Err(e) => {
                    self.health.failed(&e);
                    self.retry_at = Some(Instant::now() + self.retry());
                    return None;
                }
            }
        }
        let conn = self.conn.as_mut()?;
        match f(conn) {
            Ok(v) => {
                self.health.worked();
                self.retry_at = None;
                Some(v)
            }
            Err(e) => {
                if throng_redis::is_outage(&e) {
                    self.conn = None;
                    self.retry_at = Some(Instant::now() + self.retry());
                    self.health.failed(&e);
                } else {
                    log::warn!("redis command failed: {}", e.kind_name());
                }
                None
            }
        }
    }

    /// Deletes a user's cache entries (and its fast verifier); false when
    /// Redis is unavailable, so a caller can refuse its write instead of
    /// leaving a stale cache behind.
    pub fn forget_user(&mut self, user: &super::User, also_verifier: bool) -> bool {
        self.forget_account(&user.username, &user.uuid, also_verifier)
    }

    /// [`Cache::forget_user`] by the account's name and uuid (an account
    /// deleted before it was loaded whole).
    pub fn forget_account(&mut self, username: &str, uuid: &[u8; 16], also_verifier: bool) -> bool {
        let name = username.to_ascii_lowercase();
        let mut keys = vec![self.key("u:n", &name), self.key("u:i", &hex::encode(uuid))];
        if also_verifier {
            keys.push(self.key("fv", &name));
        }
        self.run(|c| redis::cmd("DEL").arg(&keys).query::<()>(c))
            .is_some()
    }

    /// Marks every session of the account `uuid` made by `now_ms` as over
    /// (`sv:<uuid>`, kept `max_age_s`: past it every older session is over
    /// anyway); false when Redis is unavailable.
    pub fn mark_sessions_ended(&mut self, uuid: &[u8; 16], now_ms: u64, max_age_s: u64) -> bool {
        let key = self.key("sv", &hex::encode(uuid));
        self.run(|c| {
            redis::cmd("SET")
                .arg(&key)
                .arg(now_ms)
                .arg("EX")
                .arg(max_age_s.max(1))
                .query::<()>(c)
        })
        .is_some()
    }

    /// The key that says an account is locked (`lock:<uuid>`, no expiry,
    /// present only while it is).
    pub fn lock_key(&self, uuid: &[u8; 16]) -> String {
        self.key("lock", &hex::encode(uuid))
    }

    /// Sets or clears the account's lock key; false when Redis is
    /// unavailable.
    pub fn set_lock(&mut self, uuid: &[u8; 16], locked: bool) -> bool {
        let key = self.lock_key(uuid);
        self.run(|c| {
            if locked {
                redis::cmd("SET").arg(&key).arg(1).query::<()>(c)
            } else {
                redis::cmd("DEL").arg(&key).query::<()>(c)
            }
        })
        .is_some()
    }
}
