//! Redis access for one worker: one connection, every key under the
//! configured prefix, and the outage rule — when Redis fails, callers get
//! `None` and fall back (reads to MySQL) or answer `unavailable`; the
//! outage is logged once, not per request, and the connection is retried
//! at most once a second.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    client: redis::Client,
    conn: Option<redis::Connection>,
    prefix: String,
    health: Arc<Health>,
    retry_at: Option<Instant>,
}

const RETRY: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_millis(1000);

impl Cache {
    pub fn new(url: &str, prefix: &str, health: Arc<Health>) -> Result<Cache, redis::RedisError> {
        Ok(Cache {
            client: redis::Client::open(url)?,
            conn: None,
            prefix: prefix.to_owned(),
            health,
            retry_at: None,
        })
    }

    /// `prefix + family + ":" + id`.
    pub fn key(&self, family: &str, id: &str) -> String {
        format!("{}{family}:{id}", self.prefix)
    }

    /// Runs `f` on the connection; `None` when Redis is unavailable.
    pub fn run<T>(
        &mut self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Option<T> {
        if self.conn.is_none() {
            if self.retry_at.is_some_and(|at| Instant::now() < at) {
                return None;
            }
            match self.client.get_connection_with_timeout(TIMEOUT) {
                Ok(conn) => {
                    let _ = conn.set_read_timeout(Some(TIMEOUT));
                    let _ = conn.set_write_timeout(Some(TIMEOUT));
                    self.conn = Some(conn);
                }
                Err(e) => {
                    self.health.failed(&e);
                    self.retry_at = Some(Instant::now() + RETRY);
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
                if e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_timeout()
                    || e.is_connection_refusal()
                {
                    self.conn = None;
                    self.retry_at = Some(Instant::now() + RETRY);
                    self.health.failed(&e);
                } else {
                    log::warn!("redis command failed: {}", e.kind_name());
                }
                None
            }
        }
    }
}
