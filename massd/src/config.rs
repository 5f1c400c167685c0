//! massd's configuration: one TOML file describes the whole fleet, as the
//! original's `config.json` did, and every process (server, client, console,
//! launcher) reads the same file. The original's fields keep their names;
//! the new ones are grouped in tables. Layering is the core one: defaults,
//! the file, `THRONG_MASSD_…` environment variables, then `--set` flags.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use throng_core::config::DaemonConfig;
use throng_core::logging::LogConfig;
use throng_core::reactor::ReactorConfig;

/// Hides a secret in `--print-config`, `ctl config` and every other dump.
fn redacted<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if v.is_empty() { "" } else { "[redacted]" })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The original's `server_ip_list`: one address per server host.
    pub server_ip_list: Vec<IpAddr>,
    /// The original's `server_port_list`: every server host listens on each.
    pub server_port_list: Vec<u16>,
    /// The original's `client_num_per_host`: clients on each client host;
    /// every client opens one connection to every server (host × port).
    pub client_num_per_host: u32,
    /// The original's `log_switch`: off means errors only.
    pub log_switch: bool,
    /// The original's `update_intervals`, in ms: each connection sends one
    /// UPDATE this often. 0 runs closed-loop (see `client.pipeline_depth`).
    pub update_intervals: u64,
    /// Where the launcher keeps pid files, logs and the fleet's state.
    pub run_dir: PathBuf,
    /// The filter used when `log_switch` is on.
    pub log: LogConfig,
    /// The reactor of a server process; `listen` is filled from the port
    /// list (or the launcher's `--port`) when left empty.
    pub reactor: ReactorConfig,
    pub server: ServerConfig,
    pub client: ClientConfig,
    pub admin: AdminConfig,
    pub heartbeat: HeartbeatConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server_ip_list: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            server_port_list: vec![38677, 38678, 38679],
            client_num_per_host: 100,
            log_switch: false,
            update_intervals: 10,
            run_dir: PathBuf::from("var/massd"),
            log: LogConfig::default(),
            reactor: ReactorConfig {
                // A counter connection may sit idle between slow updates.
                idle_timeout: Duration::from_secs(600),
                // Reading goes through one buffer per reactor; small frames.
                read_buffer: 64 * 1024,
                max_input: 64 * 1024,
                max_output: 1024 * 1024,
                max_connections: 0,
                ..ReactorConfig::default()
            },
            server: ServerConfig::default(),
            client: ClientConfig::default(),
            admin: AdminConfig::default(),
            heartbeat: HeartbeatConfig::default(),
        }
    }
}

/// One server process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Server processes per port on each host, sharing it by `SO_REUSEPORT`
    /// (more processes, more sockets: each is capped by `RLIMIT_NOFILE`).
    pub processes_per_port: u32,
    /// Largest frame accepted, header included.
    pub max_frame: usize,
    /// Counters of closed connections kept per process (the original kept
    /// them all); beyond this the oldest closed ones go first.
    pub max_closed_keys: usize,
    /// Closed counters older than this are dropped; "0s" keeps them until
    /// the cap pushes them out.
    #[serde(with = "humantime_serde")]
    pub closed_key_ttl: Duration,
    /// Connections must present a TryLogin token (HELLO) before updating.
    pub require_token: bool,
    /// authd's server secret, which signs the tokens (needed with
    /// `require_token`); from `THRONG_MASSD_SERVER__SECRET` in practice.
    #[serde(serialize_with = "redacted")]
    pub secret: String,
    /// The host name clients should use for this node (heartbeat, tokens);
    /// empty: the listen address.
    pub advertise_host: String,
    /// This node's id in heartbeats and tokens; empty: `<host>-<port>`.
    pub node_id: String,
    /// Where this server process serves `GET /metrics` (a loopback
    /// address); unset: nowhere. One address per process, so it is given
    /// to each `massd serve` rather than in a config a fleet shares.
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            processes_per_port: 1,
            max_frame: crate::proto::DEFAULT_MAX_FRAME,
            max_closed_keys: 1_000_000,
            closed_key_ttl: Duration::ZERO,
            require_token: false,
            secret: String::new(),
            advertise_host: String::new(),
            node_id: String::new(),
            metrics_listen: None,
        }
    }
}

/// Which protocol the client fleet speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    /// massd's UPDATE frames.
    Massd,
    /// `INCR <key>` to a Redis server: the anchor, checked the same way.
    Resp,
}

/// The client fleet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Client processes the launcher starts on this host; the clients are
    /// split evenly between them.
    pub processes: u32,
    /// Event-loop threads per client process; 0 means one per core.
    pub threads: usize,
    /// UPDATEs in flight per connection in closed-loop mode (interval 0).
    pub pipeline_depth: u32,
    /// New connections per second, per process, so listen backlogs never
    /// overflow.
    pub connect_rate: u32,
    /// Source addresses to spread connections over; empty: 127.0.0.1–
    /// 127.0.0.16 for loopback servers, the kernel's choice otherwise.
    pub local_ips: Vec<IpAddr>,
    /// Give up a connection attempt after this long.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// A lost connection is retried after this, doubling up to 2 s.
    #[serde(with = "humantime_serde")]
    pub reconnect_backoff: Duration,
    /// An UPDATE unanswered this long counts as an error and the
    /// connection is replaced.
    #[serde(with = "humantime_serde")]
    pub answer_timeout: Duration,
    /// The protocol spoken (`resp` drives Redis for the comparison).
    pub wire: Wire,
    /// The Redis password for `wire = "resp"`.
    #[serde(serialize_with = "redacted")]
    pub redis_password: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            processes: 1,
            threads: 0,
            pipeline_depth: 1,
            connect_rate: 20_000,
            local_ips: Vec::new(),
            connect_timeout: Duration::from_secs(5),
            reconnect_backoff: Duration::from_millis(100),
            answer_timeout: Duration::from_secs(10),
            wire: Wire::Massd,
            redis_password: String::new(),
        }
    }
}

/// The ops endpoint of every server process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Must be a loopback address; process `i` of the fleet uses
    /// `port + i`.
    pub listen: SocketAddr,
    /// Every request must carry it. Empty: the launcher makes one and
    /// writes it to `<run_dir>/admin.token` (mode 0600), where `ctl` finds it.
    #[serde(serialize_with = "redacted")]
    pub token: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 38600)),
            token: String::new(),
        }
    }
}

/// The node-load heartbeat authd's TryLogin reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeartbeatConfig {
    /// Redis URL, or a Redis Cluster's seed nodes' URLs separated by
    /// commas; empty turns heartbeats off.
    #[serde(serialize_with = "redacted")]
    pub redis_url: String,
    /// A cluster even when `redis_url` names one seed node.
    pub redis_cluster: bool,
    /// Key prefix shared with authd.
    pub prefix: String,
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// How long a heartbeat outlives its node.
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig {
            redis_url: String::new(),
            redis_cluster: false,
            prefix: "throng:".into(),
            interval: Duration::from_secs(1),
            ttl: Duration::from_secs(3),
        }
    }
}

impl DaemonConfig for Config {
    fn reactor(&self) -> &ReactorConfig {
        &self.reactor
    }

    fn log(&self) -> &LogConfig {
        &self.log
    }
}

impl Config {
    /// The log filter in force: the configured one, or errors only while
    /// the log switch is off (failures are never silent).
    pub fn effective_log(&self) -> LogConfig {
        if self.log_switch {
            self.log.clone()
        } else {
            LogConfig {
                level: "error".into(),
            }
        }
    }

    /// Every server address of the fleet: each host on each port.
    pub fn servers(&self) -> Vec<SocketAddr> {
        let mut out = Vec::new();
        for ip in &self.server_ip_list {
            for port in &self.server_port_list {
                out.push(SocketAddr::new(*ip, *port));
            }
        }
        out
    }

    /// Checks what serde cannot: cross-field rules.
    pub fn validate(&self) -> Result<(), String> {
        if self.server_ip_list.is_empty() || self.server_port_list.is_empty() {
            return Err("server_ip_list and server_port_list must not be empty".into());
        }
        if !self.admin.listen.ip().is_loopback() {
            return Err(format!(
                "admin.listen {} is not a loopback address; the ops endpoint never leaves the host",
                self.admin.listen
            ));
        }
        if self.server.require_token && self.server.secret.len() < 32 {
            return Err(
                "server.require_token needs server.secret (authd's secret, ≥ 32 bytes)".into(),
            );
        }
        if self.server.require_token && self.server.processes_per_port > 1 {
            return Err(
                "server.require_token needs server.processes_per_port = 1: a token names one \
                        node, and SO_REUSEPORT may hand its connection to a sibling process"
                    .into(),
            );
        }
        if self.server.node_id.contains(['.', ' ']) {
            return Err(format!(
                "server.node_id {:?} must not contain '.' or spaces (token and heartbeat fields)",
                self.server.node_id
            ));
        }
        if self.heartbeat.interval < Duration::from_millis(100)
            || self.heartbeat.ttl <= self.heartbeat.interval
        {
            return Err(
                "heartbeat.interval must be at least 100ms and heartbeat.ttl longer than it".into(),
            );
        }
        if self.server.processes_per_port == 0 || self.client.processes == 0 {
            return Err("server.processes_per_port and client.processes must be at least 1".into());
        }
        if self.client.pipeline_depth == 0 || self.client.pipeline_depth > 64 {
            return Err("client.pipeline_depth must be 1..=64".into());
        }
        if self.server.max_frame < crate::proto::HEADER + 8 || self.server.max_frame > 65_537 {
            return Err("server.max_frame must be 12..=65537".into());
        }
        Ok(())
    }
}
