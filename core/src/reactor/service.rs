//! The trait a protocol implements to run on the reactor, and the context it
//! is handed on every call.

use super::session::{Conns, Session};
use super::ConnId;
use mio::event::Event;
use mio::{Registry, Token};
use std::net::SocketAddr;
use std::time::Instant;

/// What the reactor knows about a new connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// Index into the daemon's `listen` list of the listener that accepted it.
    pub listener: usize,
}

/// Reactor-wide context: the registry for a service's own event sources, the
/// time of this loop iteration, and whether the daemon is draining.
pub struct Env<'a> {
    pub registry: &'a Registry,
    /// Taken once per loop iteration: cheap, monotonic, shared by all events.
    pub now: Instant,
    /// True once shutdown began: finish what is in flight, start nothing new.
    pub draining: bool,
    /// Which reactor thread this is (0-based).
    pub reactor: usize,
}

/// A protocol on the reactor. One instance per reactor thread, so it needs
/// no locks; it is built inside its thread and need not be `Send`.
pub trait Service: 'static {
    /// Per-connection protocol state.
    type Conn;
    /// Results that worker threads send back to this reactor.
    type Reply: Send + 'static;

    /// A connection was accepted.
    fn open(&mut self, id: ConnId, info: &ConnInfo, env: &mut Env<'_>) -> Self::Conn;

    /// Bytes arrived. `input` holds everything not yet consumed; return how
    /// many bytes were used (the rest is kept and offered again with more).
    fn data(&mut self, s: &mut Session<'_, Self::Conn>, input: &[u8], env: &mut Env<'_>) -> usize;

    /// A worker's result arrived; find its connection with `conns.get(id)`.
    fn reply(&mut self, reply: Self::Reply, conns: &mut Conns<'_, Self::Conn>, env: &mut Env<'_>) {
        let _ = (reply, conns, env);
    }

    /// The connection's deadline passed (the idle timeout, or one the
    /// service set). The default closes it.
    fn deadline(&mut self, s: &mut Session<'_, Self::Conn>, env: &mut Env<'_>) {
        let _ = env;
        s.close();
    }

    /// The connection with `peer` is gone (peer closed, error, timeout or
    /// close asked).
    fn closed(&mut self, id: ConnId, peer: SocketAddr, conn: Self::Conn, env: &mut Env<'_>) {
        let _ = (id, peer, conn, env);
    }

    /// An event for a token the service registered itself, in
    /// `FOREIGN_TOKEN_BASE..=FOREIGN_TOKEN_END`.
    fn foreign(
        &mut self,
        token: Token,
        event: &Event,
        conns: &mut Conns<'_, Self::Conn>,
        env: &mut Env<'_>,
    ) {
        let _ = (token, event, conns, env);
    }

    /// Whether the service wants [`Service::tick`] about every 10 ms.
    fn wants_tick(&self) -> bool {
        false
    }

    /// Periodic work: the service's own deadlines, batching, flushing.
    fn tick(&mut self, conns: &mut Conns<'_, Self::Conn>, env: &mut Env<'_>) {
        let _ = (conns, env);
    }

    /// Whether this connection still waits for work in flight; a draining
    /// reactor keeps such connections open until the drain deadline.
    fn busy(&self, conn: &Self::Conn) -> bool {
        let _ = conn;
        false
    }

    /// Work in flight that belongs to no connection (batched writes and the
    /// like); the reactor keeps running while it is non-zero when draining.
    fn pending(&self) -> usize {
        0
    }

    /// Shutdown began: stop starting new work, flush what is batched.
    fn shutdown(&mut self, conns: &mut Conns<'_, Self::Conn>, env: &mut Env<'_>) {
        let _ = (conns, env);
    }

    /// Bytes written to a connection whose callback panicked, in place of
    /// anything it had queued, before it is closed (an HTTP 500).
    fn panicked(&self) -> &[u8] {
        &[]
    }

    /// Bytes written to a connection refused because the cap is reached
    /// (an HTTP 503, a `busy` frame), sent best-effort before closing.
    fn refusal(&self) -> &[u8] {
        &[]
    }
}
