//! The reactor: one `mio` event loop per thread, owning its connections in a
//! `slab`, its own `SO_REUSEPORT` listeners, a timer wheel and a reply queue
//! from worker threads.
//!
//! A protocol plugs in by implementing [`Service`]: it sees bytes in and
//! writes bytes out through a [`Session`], and asks for a close; and
//! [`Driven`] for what else moves it (worker replies, its own sockets, the
//! wake-ups it asks for). Everything
//! else — accepting until `WouldBlock`, reading until `WouldBlock`, partial
//! writes, write interest only while output is pending, idle deadlines, the
//! connection cap and graceful draining — lives here, once, for webd, authd
//! and massd alike.

mod config;
mod conn;
mod driven;
pub(crate) mod event_loop;
mod guard;
mod per_ip;
mod placement;
mod service;
mod session;
pub(crate) mod spares;

pub use config::ReactorConfig;
pub use driven::{Driven, Reactive};
pub use event_loop::Reactor;
pub use per_ip::PerIpLimit;
pub use placement::{CpuPlan, Placement};
pub use service::{ConnInfo, Env, Service};
pub use session::{Conns, Session};

/// Identifies a connection for its whole life: the slab key in the low 32
/// bits and a per-reactor generation in the high 32, so a reply for a closed
/// connection can never reach the connection that reused its slot.
pub type ConnId = u64;

/// First token value a service may use for its own event sources (for
/// example the protocol client's backend connections). Tokens below it are
/// connections; a few at the very top are the reactor's own.
pub const FOREIGN_TOKEN_BASE: usize = usize::MAX / 2 + 1;
/// Last token value a service may use for its own event sources.
pub const FOREIGN_TOKEN_END: usize = usize::MAX - 1024;

pub(crate) const LISTENER_TOKEN_BASE: usize = usize::MAX - 1023;
pub(crate) const WAKER_TOKEN: usize = usize::MAX;

pub(crate) fn conn_key(id: ConnId) -> usize {
    (id & 0xffff_ffff) as usize
}
