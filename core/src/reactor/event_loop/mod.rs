//! The event loop itself, in the order it runs: poll, dispatch each event
//! (accept, connection I/O, the service's own sources, the waker), drain the
//! worker replies, flush and close what the callbacks touched, fire timers,
//! and, once shutdown began, drain.
//!
//! Every call into the service is contained ([`contain`]): a panic closes
//! the connection it was about and is counted, and the loop goes on.

mod accept;
mod deadlines;
mod drain;
mod linger;
mod wakeups;

use super::conn::Connection;
use super::guard::contain;
use super::per_ip::PerIpLimit;
use super::service::Env;
use super::session::{Conns, Session};
use super::spares::Spares;
use super::Reactive;
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
use std::io::{self, ErrorKind, Read};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_millis(10);
const WHEEL_SLOTS: usize = 1024;
/// A fresh buffer: room for a short answer; it grows as a page needs.
const POOL_BUFFER: usize = 512;
/// Free buffers a reactor keeps, in bytes of capacity (see `BufferPool`).
const POOL_BUDGET: usize = 1 << 20;
/// A buffer that grew past this is freed, not kept.
const POOL_KEEP_MAX: usize = 64 * 1024;

/// State shared by all reactors of one server (stop flag, open count, metrics).
#[derive(Debug)]
pub(crate) struct Shared {
    pub stop: AtomicBool,
    pub open: AtomicUsize,
    pub per_ip: PerIpLimit,
    pub spares: Spares,
    pub metrics: ReactorMetrics,
}

/// A connection's armed deadline: its id (which holds its slab key, see
/// `conn_key`) and the instant armed, to tell a stale entry. One per
/// connection with a deadline, so every byte counts a million times.
type TimerEntry = (ConnId, Instant);

/// One reactor thread's loop. Built by `Server`, run on its own thread.
pub struct Reactor<S: Reactive> {
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
    /// When the service's wake-up last ran: a wake-up it asks for again at
    /// or before then waits a tick (a `wakeup` that panicked before moving
    /// its deadline must not make the loop spin).
    last_wakeup: Option<Instant>,
    last_accept_warning: Option<Instant>,
    /// Accepting pauses until then after descriptors ran out.
    accept_retry_at: Option<Instant>,
}

impl<S: Reactive> Reactor<S> {
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
            pool: BufferPool::new(POOL_BUFFER, POOL_BUDGET, POOL_KEEP_MAX),
            scratch: vec![0u8; config.read_buffer.max(1024)],
            touched: Vec::with_capacity(256),
            config,
            shared,
            generation: 0,
            drain_deadline: None,
            last_wakeup: None,
            last_accept_warning: None,
            accept_retry_at: None,
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
            if self.accept_retry_at.is_some_and(|at| now >= at) {
                self.accept_all(now);
            }
            self.settle_touched(now);
            self.timers(now);
            self.before_sleep(now);
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

    fn conn_event(&mut self, key: usize, event: &Event, now: Instant) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if conn.lingering {
            self.discard(key);
        } else if event.is_error() {
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
    ///
    /// The bounds are checked after every read, short ones too: unconsumed
    /// input over `max_input` closes the connection, output over
    /// `max_output` pauses reading until the peer has taken half of it. A
    /// peer that pipelines without reading its answers holds at most about
    /// `max_output` plus one read.
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
            shared,
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
                    if !feed(
                        service,
                        conn,
                        pool,
                        &scratch[..n],
                        &mut env,
                        config.max_output,
                    ) {
                        shared.metrics.panics.inc();
                        return;
                    }
                    if conn
                        .input
                        .as_ref()
                        .is_some_and(|i| i.len() > config.max_input)
                    {
                        log::debug!("closing {}: unconsumed input over max_input", conn.peer);
                        conn.dead = true;
                        return;
                    }
                    if n < scratch.len() && !until_would_block {
                        return;
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
        self.with_conns(now, |service, conns, env| {
            service.foreign(event.token(), event, conns, env)
        });
    }

    /// Runs one of the service's hooks that sees every connection (a
    /// foreign event, a wake-up, the end of a turn, shutdown) under the
    /// panic guard: a panic is counted and costs nothing else.
    fn with_conns(
        &mut self,
        now: Instant,
        hook: impl FnOnce(&mut S, &mut Conns<'_, S::Conn>, &mut Env<'_>),
    ) {
        let mut env = Self::env(&self.poll, now, self.drain_deadline.is_some(), self.index);
        let mut conns = Conns {
            slab: &mut self.conns,
            pool: &mut self.pool,
            touched: &mut self.touched,
            max_output: self.config.max_output,
        };
        let service = &mut self.service;
        if contain(|| hook(service, &mut conns, &mut env)).is_none() {
            self.shared.metrics.panics.inc();
        }
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
            config,
            shared,
            ..
        } = self;
        let mut env = Self::env(poll, now, drain_deadline.is_some(), *index);
        let mut conns = Conns {
            slab: conns,
            pool,
            touched,
            max_output: config.max_output,
        };
        replies.drain(|reply| {
            // A reply whose handling panicked is lost; its connection meets
            // its deadline as if the answer never came.
            if contain(|| service.reply(reply, &mut conns, &mut env)).is_none() {
                shared.metrics.panics.inc();
            }
        });
    }

    /// Flushes, re-feeds and closes every connection a callback touched.
    fn settle_touched(&mut self, now: Instant) {
        while let Some(key) = self.touched.pop() {
            self.settle(key, now);
        }
    }

    /// After anything happened to a connection: re-offer input if asked,
    /// flush output, resume reading once output drained, close it if it is
    /// done (lingering first if asked), and keep its timer armed.
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
                shared,
                ..
            } = self;
            let Some(conn) = conns.get_mut(key) else {
                return;
            };
            if conn.rerun && !conn.dead && !conn.closing {
                conn.rerun = false;
                let mut env = Self::env(poll, now, drain_deadline.is_some(), *index);
                if !feed(service, conn, pool, &[], &mut env, config.max_output) {
                    shared.metrics.panics.inc();
                }
            }
            if !conn.dead && conn.output.is_some() && conn.flush(pool, poll.registry()).is_err() {
                conn.dead = true;
            }
            // Reads are edge-triggered: input that arrived while reading was
            // paused raised no event we still expect, so resume by reading —
            // and offer what is already buffered, which the service may have
            // left because its output was full.
            if !conn.dead && conn.read_paused && conn.pending_output() <= config.max_output / 2 {
                conn.read_paused = false;
                conn.rerun = conn.input.is_some();
                self.read(key, now, true);
                continue;
            }
            break;
        }
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        let finished = conn.closing && conn.output.is_none() && !self.service.busy(&conn.state);
        if finished && conn.linger && !conn.lingering && !conn.dead {
            self.begin_linger(key, now);
        }
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        if conn.dead || (finished && !conn.lingering) {
            self.close(key, now);
        } else {
            self.arm(key);
        }
    }

    fn close(&mut self, key: usize, now: Instant) {
        let mut conn = self.conns.remove(key);
        conn.release_buffers(&mut self.pool);
        self.shared.open.fetch_sub(1, Ordering::AcqRel);
        self.shared.per_ip.release(conn.peer.ip());
        self.shared.metrics.open.add(-1);
        self.shared.metrics.closed.inc();
        let mut env = Self::env(&self.poll, now, self.drain_deadline.is_some(), self.index);
        let service = &mut self.service;
        if contain(|| service.closed(conn.id, conn.peer, conn.state, &mut env)).is_none() {
            self.shared.metrics.panics.inc();
        }
    }

    fn arm(&mut self, key: usize) {
        let idle = self.config.idle();
        if let Some(conn) = self.conns.get_mut(key) {
            if let Some(at) = conn.effective_deadline(idle) {
                if conn.armed_at.is_none_or(|armed| at < armed) {
                    self.wheel.insert(at, (conn.id, at));
                    conn.armed_at = Some(at);
                }
            }
        }
    }
}

/// Offers bytes to the service: the fresh ones appended to any leftover
/// input. Leftovers move into a pooled buffer; the common case (a whole
/// request in one read) never copies. Returns false when the service
/// panicked: the connection then gets the service's last-words answer in
/// place of whatever it had queued, and is closed once that is sent.
fn feed<S: Reactive>(
    service: &mut S,
    conn: &mut Connection<S::Conn>,
    pool: &mut BufferPool,
    fresh: &[u8],
    env: &mut Env<'_>,
    max_output: usize,
) -> bool {
    let input = conn.input.take();
    if input.is_none() && fresh.is_empty() {
        return true;
    }
    let outcome = contain(|| match input {
        Some(mut buf) => {
            buf.extend_from_slice(fresh);
            let mut session = Session {
                conn: &mut *conn,
                pool: &mut *pool,
                max_output,
            };
            let used = service.data(&mut session, &buf, env);
            buf.drain(..used.min(buf.len()));
            if buf.is_empty() {
                pool.give(buf);
            } else {
                conn.input = Some(buf);
            }
        }
        None => {
            let mut session = Session {
                conn: &mut *conn,
                pool: &mut *pool,
                max_output,
            };
            let used = service.data(&mut session, fresh, env).min(fresh.len());
            if used < fresh.len() {
                let mut buf = pool.take();
                buf.extend_from_slice(&fresh[used..]);
                conn.input = Some(buf);
            }
        }
    });
    if outcome.is_some() {
        // Over the bound, the service stopped taking requests from its
        // input: pausing makes the reactor offer that input again once the
        // peer has read (nothing else would, if the peer sent it all).
        if conn.pending_output() > max_output {
            conn.read_paused = true;
        }
        return true;
    }
    if let Some(out) = conn.output.as_mut() {
        // What the panicking call half-wrote must not reach the peer.
        out.clear();
        conn.out_pos = 0;
    }
    let last_words = service.panicked();
    if !last_words.is_empty() {
        conn.output
            .get_or_insert_with(|| pool.take())
            .extend_from_slice(last_words);
    }
    conn.closing = true;
    conn.linger = true;
    false
}
