//! The gateway JSON API through the real stack: webd and authd in this
//! process on ephemeral ports, authd on the private MariaDB and Redis that
//! `make test` starts (a database and key prefix of its own). Every
//! endpoint's success and failures, and authd going away.

mod common;

use common::Stack;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// POSTs raw bytes; returns the status, headers and JSON body.
fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap();
    let status = headers[9..12].parse().unwrap();
    (
        status,
        headers.to_owned(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn post(addr: SocketAddr, path: &str, body: Value) -> (u16, Value) {
    let (status, _, json) = request(addr, "POST", path, body.to_string().as_bytes());
    (status, json)
}

#[test]
fn every_endpoint_through_the_real_stack() {
    let mut stack = Stack::start("api");
    let web = stack.web;
    let email = "hana@example.com";
    // webd connects to authd in the background; the first call may find it not up yet.
    let deadline = Instant::now() + Duration::from_secs(5);
    let (status, v) = loop {
        let r = post(web, "/get_verification", json!({ "email": email }));
        if r.0 != 503 || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        (status, v["error"].clone(), v["expires_in"].clone()),
        (200, json!(0), json!(300))
    );
    let code = stack.last_code(email, 1);
    let (status, v) = post(
        web,
        "/post_registration",
        json!({ "username": "hana", "password": "hunter2-hunter2", "email": email, "code": "000000" }),
    );
    if code != "000000" {
        assert_eq!(
            (status, v["reason"].clone()),
            (400, json!("invalid_code")),
            "{v}"
        );
    }
    let (status, v) = post(
        web,
        "/post_registration",
        json!({ "username": "hana", "password": "hunter2-hunter2", "email": email, "code": code }),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["uuid"].as_str().unwrap().len(), 36);
    let (status, v) = post(
        web,
        "/post_registration",
        json!({ "username": "bad name", "password": "hunter2-hunter2", "email": email, "code": code }),
    );
    assert_eq!(
        (status, v["reason"].clone()),
        (400, json!("invalid_username"))
    );

    let (status, v) = post(
        web,
        "/trylogin_server",
        json!({ "username": "hana", "password": "hunter2-hunter2" }),
    );
    assert_eq!((status, v["reason"].clone()), (503, json!("no_node")));
    let mut r = redis::Client::open(stack.stores.redis_url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    // A node that accepts connections: authd checks before handing it out.
    let node = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = node.local_addr().unwrap().port();
    let _: () = redis::pipe()
        .sadd(format!("{}massd:nodes", stack.stores.prefix), "n1")
        .set_ex(
            format!("{}massd:node:n1", stack.stores.prefix),
            format!("127.0.0.1 {port} 5"),
            5,
        )
        .query(&mut r)
        .unwrap();
    let (status, v) = post(
        web,
        "/trylogin_server",
        json!({ "username": "hana", "password": "hunter2-hunter2" }),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["host"].clone(), v["port"].clone()),
        (json!("127.0.0.1"), json!(port))
    );
    assert!(v["token"].as_str().unwrap().starts_with("v1."));
    let (status, v) = post(
        web,
        "/trylogin_server",
        json!({ "username": "hana", "password": "wrong-password" }),
    );
    assert_eq!(
        (status, v["reason"].clone()),
        (401, json!("bad_credentials"))
    );

    let yes = post(
        web,
        "/check_accountexists",
        json!({ "username": "hana", "email": email }),
    );
    let no = post(
        web,
        "/check_accountexists",
        json!({ "username": "hana", "email": "x@example.com" }),
    );
    assert_eq!(yes, no, "the same answer either way");
    let reset_code = stack.last_code(email, 2);
    let (status, v) = post(
        web,
        "/reset_password",
        json!({ "email": email, "code": "12", "password": "new-password-1" }),
    );
    assert_eq!((status, v["reason"].clone()), (400, json!("invalid_code")));
    let (status, _) = post(
        web,
        "/reset_password",
        json!({ "email": email, "code": reset_code, "password": "new-password-1" }),
    );
    assert_eq!(status, 200);
    let (status, _) = post(
        web,
        "/trylogin_server",
        json!({ "username": "hana", "password": "new-password-1" }),
    );
    assert_eq!(status, 200);

    let (status, _, v) = request(web, "POST", "/trylogin_server", b"{not json");
    assert_eq!((status, v["reason"].clone()), (400, json!("malformed")));
    let (status, _, v) = request(web, "POST", "/trylogin_server", br#"{"username":"hana"}"#);
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().contains("password"));
    let (status, headers, _) = request(web, "GET", "/trylogin_server", b"");
    assert!(
        status == 405 && headers.contains("Allow: POST"),
        "{headers}"
    );

    for _ in 0..6 {
        post(
            web,
            "/get_verification",
            json!({ "email": "rate@example.com" }),
        );
    }
    let (status, headers, v) = request(
        web,
        "POST",
        "/get_verification",
        json!({ "email": "rate@example.com" })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(
        (status, v["reason"].clone()),
        (429, json!("too_many_codes"))
    );
    assert!(headers.contains("Retry-After: "), "{headers}");

    stack.stop_authd();
    let (status, v) = post(
        web,
        "/trylogin_server",
        json!({ "username": "hana", "password": "new-password-1" }),
    );
    assert_eq!(
        (status, v["reason"].clone()),
        (503, json!("unavailable")),
        "authd gone: {v}"
    );
}
