//! Scenarios of `bench run`: what one request looks like on the wire and how
//! to recognise its answer. The load engine is the same for all of them, so
//! ours and the anchors (Redis) are measured by exactly the same client.

mod http;
mod ping;
mod resp;
mod rpc;

pub use http::{Http, HttpKind};
pub use ping::Ping;
pub use resp::{RespCommand, RespScenario};
pub use rpc::{Rpc, RpcKind};

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

    /// Requests sent once after connecting, before the clock starts
    /// (authentication, a sign-in); returns how many answers to await.
    fn handshake(&self, conn: usize, out: &mut Vec<u8>) -> usize {
        let _ = (conn, out);
        0
    }

    /// Reads one handshake answer, keeping in `state` what the
    /// connection's requests need (a session token, a user id).
    fn handshake_answer(
        &self,
        input: &[u8],
        state: &mut Vec<u8>,
    ) -> Result<Option<(usize, Answer)>, StreamError> {
        let _ = state;
        self.answer(input)
    }

    /// After each handshake answer: requests that depend on it (a form
    /// posted with the token its page carried); returns how many more
    /// answers to await.
    fn handshake_more(&self, conn: usize, state: &[u8], out: &mut Vec<u8>) -> usize {
        let _ = (conn, state, out);
        0
    }

    /// Appends request number `seq` of connection `conn`.
    fn request(&self, conn: usize, state: &[u8], seq: u64, out: &mut Vec<u8>);

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
        "http-static" => Ok(Box::new(Http::new(
            HttpKind::Static,
            options.users,
            options.connections,
        ))),
        "http-login" => Ok(Box::new(Http::new(
            HttpKind::Login,
            options.users,
            options.connections,
        ))),
        "http-home" => Ok(Box::new(Http::new(
            HttpKind::Home,
            options.users,
            options.connections,
        ))),
        "rpc-signin" => Ok(Box::new(Rpc::new(
            RpcKind::SignIn,
            options.users,
            options.connections,
            options.authd_key.clone(),
        ))),
        "rpc-session" => Ok(Box::new(Rpc::new(
            RpcKind::Session,
            options.users,
            options.connections,
            options.authd_key.clone(),
        ))),
        "rpc-lookup" => Ok(Box::new(Rpc::new(
            RpcKind::Lookup,
            options.users,
            options.connections,
            options.authd_key.clone(),
        ))),
        "rpc-signup" => Ok(Box::new(Rpc::new(
            RpcKind::SignUp,
            options.users,
            options.connections,
            options.authd_key.clone(),
        ))),
        _ => Err(format!(
            "unknown scenario {name}; available: {}",
            AVAILABLE.join(", ")
        )),
    }
}

/// Scenarios that run today.
pub const AVAILABLE: &[&str] = &[
    "http-static",
    "http-login",
    "http-home",
    "ping",
    "resp-ping",
    "resp-incr",
    "rpc-signin",
    "rpc-session",
    "rpc-lookup",
    "rpc-signup",
    "mass",
];

/// Settings some scenarios need.
#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    /// Redis `AUTH` password for the `resp-*` scenarios.
    pub redis_password: Option<String>,
    /// authd's caller key for the `rpc-*` scenarios.
    pub authd_key: Option<String>,
    /// Seeded users the `rpc-*` scenarios cycle through.
    pub users: u64,
    /// Connections of the run (the `rpc-*` scenarios spread users by it).
    pub connections: usize,
}
