//! The client address behind a trusted proxy, through the real stack: a
//! request from a proxy listed in `http.trusted_proxies` is attributed to
//! the address its `X-Forwarded-For` names (what authd records and limits
//! by); anyone else's header is ignored, so a client cannot pick the
//! address its failures count against.

mod common;

use common::{post_json_from, Stack};
use mysql::prelude::Queryable;
use serde_json::json;
use std::net::IpAddr;
use std::time::Duration;
use webd::http::HttpLimits;

const PROXY: &str = "127.0.0.254";

/// The addresses authd recorded for sign-in attempts of `username`.
fn recorded_ips(stack: &Stack, username: &str, want: usize) -> Vec<String> {
    let mut db = stack.stores.mysql();
    let mut ips = Vec::new();
    throng_testkit::eventually(Duration::from_secs(10), || {
        ips = db
            .exec(
                "SELECT ip FROM login_records WHERE username = ? ORDER BY id",
                (username,),
            )
            .unwrap();
        ips.len() >= want
    });
    ips
}

#[test]
fn only_a_trusted_proxy_names_the_client_address() {
    let stack = Stack::start_with_http(
        "proxy",
        HttpLimits {
            trusted_proxies: vec![format!("{PROXY}/32").parse().unwrap()],
            ..HttpLimits::default()
        },
    );
    let login = json!({"username": "nobody-here", "password": "wrong-wrong-wrong"});
    let proxy: IpAddr = PROXY.parse().unwrap();
    let client: IpAddr = "127.0.0.2".parse().unwrap();
    // Through the proxy; the first entry is the client's own forgery.
    let (status, _) = post_json_from(
        proxy,
        stack.web,
        "/trylogin_server",
        "X-Forwarded-For: 192.0.2.1, 198.51.100.7\r\n",
        login.clone(),
    );
    assert_eq!(status, 401);
    // Straight from a client that claims to be someone else.
    let (status, _) = post_json_from(
        client,
        stack.web,
        "/trylogin_server",
        "X-Forwarded-For: 198.51.100.8\r\n",
        login.clone(),
    );
    assert_eq!(status, 401);
    // The proxy without a header: the proxy's own address.
    post_json_from(proxy, stack.web, "/trylogin_server", "", login);
    assert_eq!(
        recorded_ips(&stack, "nobody-here", 3),
        ["198.51.100.7", "127.0.0.2", PROXY]
    );
}
