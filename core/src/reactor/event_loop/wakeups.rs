//! How long the loop may sleep in `epoll_wait`: until the first armed
//! timer, the wake-up the service asked for, an accept retry, or the next
//! drain check — and with none of them, until an event comes, so an idle
//! reactor does not wake on a fixed tick.

use super::{Reactor, TICK};
use crate::reactor::guard::contain;
use crate::reactor::Reactive;
use std::time::{Duration, Instant};

impl<S: Reactive> Reactor<S> {
    /// When the service's wake-up is due: what it asks for (asked under
    /// the panic guard, a panic counting as no wake-up), but never again
    /// within a tick of the last one when it asks for a past instant.
    pub(super) fn service_wakeup(&self) -> Option<Instant> {
        let service = &self.service;
        let at = contain(|| service.next_wakeup()).flatten()?;
        Some(match self.last_wakeup {
            Some(last) if at <= last => last + TICK,
            _ => at,
        })
    }

    /// How long the poll may sleep: until the first timer, the service's
    /// own wake-up, an accept retry, or (draining) the next drain check;
    /// with none of them, until an event comes.
    pub(super) fn poll_timeout(&self, now: Instant) -> Option<Duration> {
        let mut timeout = self.wheel.next_timeout(now);
        let mut until = |at: Instant| {
            let wait = at.saturating_duration_since(now);
            timeout = Some(timeout.map_or(wait, |t| t.min(wait)));
        };
        if let Some(at) = self.service_wakeup() {
            until(at);
        }
        if let Some(at) = self.accept_retry_at {
            until(at);
        }
        if self.drain_deadline.is_some() {
            until(now + TICK);
        }
        timeout
    }
}
