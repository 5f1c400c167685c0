//! massd: the massive-connection counter servers, their client fleet, the
//! ops console and the launcher — the mass_connect system rebuilt on the
//! throng-core reactor, framed, checked and authenticated.
//!
//! - [`server`]: `massd serve`, one counter server process;
//! - [`client`]: `massd client`, one process of the client fleet;
//! - [`ctl`]: `massd ctl`, the ops console of the admin endpoints;
//! - [`launch`]: `massd launch` / `massd stop`, the whole fleet of a host;
//! - [`proto`]: the wire protocol (`PROTOCOL.md`); [`config`]: `mass.toml`.

pub mod admin_probe;
pub mod admin_wire;
pub mod cli;
pub mod client;
pub mod config;
pub mod ctl;
pub mod launch;
pub mod limits;
pub mod proto;
pub mod server;
pub mod token_file;
pub mod topology;

pub use cli::{run, Cli};
