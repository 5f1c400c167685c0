//! The trait a protocol implements to run on the reactor, and the context it
//! is handed on every call.

use super::session::Session;
use super::ConnId;
use mio::Registry;
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

/// A protocol on the reactor: the hooks every protocol needs. One instance
/// per reactor thread, so it needs no locks; it is built inside its thread
/// and need not be `Send`. What moves a service besides its connections'
/// bytes (worker replies, its own event sources, wake-ups, draining) is the
/// second trait, [`Driven`](super::Driven), whose every method has a default.
pub trait Service: 'static {
    /// Per-connection protocol state.
    type Conn;

    /// A connection was accepted.
    fn open(&mut self, id: ConnId, info: &ConnInfo, env: &mut Env<'_>) -> Self::Conn;

    /// The deadline a new connection starts with, if not the idle timeout
    /// (a handshake that must come soon). The default: none.
    fn open_deadline(&self, now: std::time::Instant) -> Option<std::time::Instant> {
        let _ = now;
        None
    }

    /// Bytes arrived. `input` holds everything not yet consumed; return how
    /// many bytes were used (the rest is kept and offered again with more).
    fn data(&mut self, s: &mut Session<'_, Self::Conn>, input: &[u8], env: &mut Env<'_>) -> usize;

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

    /// Bytes written to a connection refused because the cap is reached
    /// (an HTTP 503, a `busy` frame), sent best-effort before closing.
    fn refusal(&self) -> &[u8] {
        &[]
    }

    /// Bytes written to a connection whose callback panicked, in place of
    /// anything it had queued, before it is closed (an HTTP 500).
    fn panicked(&self) -> &[u8] {
        &[]
    }
}
