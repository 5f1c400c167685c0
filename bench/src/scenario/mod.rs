//! Scenarios of `bench run`: what one request looks like on the wire and how
//! to recognise its answer. The load engine is the same for all of them, so
//! ours and the anchors (Redis) are measured by exactly the same client.

mod ping;
mod resp;

pub use ping::Ping;
pub use resp::{RespCommand, RespScenario};

use std::net::SocketAddr;

/// One decoded answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The expected answer.
    Ok,
    /// A well-formed answer that reports failure (counted as an error).
    Failed,
}

/// Why a connection's byte stream cannot be read any more.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StreamError(pub String);

/// A request/response workload over one TCP connection.
pub trait Workload: Send + Sync {
    fn name(&self) -> &'static str;

    /// Where the scenario's server listens by default.
    fn default_target(&self) -> SocketAddr;

    /// Bytes sent once after connecting (authentication); each produces one
    /// answer that is read and must be `Ok` before the run starts.
    fn handshake(&self, out: &mut Vec<u8>) -> usize {
        let _ = out;
        0
    }

    /// Appends request number `seq` of connection `conn`.
    fn request(&self, conn: usize, seq: u64, out: &mut Vec<u8>);

    /// Reads one answer from the front of `input`: `Ok(None)` when it is
    /// not complete yet, else the bytes it took and what it said.
    fn answer(&self, input: &[u8]) -> Result<Option<(usize, Answer)>, StreamError>;
}

/// The scenario called `name`, built with `options`.
pub fn by_name(name: &str, options: &ScenarioOptions) -> Result<Box<dyn Workload>, String> {
    match name {
        "ping" => Ok(Box::new(Ping)),
        "resp-ping" => Ok(Box::new(RespScenario::new(
            RespCommand::Ping,
            options.redis_password.clone(),
        ))),
        "resp-incr" => Ok(Box::new(RespScenario::new(
            RespCommand::Incr,
            options.redis_password.clone(),
        ))),
        _ if PLANNED.contains(&name) => Err(format!(
            "scenario {name} needs a part of Throng that is not built yet; available now: {}",
            AVAILABLE.join(", ")
        )),
        _ => Err(format!(
            "unknown scenario {name}; available: {}",
            AVAILABLE.join(", ")
        )),
    }
}

/// Scenarios that run today.
pub const AVAILABLE: &[&str] = &["ping", "resp-ping", "resp-incr"];

/// Scenarios named in the design whose servers are not built yet.
const PLANNED: &[&str] = &[
    "http-login",
    "http-home",
    "http-static",
    "rpc-signin",
    "rpc-session",
    "rpc-lookup",
    "mass",
];

/// Settings some scenarios need.
#[derive(Debug, Clone, Default)]
pub struct ScenarioOptions {
    /// Redis `AUTH` password for the `resp-*` scenarios.
    pub redis_password: Option<String>,
}
