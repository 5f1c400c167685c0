//! Graceful shutdown of one reactor: stop accepting, let the service
//! finish what is in flight, close connections as they go quiet, and give
//! up at the drain deadline.

use super::Reactor;
use crate::reactor::guard::contain;
use crate::reactor::session::Conns;
use crate::reactor::Reactive;
use std::time::Instant;

impl<S: Reactive> Reactor<S> {
    /// Stops accepting and tells the service; connections are closed as they
    /// become idle by [`Reactor::drain_step`].
    pub(super) fn begin_drain(&mut self, now: Instant) {
        self.drain_deadline = Some(now + self.config.drain_timeout);
        for (mut listener, _) in self.listeners.drain(..) {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        let mut env = Self::env(&self.poll, now, true, self.index);
        let mut conns = Conns {
            slab: &mut self.conns,
            pool: &mut self.pool,
            touched: &mut self.touched,
            max_output: self.config.max_output,
        };
        let service = &mut self.service;
        if contain(|| service.shutdown(&mut conns, &mut env)).is_none() {
            self.shared.metrics.panics.inc();
        }
        self.settle_touched(now);
    }

    /// One drain pass; true when the reactor may exit.
    pub(super) fn drain_step(&mut self, now: Instant, deadline: Instant) -> bool {
        let overdue = now >= deadline;
        let done: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| overdue || (c.output.is_none() && !self.service.busy(&c.state)))
            .map(|(key, _)| key)
            .collect();
        for key in done {
            self.close(key, now);
        }
        if overdue && (!self.conns.is_empty() || self.service.pending() > 0) {
            log::warn!(
                "reactor {}: drain deadline passed with {} pending jobs; exiting anyway",
                self.index,
                self.service.pending()
            );
        }
        overdue || (self.conns.is_empty() && self.service.pending() == 0)
    }
}
