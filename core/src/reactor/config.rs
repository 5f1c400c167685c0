//! Settings of the reactor part of a daemon, shared by every daemon's config
//! file as its `[reactor]` table.

use super::Placement;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// How a daemon listens, how many reactors it runs and its limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReactorConfig {
    /// Addresses to listen on; every reactor thread opens its own
    /// `SO_REUSEPORT` listener on each, and the kernel spreads connections.
    pub listen: Vec<SocketAddr>,
    /// Reactor threads; 0 means one per core.
    pub threads: usize,
    /// Listen backlog per listener (capped by `net.core.somaxconn`).
    pub backlog: u32,
    /// Open connections allowed across all reactors; beyond it new
    /// connections get the service's refusal message and are closed.
    pub max_connections: usize,
    /// Open connections allowed from one source address; beyond it the
    /// same refusal. 0 turns the cap off (daemons whose peers are other
    /// daemons or a client fleet); webd sets its own.
    pub max_connections_per_ip: usize,
    /// Close a connection quiet for this long; "0s" disables.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// On SIGTERM/SIGINT, how long in-flight work may take to finish.
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
    /// Set `TCP_NODELAY` on accepted sockets.
    pub nodelay: bool,
    /// Capacity of each reactor's queue of replies from workers.
    pub reply_queue: usize,
    /// Size of the per-reactor read buffer that every read goes through.
    pub read_buffer: usize,
    /// Unconsumed input a connection may hold before it is closed.
    pub max_input: usize,
    /// Unsent output a connection may hold before reading from it pauses.
    pub max_output: usize,
    /// Pinning reactors to CPUs and steering connections by CPU (off).
    pub placement: Placement,
}

impl Default for ReactorConfig {
    fn default() -> Self {
        ReactorConfig {
            listen: Vec::new(),
            threads: 0,
            backlog: 4096,
            max_connections: 16_384,
            max_connections_per_ip: 0,
            idle_timeout: Duration::from_secs(120),
            drain_timeout: Duration::from_secs(10),
            nodelay: true,
            reply_queue: 65_536,
            read_buffer: 64 * 1024,
            max_input: 8 * 1024 * 1024,
            max_output: 4 * 1024 * 1024,
            placement: Placement::default(),
        }
    }
}

impl ReactorConfig {
    /// The number of reactor threads this config asks for.
    pub fn thread_count(&self) -> usize {
        crate::cores::or_per_core(self.threads)
    }

    /// The idle timeout, or `None` when disabled.
    pub fn idle(&self) -> Option<Duration> {
        (!self.idle_timeout.is_zero()).then_some(self.idle_timeout)
    }
}
