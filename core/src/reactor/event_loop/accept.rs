//! Accepting connections: until `WouldBlock` (the listener is
//! edge-triggered), through the global and per-address caps, and through
//! descriptor exhaustion.
//!
//! On `EMFILE`/`ENFILE` the connection stays in the kernel's queue and no
//! new edge comes until the next arrival, so giving up would strand every
//! queued client. Each reactor keeps one spare descriptor (`/dev/null`):
//! it is closed to make room, the waiting connection is accepted, sent the
//! service's refusal ("busy", at once) and closed, and the spare reopened —
//! the queue drains with an answer for everyone instead of a hang. When
//! even that fails (no spare could be reopened, or the error is another
//! shortage such as `ENOBUFS`), accepting is retried after
//! `ACCEPT_RETRY`, from the poll timeout: no stall, and no spin.

use super::Reactor;
use crate::reactor::conn::Connection;
use crate::reactor::guard::contain;
use crate::reactor::service::{ConnInfo, Service};
use mio::net::TcpStream;
use mio::{Interest, Token};
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long accepting pauses when descriptors or buffers ran out.
pub(super) const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// The spare descriptor given up to accept-and-refuse at `EMFILE`.
pub(super) fn spare_fd() -> Option<File> {
    File::open("/dev/null").ok()
}

fn is_fd_exhaustion(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

impl<S: Service> Reactor<S> {
    /// Accepts on every listener (after a pause for exhaustion).
    pub(super) fn accept_all(&mut self, now: Instant) {
        for index in 0..self.listeners.len() {
            self.accept(index, now);
        }
    }

    pub(super) fn accept(&mut self, index: usize, now: Instant) {
        if self.accept_retry_at.is_some_and(|at| now < at) {
            return; // paused: the retry accepts what queued meanwhile
        }
        self.accept_retry_at = None;
        loop {
            let Some((listener, local)) = self.listeners.get(index) else {
                return;
            };
            let local = *local;
            match listener.accept() {
                Ok((stream, peer)) => self.admit(stream, peer, local, index, now),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionAborted => continue,
                Err(e) => {
                    self.warn_accept(local, &e, now);
                    if is_fd_exhaustion(&e) && self.refuse_with_spare(index) {
                        continue;
                    }
                    self.accept_retry_at = Some(now + ACCEPT_RETRY);
                    return;
                }
            }
        }
    }

    /// Gives up the spare descriptor to accept one queued connection and
    /// refuse it. False when there was no spare or the accept still failed.
    fn refuse_with_spare(&mut self, index: usize) -> bool {
        if self.spare.take().is_none() {
            self.spare = spare_fd();
            return false;
        }
        let accepted = self.listeners[index].0.accept();
        let refused = match accepted {
            Ok((mut stream, _)) => {
                self.shared.metrics.refused.inc();
                let _ = stream.write(self.service.refusal());
                true
            }
            Err(_) => false,
        };
        self.spare = spare_fd();
        refused
    }

    fn warn_accept(&mut self, local: SocketAddr, e: &std::io::Error, now: Instant) {
        // Say why once a second rather than per attempt.
        let due = self
            .last_accept_warning
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
        if due {
            self.last_accept_warning = Some(now);
            log::warn!(
                "accept on {local} failed: {e}; connections are refused with 'busy' meanwhile; \
                 if this is 'Too many open files', lower max_connections or raise \
                 RLIMIT_NOFILE (see `tune check`)"
            );
        }
    }

    fn admit(
        &mut self,
        mut stream: TcpStream,
        peer: SocketAddr,
        local: SocketAddr,
        listener: usize,
        now: Instant,
    ) {
        let open = self.shared.open.fetch_add(1, Ordering::AcqRel);
        let over_cap = open >= self.config.max_connections || self.conns.len() >= u32::MAX as usize;
        if over_cap || !self.shared.per_ip.try_acquire(peer.ip()) {
            self.shared.open.fetch_sub(1, Ordering::AcqRel);
            self.shared.metrics.refused.inc();
            // Best effort: a fresh socket's send buffer takes a short refusal.
            let _ = stream.write(self.service.refusal());
            return;
        }
        if self.config.nodelay {
            let _ = stream.set_nodelay(true);
        }
        let entry = self.conns.vacant_entry();
        let key = entry.key();
        self.generation = self.generation.wrapping_add(1);
        let id = (u64::from(self.generation) << 32) | key as u64;
        let forget = |reactor: &Self| {
            reactor.shared.open.fetch_sub(1, Ordering::AcqRel);
            reactor.shared.per_ip.release(peer.ip());
        };
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, Token(key), Interest::READABLE)
        {
            log::warn!("register of a connection from {peer} failed: {e}");
            forget(self);
            return;
        }
        let info = ConnInfo {
            peer,
            local,
            listener,
        };
        let mut env = Self::env(&self.poll, now, self.drain_deadline.is_some(), self.index);
        let service = &mut self.service;
        let Some(state) = contain(|| service.open(id, &info, &mut env)) else {
            self.shared.metrics.panics.inc();
            let _ = self.poll.registry().deregister(&mut stream);
            forget(self);
            return;
        };
        entry.insert(Connection::new(stream, id, peer, state, now));
        self.shared.metrics.accepted.inc();
        self.shared.metrics.open.add(1);
        self.arm(key);
    }
}
