//! The cluster stack as the chaos run sees it: processes killed and
//! started through `deploy/cluster.sh` (the same script an operator uses),
//! and the stores watched directly — Galera's membership on every node,
//! which Redis nodes are primaries — so that each event's report says what
//! the stores did.

use mysql::prelude::Queryable;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const GALERA: [&str; 3] = ["galera-1", "galera-2", "galera-3"];
pub const REDIS: [&str; 6] = [
    "redis-1", "redis-2", "redis-3", "redis-4", "redis-5", "redis-6",
];

/// `deploy/cluster.sh` and what it wrote under `var/cluster`.
pub struct Cluster {
    script: PathBuf,
    /// The Galera nodes' URLs, in authd's order.
    mysql_urls: Vec<String>,
    redis_password: String,
}

impl Cluster {
    /// The cluster of the checkout at `root` (its `var/cluster/cluster.env`
    /// must exist: `make cluster-up` writes it).
    pub fn open(root: &Path) -> Result<Cluster, String> {
        let env_file = root.join("var/cluster/cluster.env");
        let text = std::fs::read_to_string(&env_file).map_err(|e| {
            format!(
                "{}: {e} (is the cluster up? make cluster-up)",
                env_file.display()
            )
        })?;
        let env: HashMap<&str, &str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .collect();
        let mysql_urls = env
            .get("THRONG_AUTHD_MYSQL__URL")
            .ok_or("cluster.env has no THRONG_AUTHD_MYSQL__URL")?
            .split(',')
            .map(str::to_owned)
            .collect();
        let redis_password = std::fs::read_to_string(root.join("var/secrets/redis.password"))
            .map_err(|e| format!("var/secrets/redis.password: {e}"))?
            .trim()
            .to_owned();
        Ok(Cluster {
            script: root.join("deploy/cluster.sh"),
            mysql_urls,
            redis_password,
        })
    }

    fn script(&self, args: &[&str]) -> Result<(), String> {
        let out = Command::new(&self.script)
            .args(args)
            .output()
            .map_err(|e| format!("{}: {e}", self.script.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "cluster.sh {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// The member of the HAProxy pair that holds the VRRP address now.
    pub fn vip_holder(&self) -> Result<String, String> {
        let out = Command::new(&self.script)
            .arg("vip-holder")
            .output()
            .map_err(|e| format!("{}: {e}", self.script.display()))?;
        let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && !name.is_empty() {
            Ok(name)
        } else {
            Err("nobody holds the HAProxy pair's address".into())
        }
    }

    /// Starts the massd client fleet of the cluster's config.
    pub fn fleet_start(&self) -> Result<(), String> {
        self.script(&["fleet-start"])
    }

    /// Stops the fleet and returns its summary (`massd client --json`).
    pub fn fleet_stop(&self) -> Result<serde_json::Value, String> {
        let out = Command::new(&self.script)
            .arg("fleet-stop")
            .output()
            .map_err(|e| format!("{}: {e}", self.script.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().rev().find(|l| l.starts_with('{'));
        line.and_then(|l| serde_json::from_str(l).ok())
            .ok_or_else(|| "the massd fleet printed no summary (var/log/massd-fleet.log)".into())
    }

    /// `kill -9` of one process.
    pub fn kill(&self, name: &str) -> Result<(), String> {
        self.script(&["kill", name])
    }

    /// Starts one process again (a Galera node until it is Synced).
    pub fn start(&self, name: &str) -> Result<(), String> {
        self.script(&["start", name])
    }

    /// Until both stores are whole again: every Galera node Synced, the
    /// Redis Cluster ok with every replica in sync.
    pub fn wait_stores(&self) -> Result<(), String> {
        self.script(&["wait-stores"])
    }

    /// `wsrep_cluster_size` as each node sees it (`None`: unreachable).
    pub fn galera_sizes(&self) -> Vec<Option<u32>> {
        self.mysql_urls
            .iter()
            .map(|url| {
                let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(url).ok()?)
                    .prefer_socket(false)
                    .tcp_connect_timeout(Some(Duration::from_millis(300)))
                    .read_timeout(Some(Duration::from_millis(500)));
                let mut conn = mysql::Conn::new(opts).ok()?;
                let row: Option<(String, String)> = conn
                    .query_first("SHOW STATUS LIKE 'wsrep_cluster_size'")
                    .ok()?;
                row?.1.parse().ok()
            })
            .collect()
    }

    /// Each Redis node's role: `primary`, `replica` or `down`.
    pub fn redis_roles(&self) -> Vec<&'static str> {
        (1..=6)
            .map(|n| {
                let url = format!("redis://:{}@127.0.0.1:{}/", self.redis_password, 17000 + n);
                let role = redis::Client::open(url).ok().and_then(|c| {
                    let mut conn = c
                        .get_connection_with_timeout(Duration::from_millis(300))
                        .ok()?;
                    conn.set_read_timeout(Some(Duration::from_millis(500)))
                        .ok()?;
                    let v: redis::Value = redis::cmd("ROLE").query(&mut conn).ok()?;
                    match v {
                        redis::Value::Array(items) => match items.first() {
                            Some(redis::Value::BulkString(b)) if b == b"master" => Some("primary"),
                            Some(redis::Value::BulkString(_)) => Some("replica"),
                            _ => None,
                        },
                        _ => None,
                    }
                });
                role.unwrap_or("down")
            })
            .collect()
    }

    /// A connection to Galera node `i` (0-based) for the final checks.
    pub fn galera(&self, i: usize) -> Result<mysql::Conn, String> {
        let url = self.mysql_urls.get(i).ok_or("no such Galera node")?;
        let opts = mysql::Opts::from_url(url).map_err(|e| e.to_string())?;
        mysql::Conn::new(mysql::OptsBuilder::from_opts(opts).prefer_socket(false))
            .map_err(|e| format!("galera-{}: {e}", i + 1))
    }
}
