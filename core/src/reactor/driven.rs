//! The second trait of a service on the reactor: what moves it besides its
//! connections' bytes. Results from worker threads, events of sockets it
//! registered itself, wake-ups it asked for, and draining at shutdown.
//! Every method has a default, so a service implements only what it has
//! (a plain protocol: `impl Driven<MyConn> for MyService { type Reply = (); }`).
//!
//! It is generic over the connection state rather than tied to `Service`,
//! so a layer inside a service (the protocol server's operation handler)
//! implements the same trait for the connections it sees.

use super::service::Env;
use super::session::Conns;
use mio::event::Event;
use mio::Token;
use std::time::Instant;

pub trait Driven<C>: 'static {
    /// Results that worker threads send back to this reactor.
    type Reply: Send + 'static;

    /// A worker's result arrived; find its connection with `conns.get(id)`.
    fn reply(&mut self, reply: Self::Reply, conns: &mut Conns<'_, C>, env: &mut Env<'_>) {
        let _ = (reply, conns, env);
    }

    /// An event for a token the service registered itself, in
    /// `FOREIGN_TOKEN_BASE..=FOREIGN_TOKEN_END`.
    fn foreign(
        &mut self,
        token: Token,
        event: &Event,
        conns: &mut Conns<'_, C>,
        env: &mut Env<'_>,
    ) {
        let _ = (token, event, conns, env);
    }

    /// When the service next wants [`Driven::wakeup`]: its own deadlines,
    /// a batch to flush. `None` (the default) lets an idle reactor sleep
    /// until something happens.
    fn next_wakeup(&self) -> Option<Instant> {
        None
    }

    /// The instant of [`Driven::next_wakeup`] has come (the reactor may be
    /// late by up to a poll, never early).
    fn wakeup(&mut self, conns: &mut Conns<'_, C>, env: &mut Env<'_>) {
        let _ = (conns, env);
    }

    /// Once per turn of the loop, after its events and due wake-ups were
    /// handled and before the reactor sleeps again (Redis's `beforeSleep`):
    /// where what the turn queued for the service's own sockets (calls to
    /// a backend) leaves together, one write per socket. Called every turn,
    /// never rate-limited like a past [`Driven::next_wakeup`], so it must
    /// cost nothing when there is nothing to do.
    fn before_sleep(&mut self, conns: &mut Conns<'_, C>, env: &mut Env<'_>) {
        let _ = (conns, env);
    }

    /// Whether this connection still waits for work in flight; a draining
    /// reactor keeps such connections open until the drain deadline.
    fn busy(&self, conn: &C) -> bool {
        let _ = conn;
        false
    }

    /// Work in flight that belongs to no connection (batched writes and the
    /// like); the reactor keeps running while it is non-zero when draining.
    fn pending(&self) -> usize {
        0
    }

    /// Shutdown began: stop starting new work, flush what is batched.
    fn shutdown(&mut self, conns: &mut Conns<'_, C>, env: &mut Env<'_>) {
        let _ = (conns, env);
    }
}

/// A service the reactor can run: a [`Service`](super::Service) that is
/// [`Driven`] over its own connections.
pub trait Reactive: super::Service + Driven<<Self as super::Service>::Conn> {}

impl<S: super::Service + Driven<<S as super::Service>::Conn>> Reactive for S {}
