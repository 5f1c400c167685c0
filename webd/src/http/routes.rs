//! What a web application gives the HTTP layer: a [`Routes`] table that
//! says which requests exist (and their body limits) and answers them, now
//! or later ([`Outcome`]), plus the hooks for its own event sources, worker
//! replies and periodic work. The connection logic is in `conn.rs`.

use super::head::Head;
use super::response::Response;
use mio::event::Event;
use mio::Token;
use std::net::SocketAddr;
use throng_core::reactor::{ConnId, Env};

/// What a handler did with a request.
pub enum Outcome {
    /// The answer, now.
    Now(Response),
    /// The answer comes later (an authd call, a worker), through the
    /// `done` list of `foreign`, `tick` or `reply`.
    Later,
}

/// Answers that became ready: the connection and its response.
pub type Done = Vec<(ConnId, Response)>;

/// What a web application provides.
pub trait Routes: 'static {
    /// Results that worker threads send back (avatar processing).
    type Reply: Send + 'static;

    /// The body limit of the route for `method` and `path`, or the answer
    /// that refuses it (404, or 405 with an `Allow` header).
    fn route(&self, method: &str, path: &str) -> Result<usize, Response>;

    /// Answers a request whose body arrived whole.
    fn handle(
        &mut self,
        conn: ConnId,
        peer: SocketAddr,
        head: &Head<'_>,
        body: &[u8],
        env: &mut Env<'_>,
    ) -> Outcome;

    /// An event for one of the application's own sockets.
    fn foreign(&mut self, token: Token, event: &Event, env: &mut Env<'_>, done: &mut Done) {
        let _ = (token, event, env, done);
    }

    /// Periodic work (deadlines of calls in flight), about every 10 ms.
    fn tick(&mut self, env: &mut Env<'_>, done: &mut Done) {
        let _ = (env, done);
    }

    fn wants_tick(&self) -> bool {
        false
    }

    /// The route label of `path` in the metrics (a fixed set: paths with
    /// ids in them must map to one label).
    fn route_label(&self, path: &str) -> &'static str {
        let _ = path;
        "other"
    }

    /// A worker's result.
    fn reply(&mut self, reply: Self::Reply, env: &mut Env<'_>, done: &mut Done) {
        let _ = (reply, env, done);
    }
}
