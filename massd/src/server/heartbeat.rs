//! The heartbeat authd's TryLogin reads to pick the least-loaded live node.
//! Every interval: `SET <prefix>massd:node:<id> "<host> <port> <conns>" EX
//! <ttl>` and `SADD <prefix>massd:nodes <id>` in one pipeline. A node that
//! stops deletes its key; one that dies is forgotten when the TTL runs out.
//! Redis being away only costs a warning per minute: the counters do not
//! depend on it.

use crate::config::HeartbeatConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use throng_core::server::ShutdownTrigger;
use throng_redis::{RedisLink, RedisTarget};

/// The key of a node's heartbeat.
pub fn node_key(prefix: &str, node_id: &str) -> String {
    format!("{prefix}massd:node:{node_id}")
}

/// The set of announced node ids.
pub fn nodes_key(prefix: &str) -> String {
    format!("{prefix}massd:nodes")
}

/// A running heartbeat thread.
pub struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Connect, read and write deadline of the heartbeat's Redis calls.
const TIMEOUT: Duration = Duration::from_secs(2);

impl Heartbeat {
    /// Starts beating for `node_id` at `host:port`, counting the
    /// connections `trigger` sees.
    pub fn start(
        config: &HeartbeatConfig,
        node_id: String,
        host: String,
        port: u16,
        trigger: ShutdownTrigger,
    ) -> Result<Heartbeat, redis::RedisError> {
        let client = RedisTarget::open(&config.redis_url, config.redis_cluster, TIMEOUT)?;
        let stop = Arc::new(AtomicBool::new(false));
        let beat = Beat {
            client,
            key: node_key(&config.prefix, &node_id),
            nodes: nodes_key(&config.prefix),
            node_id,
            host,
            port,
            interval: config.interval,
            ttl: config.ttl.as_secs().max(1),
            trigger,
            stop: stop.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("heartbeat".into())
            .spawn(move || beat.run())
            .map_err(|e| redis::RedisError::from(std::io::Error::other(e)))?;
        Ok(Heartbeat {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops beating and deletes the node's key.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.halt();
    }
}

struct Beat {
    client: RedisTarget,
    key: String,
    nodes: String,
    node_id: String,
    host: String,
    port: u16,
    interval: Duration,
    ttl: u64,
    trigger: ShutdownTrigger,
    stop: Arc<AtomicBool>,
}

impl Beat {
    fn run(self) {
        let mut conn: Option<RedisLink> = None;
        let mut last_warning: Option<Instant> = None;
        while !self.stop.load(Ordering::Acquire) {
            if let Err(e) = self.beat(&mut conn) {
                conn = None;
                if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                    log::warn!(
                        "heartbeat to Redis failed: {e}; retrying every {:?}",
                        self.interval
                    );
                    last_warning = Some(Instant::now());
                }
            }
            self.sleep();
        }
        if let Some(c) = conn.as_mut() {
            let _: Result<(), _> = redis::pipe()
                .del(&self.key)
                .srem(&self.nodes, &self.node_id)
                .query(c);
        }
    }

    fn beat(&self, conn: &mut Option<RedisLink>) -> redis::RedisResult<()> {
        if conn.is_none() {
            *conn = Some(self.client.connect(TIMEOUT)?);
        }
        let c = conn.as_mut().expect("connected above");
        let value = format!(
            "{} {} {}",
            self.host,
            self.port,
            self.trigger.open_connections()
        );
        redis::pipe()
            .set_ex(&self.key, value, self.ttl)
            .ignore()
            .sadd(&self.nodes, &self.node_id)
            .ignore()
            .query(c)
    }

    /// Sleeps one interval, waking early when asked to stop.
    fn sleep(&self) {
        let until = Instant::now() + self.interval;
        while !self.stop.load(Ordering::Acquire) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }
}
