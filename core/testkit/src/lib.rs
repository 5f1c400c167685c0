//! throng-testkit: the support every crate's tests share, written once.
//!
//! - [`TestStores`]: a MariaDB database and a Redis key prefix of one test
//!   on the private stores `make test` starts, removed when dropped.
//! - [`Outbox`]: the mails authd wrote to its outbox file (codes).
//! - [`BlockingClient`]: a blocking client of the binary protocol, typed with
//!   `authd-wire`'s operations or raw for malformed requests.
//! - [`spawn`]: start a daemon and wait until it listens.
//! - [`process`]: a daemon's CPU time and resident memory, from `/proc`.
//! - [`Relay`]: a TCP relay standing for a store node that a test kills.
//! - [`doc_table`]: the rows of a markdown table, for tests that keep a
//!   page and the code equal.

mod client;
pub mod doc_table;
pub mod geoip;
mod outbox;
pub mod process;
mod relay;
pub mod spawn;
mod stores;

pub use client::{BlockingClient, RawAnswer};
pub use outbox::Outbox;
pub use relay::Relay;
pub use stores::{env, TestStores};

use std::time::{Duration, Instant};

/// True as soon as `f` is, false if it is not within `within`.
pub fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
