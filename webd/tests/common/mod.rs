//! Test harness for webd against the real stack: authd in this process on
//! the private MariaDB and Redis that `make test` starts (a database and key
//! prefix of its own), and webd on an ephemeral port calling it.

#![allow(dead_code)]

pub mod browser;

use std::net::SocketAddr;
use std::time::Duration;
use throng_core::client::ClientConfig;
use throng_core::daemon::Daemon;
use throng_core::metrics::Metrics;
use throng_core::reactor::ReactorConfig;
use throng_core::server::{self, ServerHandle};
use throng_testkit::TestStores;
use webd::app::App;
use webd::http::{HttpLimits, HttpService};

/// The caller key of every test stack: webd shows it to authd.
pub const CALLER_KEY: &str = "webd-test-caller-key-webd-test-caller";
/// authd's master key in every test stack.
pub const SECRET: &str = "webd-test-secret-webd-test-secret!!";
/// The CSRF key of every test stack.
pub const CSRF_KEY: &str = "webd-test-csrf-key-webd-test-csrf-key";

pub struct Stack {
    pub authd: Option<authd::Running>,
    pub webd: ServerHandle,
    pub web: SocketAddr,
    /// webd's metrics listener (`GET /metrics`, loopback).
    pub metrics: SocketAddr,
    pub stores: TestStores,
}

impl Stack {
    pub fn start(name: &str) -> Stack {
        Stack::start_with_redis(name, None)
    }

    /// The stack with authd's Redis at `redis_url` instead (a dead one).
    pub fn start_with_redis(name: &str, redis_url: Option<&str>) -> Stack {
        Stack::start_full(name, redis_url, HttpLimits::default())
    }

    /// The stack with webd's HTTP layer set by `limits` (trusted proxies).
    pub fn start_with_http(name: &str, limits: HttpLimits) -> Stack {
        Stack::start_full(name, None, limits)
    }

    fn start_full(name: &str, redis_url: Option<&str>, limits: HttpLimits) -> Stack {
        Stack::start_tuned(name, redis_url, limits, |_, _| {})
    }

    /// The stack with webd's HTTP layer set by `limits`, after `tune` set
    /// authd's config (it gets the test's stores, to place files there).
    pub fn start_tuned(
        name: &str,
        redis_url: Option<&str>,
        limits: HttpLimits,
        tune: impl FnOnce(&mut authd::config::Config, &TestStores),
    ) -> Stack {
        Stack::start_at(name, redis_url, limits, 0, Vec::new(), tune)
    }

    /// The stack as an OpenID provider: webd on a port chosen first, so
    /// authd's issuer can name it.
    pub fn start_provider(name: &str) -> Stack {
        let port = throng_testkit::spawn::free_port();
        let issuer = format!("http://127.0.0.1:{port}");
        Stack::start_at(
            name,
            None,
            HttpLimits::default(),
            port,
            Vec::new(),
            |cfg, _| {
                cfg.oidc.issuer = issuer;
            },
        )
    }

    /// The stack signing users in with `upstream` ("Sign in with …"), webd
    /// on `port` (chosen first: the provider must know the callback).
    pub fn start_relying_party(
        name: &str,
        port: u16,
        upstream: authd::config::UpstreamConfig,
    ) -> Stack {
        let issuer = format!("http://127.0.0.1:{port}");
        let button = webd::pages::SsoButton {
            id: upstream.id.clone(),
            name: upstream.name.clone(),
        };
        Stack::start_at(
            name,
            None,
            HttpLimits::default(),
            port,
            vec![button],
            |cfg, _| {
                cfg.oidc.issuer = issuer;
                cfg.oidc.upstream = vec![upstream];
            },
        )
    }

    /// The issuer of a [`Stack::start_provider`] stack.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.web)
    }

    /// `authd client add` on this stack's stores: the JSON it prints.
    pub fn add_client(&self, spec: authd::client_cli::NewClient) -> serde_json::Value {
        let mut cfg = authd::config::Config::default();
        cfg.mysql.url = self.stores.mysql_url.clone();
        cfg.secret = SECRET.into();
        let db = authd::store::db::Db::connect(&cfg.mysql.url, 1, 2).unwrap();
        authd::client_cli::add(&cfg, &db, spec).unwrap()
    }

    fn start_at(
        name: &str,
        redis_url: Option<&str>,
        limits: HttpLimits,
        web_port: u16,
        sign_in_with: Vec<webd::pages::SsoButton>,
        tune: impl FnOnce(&mut authd::config::Config, &TestStores),
    ) -> Stack {
        let stores = TestStores::new(&format!("webd_{name}"));
        let mut cfg = authd::config::Config::default();
        cfg.reactor.listen = vec!["127.0.0.1:0".parse().unwrap()];
        cfg.reactor.threads = 1;
        cfg.reactor.drain_timeout = Duration::from_millis(500);
        cfg.mysql.url = stores.mysql_url.clone();
        cfg.redis.url = redis_url.unwrap_or(&stores.redis_url).to_owned();
        cfg.redis.prefix = stores.prefix.clone();
        cfg.secret = SECRET.into();
        cfg.caller_key = CALLER_KEY.into();
        cfg.argon2.memory_kib = 1024;
        cfg.argon2.iterations = 1;
        cfg.mail.outbox = stores.outbox_path();
        tune(&mut cfg, &stores);
        let running = authd::start(&Daemon {
            name: "authd",
            config: cfg,
            metrics: Metrics::new(),
        })
        .unwrap();
        let authd_addr = running.addrs()[0];
        let web_cfg = ReactorConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], web_port))],
            threads: 2,
            ..ReactorConfig::default()
        };
        let client = ClientConfig {
            backends: vec![authd_addr],
            backoff_max: Duration::from_millis(200),
            // Tests run side by side on two cores (and Chromium with them):
            // a slow answer is not what they test.
            request_timeout: Duration::from_secs(15),
            key: CALLER_KEY.into(),
            ..ClientConfig::default()
        };
        let (pool, _threads) = webd::start_avatars(&webd::AvatarConfig {
            dir: stores.dir.path().join("avatars"),
            threads: 1,
            queue: 64,
        })
        .unwrap();
        let metrics = Metrics::new();
        let web_metrics = metrics.clone();
        let webd = server::start(&web_cfg, &web_metrics, move |setup| {
            let avatars = webd::app::AvatarRoutes {
                pool: pool.clone(),
                replies: setup.replies,
                max_upload: HttpLimits::default().max_upload,
            };
            HttpService::new(
                App::new(
                    client.clone(),
                    webd::pages::Pages {
                        secure_cookies: false,
                        csrf: webd::pages::csrf::CsrfKey::new(CSRF_KEY).unwrap(),
                        sign_in_with: sign_in_with.clone(),
                    },
                    avatars,
                    metrics.clone(),
                ),
                limits.clone(),
            )
            .with_metrics(metrics.clone())
        })
        .unwrap();
        let web = webd.local_addrs()[0];
        let metrics =
            throng_core::metrics_http::serve("127.0.0.1:0".parse().unwrap(), web_metrics).unwrap();
        wait_until_every_reactor_reaches_authd(web);
        Stack {
            authd: Some(running),
            webd,
            web,
            metrics,
            stores,
        }
    }

    /// The code of the `mails`th mail (1-based) to `email`.
    pub fn last_code(&self, email: &str, mails: usize) -> String {
        self.stores.outbox().nth_code(email, mails)
    }

    /// `authd admin grant USERNAME ROLE` on this stack's stores, as the
    /// operator at the host would run it.
    pub fn grant(&self, username: &str, role: &str) {
        use clap::Parser;
        let cli = authd::Cli::parse_from([
            "authd",
            "--set",
            &format!("mysql.url={:?}", self.stores.mysql_url),
            "--set",
            &format!("redis.url={:?}", self.stores.redis_url),
            "--set",
            &format!("redis.prefix={:?}", self.stores.prefix),
            "admin",
            "grant",
            username,
            role,
        ]);
        authd::run(cli).unwrap();
    }

    pub fn stop_authd(&mut self) {
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
    }
}

/// POSTs JSON to `path` from source address `from`, with `headers` (each
/// line ending in CRLF) added: the status and the body.
pub fn post_json_from(
    from: std::net::IpAddr,
    web: SocketAddr,
    path: &str,
    headers: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    use socket2::{Domain, Socket, Type};
    use std::io::{Read, Write};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::new(from, 0).into()).unwrap();
    socket.connect(&web.into()).unwrap();
    let mut s: std::net::TcpStream = socket.into();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let body = body.to_string();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap();
    (
        headers[9..12].parse().unwrap(),
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// Each reactor has its own client to authd, connecting in the background:
/// wait until `/healthz` (200 once that reactor's client is up) answers 200
/// on 20 fresh connections in a row, which the kernel spreads over the
/// reactors, so a test's first calls do not meet a reactor still connecting.
fn wait_until_every_reactor_reaches_authd(web: SocketAddr) {
    use std::io::{Read, Write};
    let healthy = || {
        let Ok(mut s) = std::net::TcpStream::connect(web) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let asked = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let mut head = [0u8; 12];
        asked.is_ok() && s.read_exact(&mut head).is_ok() && &head[9..12] == b"200"
    };
    let mut in_a_row = 0;
    let up = throng_testkit::eventually(Duration::from_secs(10), || {
        in_a_row = if healthy() { in_a_row + 1 } else { 0 };
        in_a_row >= 20
    });
    assert!(up, "a webd reactor did not reach authd within 10 s");
}
