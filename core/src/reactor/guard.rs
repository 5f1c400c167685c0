//! Panic containment for service callbacks.
//!
//! A bug that panics while one connection's bytes are handled must cost
//! that connection, never the reactor and the thousands of connections it
//! carries. Every call into a [`Service`](super::Service) goes through
//! [`contain`], which turns an unwinding panic into `None`; the reactor then
//! closes the connection involved (after the service's last-words answer,
//! an HTTP 500 for webd) and counts it in `throng_panics_total`. The panic
//! hook of [`crate::logging`] has already logged the message, with a
//! backtrace the first time each location panics.
//!
//! The service is used again after its callback panicked. That is sound in
//! Rust terms (no memory is unsafe), and a service keeps its per-connection
//! state in the connection, which is dropped; state shared across
//! connections may be left half-updated by the panicking call, which is the
//! price of not stopping everyone else.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, returning `None` if it panicked.
pub(crate) fn contain<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}
