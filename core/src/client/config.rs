//! Settings of the protocol client (the `[authd]` table of webd's config,
//! for instance).

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Backend addresses; requests go to the least-loaded live one.
    pub backends: Vec<SocketAddr>,
    /// Persistent connections per backend (per reactor).
    pub connections_per_backend: usize,
    /// Deadline of one request, from the call to the answer, over every
    /// backend it is tried on.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// How long one backend has to answer before the call moves to
    /// another: a connection silent for that long after a request is
    /// taken for a hung backend, dropped, and its calls sent elsewhere.
    #[serde(with = "humantime_serde")]
    pub try_timeout: Duration,
    /// Deadline of a connect and of the ping that proves a backend is alive.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// First wait before reconnecting to a failed backend; doubles per
    /// failure up to `backoff_max`.
    #[serde(with = "humantime_serde")]
    pub backoff_min: Duration,
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// Requests in flight per connection before calls answer `busy`.
    pub max_in_flight: usize,
    /// Largest frame accepted from a backend.
    pub max_frame: u32,
    /// The backends' caller key, shown in a `hello` on every new
    /// connection (PROTOCOL.md, "Callers"); empty: no `hello`. Never
    /// printed by `--print-config`.
    #[serde(serialize_with = "redacted")]
    pub key: String,
}

/// A set secret prints as `[redacted]`; the empty default stays empty, so
/// the config layering (which serialises the defaults) is unaffected.
fn redacted<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if v.is_empty() { "" } else { "[redacted]" })
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            backends: Vec::new(),
            connections_per_backend: 1,
            request_timeout: Duration::from_secs(2),
            try_timeout: Duration::from_millis(700),
            connect_timeout: Duration::from_secs(1),
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_secs(5),
            max_in_flight: 4096,
            max_frame: crate::proto::DEFAULT_MAX_FRAME,
            key: String::new(),
        }
    }
}
