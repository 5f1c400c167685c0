//! authd over several MariaDB nodes (a Galera cluster's, in the cluster
//! stack): calls go to the first node that answers and move to the next
//! the moment it dies, without a failed call for a node that was already
//! gone when the call came. The nodes here are relays to the one private
//! MariaDB, so "killing a node" is cutting its relay.

mod common;

use common::{stores, Authd};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use throng_testkit::Relay;

const PW: &str = "hunter2-hunter2";

/// `url` with its `host:port` replaced by `addr`.
fn at(url: &str, addr: SocketAddr) -> String {
    let (scheme_auth, rest) = url.split_once('@').expect("the test URL has a user");
    let path = rest.split_once('/').map(|(_, p)| p).unwrap_or("");
    format!("{scheme_auth}@{addr}/{path}")
}

fn mariadb_addr(url: &str) -> SocketAddr {
    let rest = url.split_once('@').unwrap().1;
    rest.split('/').next().unwrap().parse().unwrap()
}

fn with_nodes(urls: &[String]) -> String {
    format!("mysql.url=\"{}\"", urls.join(","))
}

#[test]
fn calls_move_to_the_next_node_when_one_dies() {
    let stores = stores();
    let real = mariadb_addr(&stores.mysql_url);
    let (first, second) = (Relay::to(real), Relay::to(real));
    let nodes = [
        at(&stores.mysql_url, first.addr),
        at(&stores.mysql_url, second.addr),
    ];
    let authd = Authd::start(&stores, None, &["--set", &with_nodes(&nodes)]);
    let mut c = authd.client();
    for i in 0..5 {
        c.sign_up(&format!("before{i}"), "B", PW).unwrap();
    }
    assert!(first.accepted() > 0, "the first node is used first");
    first.cut();
    let cut_at = Instant::now();
    // Sign-ups write to MySQL every time: each must land on the second
    // node, none may fail for the first being gone.
    for i in 0..20 {
        c.sign_up(&format!("after{i}"), "A", PW)
            .unwrap_or_else(|r| panic!("sign-up {i} after the cut: {r:?}"));
    }
    assert!(
        cut_at.elapsed() < Duration::from_secs(5),
        "20 sign-ups took {:?}",
        cut_at.elapsed()
    );
    // (The second node's pool was filled at start: it took over without
    // a new connection.)
    assert!(second.accepted() > 0);
    // What was written before the cut is still there (one database).
    c.token("before0", PW);
    c.token("after19", PW);
}

#[test]
fn authd_starts_while_its_first_node_is_down() {
    let stores = stores();
    let real = mariadb_addr(&stores.mysql_url);
    let dead = Relay::to(real);
    dead.cut();
    let live = Relay::to(real);
    let nodes = [
        at(&stores.mysql_url, dead.addr),
        at(&stores.mysql_url, live.addr),
    ];
    let authd = Authd::start(&stores, None, &["--set", &with_nodes(&nodes)]);
    let mut c = authd.client();
    c.sign_up("late", "L", PW).unwrap();
    c.token("late", PW);
}
