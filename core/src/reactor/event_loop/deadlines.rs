//! The reactor's deadlines: firing the timer wheel (idle and service
//! deadlines of connections, re-arming lazily when a deadline moved), the
//! wake-ups the service asked for, and its call at the end of every turn.

use super::Reactor;
use crate::reactor::guard::contain;
use crate::reactor::session::Session;
use crate::reactor::{conn_key, Reactive};
use std::time::Instant;

impl<S: Reactive> Reactor<S> {
    pub(super) fn timers(&mut self, now: Instant) {
        self.wheel.expire(now, &mut self.fired);
        let idle = self.config.idle();
        let mut fired = std::mem::take(&mut self.fired);
        for (id, at) in fired.drain(..) {
            let key = conn_key(id);
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            if conn.id != id || conn.armed_at != Some(at) {
                continue; // a stale entry: the deadline moved since
            }
            conn.armed_at = None;
            match conn.effective_deadline(idle) {
                Some(_) if conn.lingering && conn.deadline.is_some_and(|d| d <= now) => {
                    conn.dead = true; // lingered long enough
                    self.settle(key, now);
                }
                Some(deadline) if deadline <= now => {
                    self.shared.metrics.timed_out.inc();
                    let mut env =
                        Self::env(&self.poll, now, self.drain_deadline.is_some(), self.index);
                    let mut session = Session {
                        conn,
                        pool: &mut self.pool,
                        max_output: self.config.max_output,
                    };
                    let service = &mut self.service;
                    if contain(|| service.deadline(&mut session, &mut env)).is_none() {
                        self.shared.metrics.panics.inc();
                        session.close();
                    }
                    if let Some(conn) = self.conns.get_mut(key) {
                        // The service may not have moved the deadline; never
                        // fire the same past deadline in a loop.
                        if conn.effective_deadline(idle).is_some_and(|d| d <= now) {
                            conn.deadline = None;
                            conn.last_active = now;
                        }
                    }
                    self.settle(key, now);
                }
                Some(_) => self.arm(key),
                None => {}
            }
        }
        self.fired = fired;
        if self.service_wakeup().is_some_and(|at| at <= now) {
            self.last_wakeup = Some(now);
            self.with_conns(now, |service, conns, env| service.wakeup(conns, env));
            self.settle_touched(now);
        }
    }

    /// The service's [`Driven::before_sleep`](crate::reactor::Driven::before_sleep),
    /// once per turn, then whatever it answered is written.
    pub(super) fn before_sleep(&mut self, now: Instant) {
        self.with_conns(now, |service, conns, env| service.before_sleep(conns, env));
        if !self.touched.is_empty() {
            self.settle_touched(now);
        }
    }
}
