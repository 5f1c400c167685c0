//! tuning: kernel and limits profiles per Throng role, worked out from the
//! role's target ([`plan`]), checked against the live system ([`check`]),
//! installed and reverted ([`apply`]). Throng's own listening ports, which
//! the mass profile reserves, are listed once ([`ports`]). The live reader ([`live`]) takes a
//! root path and reads sysctls through throng-core, the same code the
//! daemons' start-up self-check uses.

pub mod apply;
pub mod check;
pub mod cli;
pub mod live;
pub mod plan;
pub mod ports;
pub mod profile;
pub mod role;
pub mod rule;
