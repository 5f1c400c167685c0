//! Whether a massd node answers connections, checked by authd itself
//! before TryLogin hands the node out.
//!
//! A node's heartbeat outlives the node by up to its TTL: killed with
//! `kill -9` (or its host gone), it stays in the list for that long, and
//! every TryLogin in between would send a client to a dead address. So a
//! node is handed out only if a TCP connect to it succeeded within the
//! last [`FRESH`]; the check is shared by every worker and made at most
//! once per `FRESH` per node, with a short connect deadline, so a flood of
//! TryLogins costs a handful of connects a second, not one each.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a check's answer stands.
const FRESH: Duration = Duration::from_millis(250);
/// The connect deadline of a check: a node slower than this to accept is
/// as good as dead for a client about to connect.
const CONNECT: Duration = Duration::from_millis(150);

#[derive(Debug, Default)]
pub struct Reachable {
    checked: Mutex<HashMap<(String, u16), (Instant, bool)>>,
}

impl Reachable {
    /// Whether `host:port` accepted a connection lately, checking it now
    /// if the last answer is stale.
    pub fn check(&self, host: &str, port: u16) -> bool {
        let key = (host.to_owned(), port);
        let now = Instant::now();
        if let Some((at, alive)) = self.lock().get(&key) {
            if now.duration_since(*at) < FRESH {
                return *alive;
            }
        }
        let alive = connects(host, port);
        self.lock().insert(key, (Instant::now(), alive));
        alive
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u16), (Instant, bool)>> {
        self.checked.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn connects(host: &str, port: u16) -> bool {
    let Ok(mut addrs) = (host, port).to_socket_addrs() else {
        return false;
    };
    addrs.any(|a: SocketAddr| TcpStream::connect_timeout(&a, CONNECT).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_listening_node_is_reachable_and_a_closed_port_is_not() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let r = Reachable::default();
        assert!(r.check("127.0.0.1", port));
        drop(listener);
        // The answer stands for a moment, then the port is checked again.
        std::thread::sleep(FRESH + Duration::from_millis(10));
        assert!(!r.check("127.0.0.1", port));
    }
}
