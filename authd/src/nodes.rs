//! massd nodes as authd sees them, and the token TryLogin hands out.
//!
//! Keys (under the Redis prefix), written by each massd node every second:
//! - `massd:node:<node id>` = `"<host> <port> <connections>"`, TTL 3 s;
//! - `massd:nodes` = the set of node ids that ever announced themselves.
//!
//! A node whose key expired (no heartbeat for 3 s) is never chosen; its id
//! is removed from the set when seen. The token is
//! `v1.<user uuid hex>.<node id>.<expires unix s>.<hmac hex>`, the HMAC-SHA256
//! under the massd token key (`massd.token_secret`) of everything before
//! it, so massd (which holds that key and no other of authd's) can check it
//! offline (`throng_core::node_token`).

pub use throng_core::node_token::{check_token, token};

/// A live node and its load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    pub host: String,
    pub port: u16,
    pub connections: u64,
}

/// Parses a heartbeat value.
pub fn parse(id: &str, value: &str) -> Option<Node> {
    let mut f = value.split_whitespace();
    let node = Node {
        id: id.to_owned(),
        host: f.next()?.to_owned(),
        port: f.next()?.parse().ok()?,
        connections: f.next()?.parse().ok()?,
    };
    f.next().is_none().then_some(node)
}

/// The least-loaded node (ties: the smaller id, so the choice is stable).
pub fn least_loaded(nodes: impl IntoIterator<Item = Node>) -> Option<Node> {
    nodes.into_iter().min_by(|a, b| {
        a.connections
            .cmp(&b.connections)
            .then_with(|| a.id.cmp(&b.id))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_parse_and_the_least_loaded_wins() {
        let a = parse("a", "127.0.0.1 38677 500").unwrap();
        let b = parse("b", "127.0.0.1 38678 20").unwrap();
        assert!(parse("c", "127.0.0.1 x 1").is_none());
        assert_eq!(least_loaded(vec![a, b.clone()]), Some(b));
        assert_eq!(least_loaded(Vec::new()), None);
    }
}
