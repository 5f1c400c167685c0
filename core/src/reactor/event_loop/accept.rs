//! Accepting connections: until `WouldBlock` (the listener is
//! edge-triggered), through the global and per-address caps, and through
//! descriptor exhaustion.
//!
//! On `EMFILE`/`ENFILE` the connection stays in the kernel's queue and no
//! new edge comes until the next arrival, so giving up would strand every
//! queued client. A spare descriptor (`/dev/null`, from the server's shared
//! pool, [`crate::reactor::spares`]) is closed to make room, the waiting
//! connection is accepted, sent the service's refusal ("busy", at once) and
//! closed, and the spare reopened — the queue drains with an answer for
//! everyone instead of a hang. When even that fails (no spare could be
//! reopened, or the error is another shortage such as `ENOBUFS`),
//! accepting is retried after `ACCEPT_RETRY`, from the poll timeout: no
//! stall, and no spin.

use super::Reactor;
use crate::reactor::conn::Connection;
use crate::reactor::guard::contain;
use crate::reactor::service::ConnInfo;
use crate::reactor::spares::open_spare;
use crate::reactor::Reactive;
use mio::net::TcpStream;
use mio::{Interest, Token};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long accepting pauses when descriptors or buffers ran out.
pub(super) const ACCEPT_RETRY: Duration = Duration::from_millis(100);

fn is_fd_exhaustion(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

impl<S: Reactive> Reactor<S> {
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
        let shared = self.shared.clone();
        loop {
            // While descriptors are short, accept under the spares' lock,
            // so that a slot freed for a refusal is not taken by another
            // reactor's accept (see `spares`).
            let mut spares = shared
                .spares
                .recently_exhausted(now)
                .then(|| shared.spares.lock());
            let Some((listener, local)) = self.listeners.get(index) else {
                return;
            };
            let local = *local;
            match listener.accept() {
                Ok((stream, peer)) => {
                    drop(spares);
                    self.admit(stream, peer, local, index, now)
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionAborted => continue,
                Err(e) => {
                    self.warn_accept(local, &e, now);
                    if is_fd_exhaustion(&e) {
                        shared.spares.mark_exhausted(now);
                        let pool = spares.get_or_insert_with(|| shared.spares.lock());
                        if self.refuse_with_spare(index, pool) {
                            continue;
                        }
                    }
                    self.accept_retry_at = Some(now + ACCEPT_RETRY);
                    return;
                }
            }
        }
    }

    /// Gives up a spare descriptor to accept one queued connection and
    /// refuse it. False when there was no spare (one is reopened for next
    /// time if a slot is free) or the accept still failed.
    fn refuse_with_spare(&mut self, index: usize, pool: &mut Vec<std::fs::File>) -> bool {
        let Some(spare) = pool.pop() else {
            pool.extend(open_spare());
            return false;
        };
        drop(spare);
        let accepted = self.listeners[index].0.accept();
        let refused = match accepted {
            Ok((stream, _)) => {
                self.refuse(stream);
                true
            }
            Err(_) => false,
        };
        pool.extend(open_spare());
        refused
    }

    /// Sends the service's refusal and closes. A fresh socket's send
    /// buffer takes a short refusal whole. What the peer already sent (its
    /// request, usually) is read and dropped first: closing with unread
    /// input would answer with a reset, which can destroy the refusal
    /// before the peer reads it.
    fn refuse(&mut self, mut stream: TcpStream) {
        self.shared.metrics.refused.inc();
        let _ = stream.write(self.service.refusal());
        for _ in 0..4 {
            match stream.read(&mut self.scratch) {
                Ok(n) if n > 0 => continue,
                _ => break,
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Write);
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
            self.refuse(stream);
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
        let mut conn = Connection::new(stream, id, peer, state, now);
        conn.deadline = self.service.open_deadline(now);
        entry.insert(conn);
        self.shared.metrics.accepted.inc();
        self.shared.metrics.open.add(1);
        self.arm(key);
    }
}
