//! One test's own corner of the shared stores: a database created with the
//! same character set and collation authd's migrations expect, and a Redis
//! key prefix; both removed on drop, so runs and tests never see each
//! other's data.

use mysql::prelude::Queryable;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A variable `make test` sets, or a panic that says so.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with `make test`, which starts the private MariaDB and Redis")
    })
}

/// A database and key prefix of one test, and a scratch directory.
pub struct TestStores {
    /// The database's name (also the Redis prefix, with a `:`).
    pub name: String,
    pub mysql_url: String,
    pub redis_url: String,
    pub prefix: String,
    pub dir: tempfile::TempDir,
    server_url: String,
}

impl TestStores {
    /// New stores; `label` shows in the database name (which crate's test).
    pub fn new(label: &str) -> TestStores {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "throng_test_{label}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let server_url = env("THRONG_TEST_MYSQL_URL");
        let root = server_url
            .trim_end_matches('/')
            .rsplit_once('/')
            .map_or(server_url.as_str(), |(r, _)| r)
            .to_owned();
        let mut conn = mysql::Conn::new(mysql::Opts::from_url(&server_url).unwrap()).unwrap();
        conn.query_drop(format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        conn.query_drop(format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        ))
        .unwrap();
        TestStores {
            mysql_url: format!("{root}/{name}"),
            redis_url: env("THRONG_TEST_REDIS_URL"),
            prefix: format!("{name}:"),
            name,
            dir: tempfile::tempdir().unwrap(),
            server_url,
        }
    }

    pub fn mysql(&self) -> mysql::Conn {
        mysql::Conn::new(mysql::Opts::from_url(&self.mysql_url).unwrap()).unwrap()
    }

    pub fn redis(&self) -> redis::Connection {
        redis::Client::open(self.redis_url.as_str())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    /// Where authd under test writes its mails.
    pub fn outbox_path(&self) -> PathBuf {
        self.dir.path().join("outbox.txt")
    }

    pub fn outbox(&self) -> crate::Outbox {
        crate::Outbox::new(self.outbox_path())
    }
}

impl Drop for TestStores {
    fn drop(&mut self) {
        if let Ok(mut conn) = mysql::Conn::new(mysql::Opts::from_url(&self.server_url).unwrap()) {
            let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS {}", self.name));
        }
        let Ok(mut r) =
            redis::Client::open(self.redis_url.as_str()).and_then(|c| c.get_connection())
        else {
            return;
        };
        // SCAN, not KEYS: a Redis holding millions of benchmark sessions
        // must not stall the tests running beside this one.
        let keys: Vec<String> = redis::cmd("SCAN")
            .cursor_arg(0)
            .arg("MATCH")
            .arg(format!("{}*", self.prefix))
            .arg("COUNT")
            .arg(10_000)
            .clone()
            .iter::<String>(&mut r)
            .map(|it| it.filter_map(Result::ok).collect())
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut r);
        }
    }
}
