//! The counter server on the core reactor: every connection's key is its
//! peer's `IP:PORT`; UPDATE increments that key's counter and answers the
//! new value. A live connection carries its counter in its own state (no
//! map lookup per UPDATE); when it closes, the counter moves to the
//! reactor's [`ClosedCounters`]. Nothing is shared between reactors.

use super::closed::ClosedCounters;
use super::stats::AllStats;
use crate::proto::{self, DecodeError, Frame, Op, Status, RESPONSE};
use crossbeam_channel::Sender;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use throng_core::reactor::{ConnId, ConnInfo, Conns, Driven, Env, Service, Session};

/// How soon a change reaches the stats the console reads.
const PUBLISH_EVERY: Duration = Duration::from_millis(10);

/// Per-connection state beside the reactor's own (16 bytes): the counter,
/// the listener whose address is part of the key, and whether HELLO
/// admitted it.
#[derive(Debug, Clone, Copy)]
pub struct CounterConn {
    pub count: u64,
    /// Which listener accepted it: its address is part of the key (an
    /// index, not the address, to keep idle connections small).
    pub listener: u16,
    pub admitted: bool,
}

/// One counter of the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub key: SocketAddr,
    pub local: SocketAddr,
    pub count: u64,
    pub open: bool,
}

/// What the admin endpoint asks of a reactor.
pub enum AdminAsk {
    /// Every counter of this reactor, open and closed.
    Dump(Sender<Vec<Entry>>),
}

/// How HELLO tokens are checked, when they are required.
#[derive(Clone)]
pub struct Admission {
    pub secret: Vec<u8>,
    pub node_id: String,
}

pub struct CounterService {
    thread: usize,
    closed: ClosedCounters,
    admission: Option<Admission>,
    max_frame: usize,
    stats: AllStats,
    /// UPDATEs not yet published to the stats.
    unpublished: u64,
    total: u64,
    second_started: Instant,
    second_base: u64,
    dropped: u64,
    /// Something the stats show changed since they were last published.
    stale: bool,
    last_publish: Instant,
    /// The published rate is not zero (it must be brought down to zero
    /// when updates stop).
    rate_shown: bool,
    refusal: Vec<u8>,
    /// The address of each listener, by index (learnt as they accept).
    listeners: Vec<SocketAddr>,
}

impl CounterService {
    pub fn new(
        thread: usize,
        closed: ClosedCounters,
        admission: Option<Admission>,
        max_frame: usize,
        stats: AllStats,
    ) -> Self {
        let mut refusal = Vec::new();
        proto::encode(
            &mut refusal,
            Op::Error as u8 | RESPONSE,
            Status::Busy,
            b"server at its connection cap",
        );
        CounterService {
            thread,
            closed,
            admission,
            max_frame,
            stats,
            unpublished: 0,
            total: 0,
            second_started: Instant::now(),
            second_base: 0,
            dropped: 0,
            stale: true,
            last_publish: Instant::now(),
            rate_shown: false,
            refusal,
            listeners: Vec::new(),
        }
    }

    fn hello(&self, s: &mut Session<'_, CounterConn>, frame: &Frame<'_>) {
        let token = std::str::from_utf8(frame.body).unwrap_or("");
        let admitted = match &self.admission {
            None => true,
            Some(a) => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                throng_core::node_token::check_token(&a.secret, token, &a.node_id, now).is_some()
            }
        };
        let reply = Op::Hello as u8 | RESPONSE;
        if admitted {
            s.state().admitted = true;
            let key = s.peer().to_string();
            proto::encode(s.out(), reply, Status::Ok, key.as_bytes());
        } else {
            proto::encode(
                s.out(),
                reply,
                Status::Denied,
                b"token is forged, expired or for another node",
            );
            s.close_after_flush();
        }
    }

    fn refuse(&mut self, s: &mut Session<'_, CounterConn>, e: &DecodeError) {
        self.dropped += 1;
        self.stale = true;
        log::debug!("dropping {}: {e}", s.peer());
        proto::encode(
            s.out(),
            Op::Error as u8 | RESPONSE,
            e.status(),
            e.to_string().as_bytes(),
        );
        s.close_after_flush();
    }

    fn publish(&mut self, connections: usize, env: &Env<'_>) {
        let mine = &self.stats[self.thread];
        if self.total == self.second_base && !self.rate_shown {
            // Idle until now: the next rate window starts here, as it did
            // when the stats were published on a fixed tick.
            self.second_started = env.now;
        }
        self.total += self.unpublished;
        self.unpublished = 0;
        mine.updates.store(self.total, Ordering::Relaxed);
        mine.connections
            .store(connections as u64, Ordering::Relaxed);
        mine.closed_keys
            .store(self.closed.len() as u64, Ordering::Relaxed);
        mine.evicted.store(self.closed.evicted(), Ordering::Relaxed);
        mine.dropped.store(self.dropped, Ordering::Relaxed);
        self.stale = false;
        self.last_publish = env.now;
        let elapsed = env.now.saturating_duration_since(self.second_started);
        if elapsed >= Duration::from_secs(1) {
            let rate = (self.total - self.second_base) as f64 / elapsed.as_secs_f64();
            mine.updates_per_sec
                .store(rate.round() as u64, Ordering::Relaxed);
            self.rate_shown = rate.round() > 0.0;
            self.second_started = env.now;
            self.second_base = self.total;
        }
    }
}

impl Service for CounterService {
    type Conn = CounterConn;

    fn open(&mut self, _: ConnId, info: &ConnInfo, _: &mut Env<'_>) -> CounterConn {
        // The same IP:PORT again: a new connection, a new count from zero.
        let listener = info.listener.min(usize::from(u16::MAX));
        if self.listeners.len() <= listener {
            self.listeners.resize(listener + 1, info.local);
        }
        self.listeners[listener] = info.local;
        self.closed.reopen(&(info.peer, listener as u16));
        self.stale = true;
        CounterConn {
            count: 0,
            listener: listener as u16,
            admitted: false,
        }
    }

    fn data(&mut self, s: &mut Session<'_, CounterConn>, input: &[u8], _: &mut Env<'_>) -> usize {
        let mut used = 0;
        loop {
            match proto::decode(&input[used..], self.max_frame) {
                Ok(None) => return used,
                Ok(Some((frame, len))) => {
                    used += len;
                    if frame.response {
                        self.refuse(s, &DecodeError::StatusInRequest(frame.status as u8));
                        return input.len();
                    }
                    match frame.op {
                        Op::Hello => self.hello(s, &frame),
                        Op::Update | Op::Get if self.admission.is_some() && !s.state().admitted => {
                            proto::encode(
                                s.out(),
                                frame.op as u8 | RESPONSE,
                                Status::Unauthenticated,
                                b"present a token with HELLO first",
                            );
                            s.close_after_flush();
                        }
                        Op::Update => {
                            let state = s.state();
                            state.count += 1;
                            let value = state.count;
                            self.unpublished += 1;
                            self.stale = true;
                            proto::encode_counter(s.out(), Op::Update, value);
                        }
                        Op::Get => {
                            let value = s.state().count;
                            proto::encode_counter(s.out(), Op::Get, value);
                        }
                        Op::Error => {
                            self.refuse(s, &DecodeError::UnknownOp(Op::Error as u8));
                            return input.len();
                        }
                    }
                    if s.is_closing() {
                        return input.len();
                    }
                }
                Err(e) => {
                    self.refuse(s, &e);
                    return input.len();
                }
            }
        }
    }

    fn closed(&mut self, _: ConnId, peer: SocketAddr, conn: CounterConn, env: &mut Env<'_>) {
        self.closed
            .insert((peer, conn.listener), conn.count, env.now);
        self.stale = true;
    }

    fn refusal(&self) -> &[u8] {
        &self.refusal
    }
}

/// The admin endpoint's asks, and the wake-ups that publish the stats and
/// expire closed counters: none while nothing changes, so an idle server
/// sleeps.
impl Driven<CounterConn> for CounterService {
    type Reply = AdminAsk;

    fn reply(&mut self, ask: AdminAsk, conns: &mut Conns<'_, CounterConn>, _: &mut Env<'_>) {
        match ask {
            AdminAsk::Dump(answer) => {
                let listeners = &self.listeners;
                let mut entries: Vec<Entry> = self
                    .closed
                    .iter()
                    .map(|((key, listener), count)| Entry {
                        key,
                        local: listeners[usize::from(listener)],
                        count,
                        open: false,
                    })
                    .collect();
                conns.for_each(|s| {
                    let key = s.peer();
                    let CounterConn {
                        count, listener, ..
                    } = *s.state();
                    let local = listeners[usize::from(listener)];
                    entries.push(Entry {
                        key,
                        local,
                        count,
                        open: true,
                    });
                });
                let _ = answer.send(entries);
            }
        }
    }

    fn next_wakeup(&self) -> Option<Instant> {
        let publish = self.stale.then(|| self.last_publish + PUBLISH_EVERY);
        // The rate is per second: a second after a window with updates (or
        // a rate still shown), to publish the next one.
        let rate = (self.rate_shown || self.total != self.second_base)
            .then(|| self.second_started + Duration::from_secs(1));
        [publish, rate, self.closed.next_expiry()]
            .into_iter()
            .flatten()
            .min()
    }

    fn wakeup(&mut self, conns: &mut Conns<'_, CounterConn>, env: &mut Env<'_>) {
        self.closed.expire(env.now);
        self.publish(conns.len(), env);
    }
}
