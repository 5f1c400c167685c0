//! throng-core: what every Throng daemon runs on.
//!
//! - [`reactor`] and [`server`]: one `mio` event loop per core with its own
//!   `SO_REUSEPORT` listener, connections in a `slab`, a timer wheel,
//!   bounded hand-off from workers, a connection cap and graceful drain.
//! - [`proto`] and [`rpc`]: the binary protocol (`PROTOCOL.md`) and its
//!   server on the reactor; [`client`]: its multiplexing client.
//! - [`config`], [`logging`], [`metrics`], [`selfcheck`]: the daemon
//!   plumbing, shared so every daemon behaves the same.

pub mod buffer;
pub mod client;
pub mod config;
pub mod cores;
pub mod daemon;
pub mod handoff;
pub mod listener;
pub mod logging;
pub mod metrics;
pub mod metrics_http;
pub mod nbio;
pub mod node_token;
pub mod proto;
pub mod reactor;
pub mod rlimit;
pub mod rpc;
pub mod selfcheck;
pub mod server;
pub mod shutdown;
pub mod sysctl;
pub mod timer;
