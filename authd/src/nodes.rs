//! massd nodes as authd sees them, and the token TryLogin hands out.
//!
//! Keys (under the Redis prefix), written by each massd node every second:
//! - `massd:node:<node id>` = `"<host> <port> <connections>"`, TTL 3 s;
//! - `massd:nodes` = the set of node ids that ever announced themselves.
//!
//! A node whose key expired (no heartbeat for 3 s) is never chosen; its id
//! is removed from the set when seen. The token is
//! `v1.<user uuid hex>.<node id>.<expires unix s>.<hmac hex>`, the HMAC-SHA256
//! under the server secret of everything before it, so massd (sharing the
//! secret) can check it offline.

use crate::password::{same, sign};

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

/// The token for `uuid_hex` on `node_id`, valid until `expires` (unix s).
pub fn token(secret: &[u8], uuid_hex: &str, node_id: &str, expires: u64) -> String {
    let claims = format!("v1.{uuid_hex}.{node_id}.{expires}");
    let mac = sign(secret, &claims);
    format!("{claims}.{mac}")
}

/// Checks a token for `node_id` at time `now` (unix s); the user's uuid.
pub fn check_token(secret: &[u8], token: &str, node_id: &str, now: u64) -> Option<String> {
    let (claims, mac) = token.rsplit_once('.')?;
    if !same(&sign(secret, claims), mac) {
        return None;
    }
    let mut f = claims.split('.');
    let (version, uuid, node, expires) = (f.next()?, f.next()?, f.next()?, f.next()?);
    let live = version == "v1"
        && node == node_id
        && expires.parse::<u64>().ok()? >= now
        && f.next().is_none();
    live.then(|| uuid.to_owned())
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

    #[test]
    fn tokens_check_out_only_unaltered_for_their_node_and_time() {
        let s = b"secret-secret-secret-secret-1234";
        let t = token(s, "ab12", "node1", 1000);
        assert_eq!(check_token(s, &t, "node1", 999).as_deref(), Some("ab12"));
        assert_eq!(check_token(s, &t, "node2", 999), None);
        assert_eq!(check_token(s, &t, "node1", 1001), None);
        assert_eq!(check_token(b"other", &t, "node1", 999), None);
        assert_eq!(
            check_token(s, &t.replace("ab12", "ab13"), "node1", 999),
            None
        );
    }
}
