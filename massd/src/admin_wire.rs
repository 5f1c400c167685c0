//! The messages of the admin endpoint, shared by the server that answers
//! them and the console that sends them.

use serde::{Deserialize, Serialize};

/// The longest request line the endpoint reads.
pub const MAX_REQUEST_LINE: usize = 4096;

/// One request line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdminRequest {
    pub token: String,
    /// `stats`, `dump`, `config` or `shutdown`.
    pub cmd: String,
    /// `dump`: the first entry (in key order) to send.
    #[serde(default)]
    pub offset: usize,
    /// `dump`: how many entries at most; absent means all.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// `stats` of one server process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProcessReport {
    pub pid: u32,
    pub node_id: String,
    pub listen: Vec<String>,
    pub rss_bytes: u64,
    /// RSS when the process had started and held no connection, so the
    /// console can show what connections cost.
    pub rss_baseline_bytes: u64,
    pub uptime_s: u64,
    pub connections: u64,
    pub updates: u64,
    pub updates_per_sec: u64,
    pub threads: Vec<ThreadReport>,
}

/// What `ctl stats` shows of one thread.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ThreadReport {
    pub thread: usize,
    pub connections: u64,
    pub closed_keys: u64,
    pub updates: u64,
    pub updates_per_sec: u64,
    pub evicted: u64,
    /// Connections dropped for undecodable input.
    pub dropped: u64,
}
