//! What a web application gives the HTTP layer: a [`Routes`] table that
//! says which requests exist (and their body limits) and answers them, now
//! or later ([`Outcome`]), plus the hooks for its own event sources, worker
//! replies and wake-ups. These mirror the reactor's `Driven` trait, but an
//! application answers them with HTTP responses in a [`Done`] list, which
//! the connection logic (`conn.rs`) writes in order with the pipelined
//! requests behind them.

use super::head::Head;
use super::response::Response;
use mio::event::Event;
use mio::Token;
use std::net::IpAddr;
use std::time::Instant;
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

/// A request's route, resolved once from its method and path.
pub struct Routed<R> {
    /// The route's label in the metrics (a fixed set: paths with ids in
    /// them map to one label).
    pub label: &'static str,
    /// The route and its body limit, or the answer that refuses the
    /// request (404, or 405 with an `Allow` header).
    pub route: Result<(R, usize), Response>,
}

/// What a web application provides.
pub trait Routes: 'static {
    /// What a request resolves to; kept with the request until its body
    /// is whole, then handed to [`Routes::handle`].
    type Route: Copy + 'static;
    /// Results that worker threads send back (avatar processing).
    type Reply: Send + 'static;

    /// Resolves the request for `method` and `path`, once, as soon as its
    /// head is here.
    fn route(&self, method: &str, path: &str) -> Routed<Self::Route>;

    /// Answers a request whose body arrived whole.
    #[allow(clippy::too_many_arguments)]
    fn handle(
        &mut self,
        route: Self::Route,
        conn: ConnId,
        client: IpAddr,
        head: &Head<'_>,
        body: &[u8],
        env: &mut Env<'_>,
    ) -> Outcome;

    /// An event for one of the application's own sockets.
    fn foreign(&mut self, token: Token, event: &Event, env: &mut Env<'_>, done: &mut Done) {
        let _ = (token, event, env, done);
    }

    /// When the application next wants [`Routes::wakeup`] (deadlines of
    /// calls in flight); `None` lets an idle reactor sleep.
    fn next_wakeup(&self) -> Option<Instant> {
        None
    }

    /// The instant of [`Routes::next_wakeup`] has come.
    fn wakeup(&mut self, env: &mut Env<'_>, done: &mut Done) {
        let _ = (env, done);
    }

    /// Once per turn of the reactor's loop, before it sleeps
    /// ([`throng_core::reactor::Driven::before_sleep`]).
    fn before_sleep(&mut self, env: &mut Env<'_>, done: &mut Done) {
        let _ = (env, done);
    }

    /// A worker's result.
    fn reply(&mut self, reply: Self::Reply, env: &mut Env<'_>, done: &mut Done) {
        let _ = (reply, env, done);
    }
}
