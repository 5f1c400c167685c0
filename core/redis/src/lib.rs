//! One Redis connection that is either a single server or a Redis Cluster.
//!
//! authd and massd speak to Redis through the `redis` crate's
//! [`ConnectionLike`]: commands and pipelines are built once and run on
//! whatever connection they are given. [`RedisTarget`] opens the right
//! kind from the configuration — one URL, a single server; several (the
//! cluster's seed nodes) or `cluster = true`, the crate's cluster client,
//! which follows the slot map, `MOVED`/`ASK` redirections and a failover.
//!
//! The cluster client sends a plain pipeline to the node of its first key
//! only, which is wrong as soon as the keys live in different slots (a
//! sign-in batch touches the keys of many accounts and addresses). So a
//! pipeline on a cluster [`RedisLink`] is split per node with the crate's
//! cluster pipeline (one round trip per node, the nodes in turn) and the
//! answers put back in order. A multi-key `MGET` or `DEL`, alone or in a
//! pipeline, becomes one command per key in such a pipeline (the client
//! itself would send one command per slot, one after another: an `MGET`
//! of a batch's keys was hundreds of round trips).
//! Nothing Throng does needs several keys changed atomically, so no
//! command needs its keys in one slot for correctness; keys of one entity
//! share a hash tag where that saves round trips (see the callers).

mod split;

use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Cmd, ConnectionLike, RedisResult, Value};
use std::time::Duration;

/// Where Redis is: a server, or a cluster and its seed nodes.
#[derive(Clone)]
pub enum RedisTarget {
    Single(redis::Client),
    Cluster(ClusterClient),
}

impl RedisTarget {
    /// `urls` is one `redis://` URL or several separated by commas (a
    /// cluster's seed nodes, all with the same user and password); a
    /// single URL is a cluster too when `cluster` says so. Errors never
    /// echo the URL (it holds the password).
    pub fn open(urls: &str, cluster: bool, timeout: Duration) -> RedisResult<RedisTarget> {
        let list: Vec<&str> = urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        if list.len() > 1 || cluster {
            let client = ClusterClient::builder(list)
                .connection_timeout(timeout)
                .response_timeout(timeout)
                // A failover takes a few seconds: fail fast and let the
                // caller fall back (authd to MySQL) rather than block a
                // worker through it.
                .retries(2)
                .min_retry_wait(20)
                .max_retry_wait(200)
                .build()?;
            Ok(RedisTarget::Cluster(client))
        } else {
            Ok(RedisTarget::Single(redis::Client::open(
                list.first().copied().unwrap_or_default(),
            )?))
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self, RedisTarget::Cluster(_))
    }

    /// A connection with `timeout` on connect, reads and writes.
    pub fn connect(&self, timeout: Duration) -> RedisResult<RedisLink> {
        match self {
            RedisTarget::Single(client) => {
                let conn = client.get_connection_with_timeout(timeout)?;
                conn.set_read_timeout(Some(timeout))?;
                conn.set_write_timeout(Some(timeout))?;
                Ok(RedisLink::Single(conn))
            }
            RedisTarget::Cluster(client) => {
                let conn = client.get_connection()?;
                conn.set_read_timeout(Some(timeout))?;
                conn.set_write_timeout(Some(timeout))?;
                Ok(RedisLink::Cluster(Box::new(conn)))
            }
        }
    }
}

/// A connection to a server or to a cluster.
pub enum RedisLink {
    Single(redis::Connection),
    Cluster(Box<ClusterConnection>),
}

impl ConnectionLike for RedisLink {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        match self {
            RedisLink::Single(c) => c.req_packed_command(cmd),
            RedisLink::Cluster(c) => split::run_packed(c, cmd),
        }
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        match self {
            RedisLink::Single(c) => c.req_packed_commands(cmd, offset, count),
            RedisLink::Cluster(c) => split::run_pipeline(c, cmd, offset, count),
        }
    }

    fn req_command(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        match self {
            RedisLink::Single(c) => c.req_command(cmd),
            RedisLink::Cluster(c) => split::run_command(c, cmd),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisLink::Single(c) => c.get_db(),
            RedisLink::Cluster(c) => c.get_db(),
        }
    }

    fn check_connection(&mut self) -> bool {
        match self {
            RedisLink::Single(c) => c.check_connection(),
            RedisLink::Cluster(c) => c.check_connection(),
        }
    }

    fn is_open(&self) -> bool {
        match self {
            RedisLink::Single(c) => c.is_open(),
            RedisLink::Cluster(c) => c.is_open(),
        }
    }
}

/// Whether an error means the store is unreachable (or mid-failover)
/// rather than that a command was wrong: the caller then drops the
/// connection and falls back.
pub fn is_outage(e: &redis::RedisError) -> bool {
    use redis::ErrorKind;
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_timeout()
        || e.is_connection_refusal()
        || e.is_cluster_error()
        || matches!(e.kind(), ErrorKind::ClusterConnectionNotFound)
}
