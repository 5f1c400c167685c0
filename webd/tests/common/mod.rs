//! Test harness for webd against the real stack: authd in this process on
//! the private MariaDB and Redis that `make test` starts (a database and key
//! prefix of its own), and webd on an ephemeral port calling it.

#![allow(dead_code)]

#[path = "../../../authd/tests/common/cleanup.rs"]
mod cleanup;

use mysql::prelude::Queryable;
use serde_json::Value;
use std::net::SocketAddr;
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

pub struct Stack {
    pub authd: Option<authd::Running>,
    pub webd: ServerHandle,
    pub web: SocketAddr,
    db: String,
    mysql_base: String,
    pub redis_url: String,
    pub prefix: String,
    pub dir: tempfile::TempDir,
}

impl Stack {
    pub fn start(name: &str) -> Stack {
        let base = env("THRONG_TEST_MYSQL_URL");
        let db = format!("throng_test_webd_{name}_{}", std::process::id());
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
            // Tests run side by side on two cores (and Chromium with them):
            // a slow answer is not what they test.
            request_timeout: Duration::from_secs(15),
            ..ClientConfig::default()
        };
        let (pool, _threads) = webd::start_avatars(&webd::AvatarConfig {
            dir: dir.path().join("avatars"),
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
                App::new(client.clone(), false, avatars, metrics.clone()),
                HttpLimits::default(),
            )
            .with_metrics(metrics.clone())
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

    pub fn last_code(&self, email: &str, mails: usize) -> String {
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
        cleanup::drop_test_stores(&self.mysql_base, &self.db, &self.redis_url, &self.prefix);
    }
}
