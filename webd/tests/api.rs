//! The gateway JSON API through the real stack: webd and authd in this
//! process on ephemeral ports, authd on the private MariaDB and Redis that
//! `make test` starts (a database and key prefix of its own). Every
//! endpoint's success and failures, and authd going away.

use mysql::prelude::Queryable;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use throng_core::client::ClientConfig;
use throng_core::daemon::Daemon;
use throng_core::metrics::Metrics;
use throng_core::reactor::ReactorConfig;
use throng_core::server::{self, ServerHandle};
use webd::app::App;
use webd::http::{HttpLimits, HttpService};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests with `make test`"))
}

struct Stack {
    authd: Option<authd::Running>,
    webd: ServerHandle,
    web: SocketAddr,
    db: String,
    mysql_base: String,
    redis_url: String,
    prefix: String,
    dir: tempfile::TempDir,
}

impl Stack {
    fn start() -> Stack {
        let base = env("THRONG_TEST_MYSQL_URL");
        let db = format!("throng_test_webd_{}", std::process::id());
        let root = base
            .trim_end_matches('/')
            .rsplit_once('/')
            .map_or(base.as_str(), |(r, _)| r)
            .to_owned();
        let mut conn = mysql::Conn::new(mysql::Opts::from_url(&base).unwrap()).unwrap();
        conn.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
            .unwrap();
        conn.query_drop(format!("CREATE DATABASE {db} CHARACTER SET utf8mb4"))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = authd::config::Config::default();
        cfg.reactor.listen = vec!["127.0.0.1:0".parse().unwrap()];
        cfg.reactor.threads = 1;
        cfg.reactor.drain_timeout = Duration::from_millis(500);
        cfg.mysql.url = format!("{root}/{db}");
        cfg.redis.url = env("THRONG_TEST_REDIS_URL");
        cfg.redis.prefix = format!("{db}:");
        cfg.secret = "webd-test-secret-webd-test-secret!!".into();
        cfg.argon2.memory_kib = 1024;
        cfg.argon2.iterations = 1;
        cfg.mail.outbox = dir.path().join("outbox.txt");
        let prefix = cfg.redis.prefix.clone();
        let redis_url = cfg.redis.url.clone();
        let running = authd::start(&Daemon {
            name: "authd",
            config: cfg,
            metrics: Metrics::new(),
        })
        .unwrap();
        let authd_addr = running.addrs()[0];
        let web_cfg = ReactorConfig {
            listen: vec!["127.0.0.1:0".parse().unwrap()],
            threads: 2,
            ..ReactorConfig::default()
        };
        let client = ClientConfig {
            backends: vec![authd_addr],
            backoff_max: Duration::from_millis(200),
            ..ClientConfig::default()
        };
        let webd = server::start(&web_cfg, &Metrics::new(), move |_| {
            HttpService::new(App::new(client.clone()), HttpLimits::default())
        })
        .unwrap();
        let web = webd.local_addrs()[0];
        Stack {
            authd: Some(running),
            webd,
            web,
            db,
            mysql_base: base,
            redis_url,
            prefix,
            dir,
        }
    }

    fn last_code(&self, email: &str, mails: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text =
                std::fs::read_to_string(self.dir.path().join("outbox.txt")).unwrap_or_default();
            let to: Vec<Value> = text
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| v["to"] == email)
                .collect();
            if to.len() >= mails {
                return to[mails - 1]["code"].as_str().unwrap().to_owned();
            }
            assert!(Instant::now() < deadline, "no code for {email}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop_authd(&mut self) {
        let running = self.authd.take().unwrap();
        running.trigger().shutdown();
        running.wait().unwrap();
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.webd.shutdown();
        if let Some(a) = self.authd.take() {
            a.trigger().shutdown();
            let _ = a.wait();
        }
        if let Ok(mut c) = mysql::Conn::new(mysql::Opts::from_url(&self.mysql_base).unwrap()) {
            let _ = c.query_drop(format!("DROP DATABASE IF EXISTS {}", self.db));
        }
        if let Ok(mut r) =
            redis::Client::open(self.redis_url.as_str()).and_then(|c| c.get_connection())
        {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}*", self.prefix))
                .query(&mut r)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut r);
            }
        }
    }
}

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
    let mut stack = Stack::start();
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
    let mut r = redis::Client::open(stack.redis_url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = redis::pipe()
        .sadd(format!("{}massd:nodes", stack.prefix), "n1")
        .set_ex(
            format!("{}massd:node:n1", stack.prefix),
            "127.0.0.1 38677 5",
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
        (json!("127.0.0.1"), json!(38677))
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
