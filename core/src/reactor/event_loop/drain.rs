//! Graceful shutdown of one reactor: stop accepting, let the service
//! finish what is in flight, close connections as they go quiet, and give
//! up at the drain deadline.

use super::Reactor;
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
        // drain_deadline is set: the hook's Env says draining.
        self.with_conns(now, |service, conns, env| service.shutdown(conns, env));
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
