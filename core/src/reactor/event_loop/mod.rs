//! The event loop itself, in the order it runs: poll, dispatch each event
//! (accept, connection I/O, the service's own sources, the waker), drain the
//! worker replies, flush and close what the callbacks touched, fire timers,
//! and, once shutdown began, drain.

mod deadlines;
mod drain;

use super::conn::Connection;
use super::service::{ConnInfo, Env, Service};
use super::session::{Conns, Session};
use super::{
    ConnId, ReactorConfig, FOREIGN_TOKEN_BASE, FOREIGN_TOKEN_END, LISTENER_TOKEN_BASE, WAKER_TOKEN,
};
use crate::buffer::BufferPool;
use crate::handoff::ReplyReceiver;
use crate::metrics::ReactorMetrics;
use crate::timer::TimerWheel;
use mio::event::Event;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_millis(10);
const WHEEL_SLOTS: usize = 1024;
const POOL_BUFFER: usize = 4096;
const POOL_MAX: usize = 1024;

/// State shared by all reactors of one server (stop flag, open count, metrics).
#[derive(Debug)]
pub(crate) struct Shared {
    pub stop: AtomicBool,
    pub open: AtomicUsize,
    pub metrics: ReactorMetrics,
}

type TimerEntry = (usize, ConnId, Instant);

/// One reactor thread's loop. Built by `Server`, run on its own thread.
pub struct Reactor<S: Service> {
    index: usize,
    poll: Poll,
    listeners: Vec<(TcpListener, SocketAddr)>,
    conns: Slab<Connection<S::Conn>>,
    service: S,
    replies: ReplyReceiver<S::Reply>,
    wheel: TimerWheel<TimerEntry>,
    fired: Vec<TimerEntry>,
    pool: BufferPool,
    scratch: Vec<u8>,
    touched: Vec<usize>,
    config: ReactorConfig,
    shared: Arc<Shared>,
    generation: u32,
    drain_deadline: Option<Instant>,
    last_service_tick: Instant,
    last_accept_warning: Option<Instant>,
}

impl<S: Service> Reactor<S> {
    pub(crate) fn new(
        index: usize,
        poll: Poll,
        listeners: Vec<(TcpListener, SocketAddr)>,
        service: S,
        replies: ReplyReceiver<S::Reply>,
        config: ReactorConfig,
        shared: Arc<Shared>,
    ) -> io::Result<Self> {
        let now = Instant::now();
        let mut reactor = Reactor {
            index,
            poll,
            listeners,
            conns: Slab::with_capacity(1024),
            service,
            replies,
            wheel: TimerWheel::new(TICK, WHEEL_SLOTS, now),
            fired: Vec::new(),
            pool: BufferPool::new(POOL_BUFFER, POOL_MAX),
            scratch: vec![0u8; config.read_buffer.max(1024)],
            touched: Vec::with_capacity(256),
            config,
            shared,
            generation: 0,
            drain_deadline: None,
            last_service_tick: now,
            last_accept_warning: None,
        };
        for (i, (listener, _)) in reactor.listeners.iter_mut().enumerate() {
            reactor.poll.registry().register(
                listener,
                Token(LISTENER_TOKEN_BASE + i),
                Interest::READABLE,
            )?;
        }
        Ok(reactor)
    }

    /// Runs until shutdown has drained (or its deadline passed).
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.poll_timeout(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let now = Instant::now();
            let mut woke = false;
            for event in events.iter() {
                match event.token().0 {
                    WAKER_TOKEN => woke = true,
                    t if t >= LISTENER_TOKEN_BASE => self.accept(t - LISTENER_TOKEN_BASE, now),
                    t if (FOREIGN_TOKEN_BASE..=FOREIGN_TOKEN_END).contains(&t) => {
                        self.foreign(event, now)
                    }
                    key => self.conn_event(key, event, now),
                }
            }
            if woke {
                self.drain_replies(now);
            }
            self.settle_touched(now);
            self.timers(now);
            if self.shared.stop.load(Ordering::Acquire) && self.drain_deadline.is_none() {
                self.begin_drain(now);
            }
            if let Some(deadline) = self.drain_deadline {
                if self.drain_step(now, deadline) {
                    return Ok(());
                }
            }
        }
    }

    fn env(poll: &Poll, now: Instant, draining: bool, index: usize) -> Env<'_> {
        Env {
            registry: poll.registry(),
            now,
            draining,
            reactor: index,
        }
    }

    fn poll_timeout(&self, now: Instant) -> Option<Duration> {
        let mut timeout = self.wheel.next_timeout(now);
        if self.service.wants_tick() || self.drain_deadline.is_some() {
            timeout = Some(timeout.map_or(TICK, |t| t.min(TICK)));
        }
        timeout
    }

    fn accept(&mut self, index: usize, now: Instant) {
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
                    // EMFILE/ENFILE and friends: the connection stays in the
                    // backlog; say why once a second rather than per attempt.
                    let due = self
                        .last_accept_warning
                        .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
                    if due {
                        self.last_accept_warning = Some(now);
                        log::warn!(
                            "accept on {local} failed: {e}; if this is 'Too many open files', \
                             lower max_connections or raise RLIMIT_NOFILE (see `tune check`)"
                        );
                    }
                    return;
                }
            }
        }
    }

    fn admit(
        &mut self,
        mut stream: mio::net::TcpStream,
        peer: SocketAddr,
        local: SocketAddr,
        listener: usize,
        now: Instant,
    ) {
        let open = self.shared.open.fetch_add(1, Ordering::AcqRel);
        if open >= self.config.max_connections || self.conns.len() >= u32::MAX as usize {
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
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, Token(key), Interest::READABLE)
        {
            log::warn!("register of a connection from {peer} failed: {e}");
            self.shared.open.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        let info = ConnInfo {
            peer,
            local,
            listener,
        };
        let mut env = Self::env(&self.poll, now, self.drain_deadline.is_some(), self.index);
        let state = self.service.open(id, &info, &mut env);
        entry.insert(Connection::new(stream, id, peer, state, now));
        self.shared.metrics.accepted.inc();
        self.shared.metrics.open.add(1);
        self.arm(key);
    }

    fn conn_event(&mut self, key: usize, event: &Event, now: Instant) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if event.is_error() {
            conn.dead = true;
        } else {
            if event.is_writable() && conn.flush(&mut self.pool, self.poll.registry()).is_err() {
                conn.dead = true;
            }
            if event.is_readable() || event.is_read_closed() {
                self.read(key, now, event.is_read_closed());
            }
        }
        // Settled after every event of this poll is handled: all the answers
        // of one wake-up go out together, the way Redis writes in
        // beforeSleep, so peers are woken after our reads, not between them.
        self.touched.push(key);
    }

    /// Reads until the socket is drained, feeding the service as bytes come.
    /// A read shorter than the buffer proves the socket empty (epoll(7)):
    /// for stream sockets new data raises a fresh edge, so we stop there
    /// and save the `EAGAIN` read — one syscall in three on a ping. When the
    /// event also reported the peer's half-close, or no event prompted the
    /// read, it reads on to `WouldBlock` so the EOF is not missed.
    fn read(&mut self, key: usize, now: Instant, until_would_block: bool) {
        let Reactor {
            conns,
            service,
            pool,
            scratch,
            poll,
            config,
            index,
            drain_deadline,
            ..
        } = self;
        let Some(conn) = conns.get_mut(key) else {
            return;
        };
        let mut env = Self::env(poll, now, drain_deadline.is_some(), *index);
        loop {
            if conn.dead || conn.closing || conn.read_paused {
                return;
            }
            match conn.stream.read(scratch) {
                Ok(0) => {
                    // The peer finished sending; answer what it asked, then go.
                    conn.closing = true;
                    return;
                }
                Ok(n) => {
                    conn.last_active = now;
                    feed(service, conn, pool, &scratch[..n], &mut env);
                    if n < scratch.len() && !until_would_block {
                        return;
                    }
                    if conn
                        .input
                        .as_ref()
                        .is_some_and(|i| i.len() > config.max_input)
                    {
                        log::debug!("closing {}: unconsumed input over max_input", conn.peer);
                        conn.dead = true;
                    } else if conn.pending_output() > config.max_output {
                        conn.read_paused = true;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    conn.dead = true;
                    return;
                }
            }
        }
    }

    fn foreign(&mut self, event: &Event, now: Instant) {
        let mut env = Self::env(&self.poll, now, self.drain_deadline.is_some(), self.index);
        let mut conns = Conns {
            slab: &mut self.conns,
            pool: &mut self.pool,
            touched: &mut self.touched,
        };
        self.service
            .foreign(event.token(), event, &mut conns, &mut env);
    }

    fn drain_replies(&mut self, now: Instant) {
        let Reactor {
            conns,
            service,
            pool,
            touched,
            poll,
            replies,
            index,
            drain_deadline,
            ..
        } = self;
        let mut env = Self::env(poll, now, drain_deadline.is_some(), *index);
        let mut conns = Conns {
            slab: conns,
            pool,
            touched,
        };
        replies.drain(|reply| service.reply(reply, &mut conns, &mut env));
    }

    /// Flushes, re-feeds and closes every connection a callback touched.
    fn settle_touched(&mut self, now: Instant) {
        while let Some(key) = self.touched.pop() {
            self.settle(key, now);
        }
    }

    /// After anything happened to a connection: re-offer input if asked,
    /// flush output, resume reading once output drained, close it if it is
    /// done, and keep its timer armed.
    fn settle(&mut self, key: usize, now: Instant) {
        loop {
            let Reactor {
                conns,
                service,
                pool,
                poll,
                index,
                drain_deadline,
                config,
                ..
            } = self;
            let Some(conn) = conns.get_mut(key) else {
                return;
            };
            if conn.rerun && !conn.dead && !conn.closing {
                conn.rerun = false;
                let mut env = Self::env(poll, now, drain_deadline.is_some(), *index);
                feed(service, conn, pool, &[], &mut env);
            }
            if !conn.dead && conn.output.is_some() && conn.flush(pool, poll.registry()).is_err() {
                conn.dead = true;
            }
            // Reads are edge-triggered: input that arrived while reading was
            // paused raised no event we still expect, so resume by reading.
            if !conn.dead && conn.read_paused && conn.pending_output() <= config.max_output / 2 {
                conn.read_paused = false;
                self.read(key, now, true);
                continue;
            }
            break;
        }
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        let finished = conn.closing && conn.output.is_none() && !self.service.busy(&conn.state);
        if conn.dead || finished {
            self.close(key, now);
        } else {
            self.arm(key);
        }
    }

    fn close(&mut self, key: usize, now: Instant) {
        let mut conn = self.conns.remove(key);
        conn.release_buffers(&mut self.pool);
        self.shared.open.fetch_sub(1, Ordering::AcqRel);
        self.shared.metrics.open.add(-1);
        self.shared.metrics.closed.inc();
        let mut env = Self::env(&self.poll, now, self.drain_deadline.is_some(), self.index);
        self.service
            .closed(conn.id, conn.peer, conn.state, &mut env);
    }

    fn arm(&mut self, key: usize) {
        let idle = self.config.idle();
        if let Some(conn) = self.conns.get_mut(key) {
            if let Some(at) = conn.effective_deadline(idle) {
                if conn.armed_at.is_none_or(|armed| at < armed) {
                    self.wheel.insert(at, (key, conn.id, at));
                    conn.armed_at = Some(at);
                }
            }
        }
    }
}

/// Offers bytes to the service: the fresh ones appended to any leftover
/// input. Leftovers move into a pooled buffer; the common case (a whole
/// request in one read) never copies.
fn feed<S: Service>(
    service: &mut S,
    conn: &mut Connection<S::Conn>,
    pool: &mut BufferPool,
    fresh: &[u8],
    env: &mut Env<'_>,
) {
    match conn.input.take() {
        Some(mut buf) => {
            buf.extend_from_slice(fresh);
            let used = service.data(&mut Session { conn, pool }, &buf, env);
            buf.drain(..used.min(buf.len()));
            if buf.is_empty() {
                pool.give(buf);
            } else {
                conn.input = Some(buf);
            }
        }
        None if fresh.is_empty() => {}
        None => {
            let used = service
                .data(&mut Session { conn, pool }, fresh, env)
                .min(fresh.len());
            if used < fresh.len() {
                let mut buf = pool.take();
                buf.extend_from_slice(&fresh[used..]);
                conn.input = Some(buf);
            }
        }
    }
}
