//! The MariaDB nodes authd may use, in the order it prefers them: one for
//! a single server, the three of a Galera cluster. Every authd writes to
//! the same node (the first that answers, in the configured order), so
//! Galera sees one writer and no certification conflicts between authd
//! processes; when that node stops answering (refused, reset, or out of
//! the primary component), the next call moves to the next node at once,
//! and a failed node is tried again after a rest.
//!
//! Own pools per node rather than HAProxy in TCP mode in front: a proxy
//! would be one more process to lose and one more hop per query, and only
//! authd knows whether an error means "this node is gone" (and the call
//! may go elsewhere) or "this query is wrong".

use mysql::{Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, PooledConn};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a failed node is left alone before it is tried again.
const REST: Duration = Duration::from_secs(1);

struct Node {
    /// `host:port`, for logs (the URL holds the password).
    name: String,
    opts: Opts,
    pool: Mutex<Option<Pool>>,
    resting_until: Mutex<Option<Instant>>,
}

pub struct Replicas {
    nodes: Vec<Node>,
    /// The node calls go to now.
    current: AtomicUsize,
}

/// Whether an error says the node is unusable (gone, restarting, or not in
/// Galera's primary component) rather than that the query failed.
pub fn node_unusable(e: &mysql::Error) -> bool {
    match e {
        mysql::Error::MySqlError(m) => {
            // 1047 WSREP not ready, 1053 server shutdown, 1927 connection
            // killed, 2006/2013 gone away / lost, 1180 commit failed (a
            // node that left the cluster while committing).
            matches!(m.code, 1047 | 1053 | 1180 | 1927 | 2006 | 2013)
        }
        other => other.is_connectivity_error(),
    }
}

impl Replicas {
    /// `urls`: one `mysql://` URL or several separated by commas.
    pub fn new(urls: &str, min: usize, max: usize) -> Result<Replicas, mysql::Error> {
        let constraints = PoolConstraints::new(min.min(max), max.max(1)).ok_or_else(|| {
            mysql::Error::IoError(std::io::Error::other(
                "mysql.pool_min must not exceed pool_max",
            ))
        })?;
        let mut nodes = Vec::new();
        for url in urls.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            // The URL holds the password: report that it is invalid, never the URL.
            let opts = Opts::from_url(url).map_err(|_| {
                mysql::Error::IoError(std::io::Error::other(
                    "mysql.url is not a valid mysql:// URL (or list of them)",
                ))
            })?;
            let name = format!("{}:{}", opts.get_ip_or_hostname(), opts.get_tcp_port());
            let opts: Opts = OptsBuilder::from_opts(opts)
                // A connection goes back to the pool as it is, its
                // prepared statements kept: the default resets it on every
                // return, which costs a round trip and makes every
                // statement prepared anew (measured: two admin commands
                // and a prepare per login record batch). Nothing authd
                // does leaves session state behind; a transaction rolls
                // back when dropped, the migrations reset their own.
                .pool_opts(
                    PoolOpts::default()
                        .with_constraints(constraints)
                        .with_reset_connection(false),
                )
                .tcp_connect_timeout(Some(Duration::from_secs(2)))
                // A node that stops answering without closing its sockets
                // (stopped, its host gone, a partition) must end in an
                // error, or every worker waits on it for ever and there is
                // no failover: 10 s bounds a hang and leaves room for the
                // longest statement authd runs (a migration step).
                .read_timeout(Some(Duration::from_secs(10)))
                .write_timeout(Some(Duration::from_secs(10)))
                .tcp_keepalive_time_ms(Some(1000))
                // A node is named by host and port on purpose: never swap
                // its TCP connection for the local socket of whatever
                // server runs here (another node, as another user).
                .prefer_socket(false)
                .stmt_cache_size(Some(64))
                .init(vec!["SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci"])
                .into();
            nodes.push(Node {
                name,
                opts,
                pool: Mutex::new(None),
                resting_until: Mutex::new(None),
            });
        }
        if nodes.is_empty() {
            return Err(mysql::Error::IoError(std::io::Error::other(
                "mysql.url names no server",
            )));
        }
        let replicas = Replicas {
            nodes,
            current: AtomicUsize::new(0),
        };
        // At start one answering node is enough; the others are tried
        // when they are needed.
        let mut last = None;
        for node in &replicas.nodes {
            if let Err(e) = replicas.pool_of(node) {
                log::warn!(
                    "mysql node {} unavailable at start ({})",
                    node.name,
                    error_kind(&e)
                );
                *lock(&node.resting_until) = Some(Instant::now() + REST);
                last = Some(e);
            }
        }
        match replicas.nodes.iter().position(|n| lock(&n.pool).is_some()) {
            Some(first_up) => {
                replicas.current.store(first_up, Ordering::Relaxed);
                Ok(replicas)
            }
            None => Err(last.expect("no node answered, so one failed")),
        }
    }

    /// How many nodes are configured.
    pub fn count(&self) -> usize {
        self.nodes.len()
    }

    /// The pool of `node`, made on first use.
    fn pool_of(&self, node: &Node) -> Result<Pool, mysql::Error> {
        let mut pool = lock(&node.pool);
        if let Some(p) = pool.as_ref() {
            return Ok(p.clone());
        }
        let made = Pool::new(node.opts.clone())?;
        *pool = Some(made.clone());
        Ok(made)
    }

    fn resting(&self, node: &Node, now: Instant) -> bool {
        lock(&node.resting_until).is_some_and(|until| now < until)
    }

    /// Marks node `idx` as failed: calls go to the next one until it rests.
    pub fn failed(&self, idx: usize, why: &mysql::Error) {
        let node = &self.nodes[idx];
        *lock(&node.resting_until) = Some(Instant::now() + REST);
        if self.nodes.len() > 1
            && self
                .current
                .compare_exchange(
                    idx,
                    (idx + 1) % self.nodes.len(),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            log::warn!(
                "mysql node {} failed ({}); moving to {}",
                node.name,
                error_kind(why),
                self.nodes[(idx + 1) % self.nodes.len()].name
            );
        }
    }

    /// A connection from the current node, or the next ones in turn (a
    /// resting node is tried last, and only when every other one failed).
    pub fn conn(&self) -> Result<(usize, PooledConn), mysql::Error> {
        let n = self.nodes.len();
        let start = self.current.load(Ordering::Acquire);
        let now = Instant::now();
        let mut order: Vec<usize> = (0..n).map(|step| (start + step) % n).collect();
        // Resting nodes last, in their turn.
        order.sort_by_key(|&i| self.resting(&self.nodes[i], now));
        let mut last = None;
        for idx in order {
            let node = &self.nodes[idx];
            let got = self.pool_of(node).and_then(|p| p.get_conn());
            match got {
                Ok(conn) => {
                    if idx != start {
                        let was = self.current.swap(idx, Ordering::AcqRel);
                        if was != idx {
                            log::warn!("mysql: now using node {}", node.name);
                        }
                    }
                    *lock(&node.resting_until) = None;
                    return Ok((idx, conn));
                }
                Err(e) => {
                    *lock(&node.resting_until) = Some(now + REST);
                    last = Some(e);
                }
            }
        }
        Err(last.expect("at least one node is configured"))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding it left plain data: still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The error's category, never its text (which can quote a query's values).
fn error_kind(e: &mysql::Error) -> String {
    match e {
        mysql::Error::MySqlError(m) => format!("server error {}", m.code),
        mysql::Error::IoError(io) => format!("i/o: {:?}", io.kind()),
        mysql::Error::DriverError(_) => "driver error".into(),
        _ => "other".into(),
    }
}
