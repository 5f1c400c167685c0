//! Lingering close: after an answer that ends a connection while the peer
//! may still be sending (an error before its body was read), closing at
//! once with unread bytes in the receive queue makes the kernel send a
//! reset, and a reset can destroy the answer in the peer's receive buffer
//! before the peer read it. So the reactor shuts down its sending side
//! (the peer sees the end of the answer), reads and drops what still comes,
//! and closes when the peer closes, after `LINGER_BYTES`, or at
//! `LINGER_TIME` — whichever is first, so a peer cannot hold the slot.

use super::Reactor;
use crate::reactor::Reactive;
use std::io::{ErrorKind, Read};
use std::net::Shutdown;
use std::time::{Duration, Instant};

/// Longest a lingering connection is kept.
pub(super) const LINGER_TIME: Duration = Duration::from_secs(2);
/// Most bytes read and dropped while lingering.
pub(super) const LINGER_BYTES: u64 = 1024 * 1024;

impl<S: Reactive> Reactor<S> {
    /// The answer is out: shut down the sending side and start discarding.
    pub(super) fn begin_linger(&mut self, key: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        conn.lingering = true;
        conn.deadline = Some(now + LINGER_TIME);
        conn.out_pos = 0; // counts the bytes dropped from here on
        if let Some(buf) = conn.input.take() {
            self.pool.give(buf);
        }
        if conn.stream.shutdown(Shutdown::Write).is_err() {
            conn.dead = true;
            return;
        }
        self.discard(key);
    }

    /// Reads and drops what the peer sends; marks the connection dead once
    /// the peer closed or sent too much.
    pub(super) fn discard(&mut self, key: usize) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        loop {
            match conn.stream.read(&mut self.scratch) {
                Ok(0) => break conn.dead = true,
                Ok(n) => {
                    conn.out_pos = conn.out_pos.saturating_add(n);
                    if conn.out_pos as u64 >= LINGER_BYTES {
                        break conn.dead = true;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break conn.dead = true,
            }
        }
    }
}
