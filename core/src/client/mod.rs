//! The protocol client for use inside a reactor (webd calls authd with it).
//!
//! It keeps persistent connections to several backends, registered on the
//! caller's `mio` registry under the caller's token range. Many requests are
//! in flight per connection, matched by request id; each has a deadline; a
//! failed connection is retried with exponential backoff, and a backend
//! counts as alive only after it answered a ping, so a dead or hung one is
//! skipped until it answers again. Results are queued as [`Completion`]s that
//! the owner takes with [`ProtoClient::drain`].

mod backend;
mod config;

pub use backend::LinkState;
pub use config::ClientConfig;

use crate::proto::{self, FieldWriter, FrameWriter, Header, Opcode};
use crate::timer::TimerWheel;
use backend::{Link, Pending};
use mio::event::Event;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Why a call did not get an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("no backend is answering")]
    NoBackend,
    #[error("every backend connection has its maximum of requests in flight")]
    Busy,
    #[error("the backend did not answer within the deadline")]
    Timeout,
    #[error("the connection to the backend was lost")]
    Disconnected,
    #[error("the request does not fit in a frame")]
    TooLarge,
}

/// A backend's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub header: Header,
    pub body: Vec<u8>,
}

/// The end of one call: its tag and what came of it.
#[derive(Debug)]
pub struct Completion<T> {
    pub tag: T,
    pub result: Result<Response, CallError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimerKind {
    Request(u32),
    Connect,
    Retry,
    /// The deadline of a ping sent to a connection that went silent.
    Health(u32),
}

type TimerEntry = (usize, u32, TimerKind);

const TICK: Duration = Duration::from_millis(5);

/// A multiplexing client for the Throng binary protocol. `T` is whatever the
/// owner needs to route an answer (a connection id, a request slot).
pub struct ProtoClient<T> {
    config: ClientConfig,
    token_base: usize,
    links: Vec<Link<T>>,
    timers: TimerWheel<TimerEntry>,
    fired: Vec<TimerEntry>,
    completions: Vec<Completion<T>>,
    rotate: usize,
    /// Distinct backend addresses: how many tries a call can have.
    backends: usize,
    replayed: u64,
    /// Calls were queued since the last [`ProtoClient::flush_unsent`]:
    /// their bytes wait in the links' outboxes.
    unsent: bool,
}

/// Whether a call may be sent again to another backend when the one it
/// went to dies before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Doing it twice leaves the same state as once: always sent again.
    Repeatable,
    /// Sent again only if none of its bytes had left this process.
    IfUnsent,
}

impl<T> ProtoClient<T> {
    /// A client using tokens `token_base .. token_base + backends ×
    /// connections_per_backend`. Nothing connects until [`ProtoClient::start`].
    pub fn new(config: ClientConfig, token_base: usize, now: Instant) -> Self {
        let per = config.connections_per_backend.max(1);
        let mut distinct = config.backends.clone();
        distinct.sort();
        distinct.dedup();
        let backends = distinct.len();
        let links = config
            .backends
            .iter()
            .flat_map(|addr| (0..per).map(|_| Link::new(*addr, config.backoff_min)))
            .collect();
        ProtoClient {
            config,
            token_base,
            links,
            timers: TimerWheel::new(TICK, 512, now),
            fired: Vec::new(),
            completions: Vec::new(),
            rotate: 0,
            backends,
            replayed: 0,
            unsent: false,
        }
    }

    /// Tokens this client may use: `token_base..token_end()`.
    pub fn token_end(&self) -> usize {
        self.token_base + self.links.len()
    }

    pub fn owns(&self, token: Token) -> bool {
        (self.token_base..self.token_end()).contains(&token.0)
    }

    /// Starts connecting to every backend.
    pub fn start(&mut self, registry: &Registry, now: Instant) {
        for idx in 0..self.links.len() {
            self.connect(idx, registry, now);
        }
    }

    /// The state of each connection, with its backend address.
    pub fn links(&self) -> impl Iterator<Item = (std::net::SocketAddr, LinkState)> + '_ {
        self.links.iter().map(|l| (l.addr, l.state))
    }

    /// Requests in flight over all connections.
    pub fn in_flight(&self) -> usize {
        self.links.iter().map(|l| l.pending.len()).sum()
    }

    /// Sends a request to the least-loaded live backend. `body` writes the
    /// fields. On `Ok` exactly one completion with `tag` will follow (an
    /// answer, a timeout or a disconnect); on `Err` none will. If the
    /// backend dies first (reset, closed, or silent past `try_timeout`),
    /// the call moves to another live backend at once when `replay`
    /// allows, within its own deadline.
    ///
    /// The request is queued, not written: every call made while a
    /// reactor handles one wake-up leaves in one write per connection at
    /// [`ProtoClient::flush_unsent`] — from the service's
    /// [`Driven::before_sleep`](crate::reactor::Driven::before_sleep), and
    /// [`ProtoClient::tick`] does it too — instead of one system call, and
    /// one wake-up of the backend, per call.
    pub fn call(
        &mut self,
        now: Instant,
        opcode: u8,
        replay: Replay,
        body: impl FnOnce(&mut FieldWriter<'_>),
        tag: T,
    ) -> Result<(), CallError> {
        let idx = self.pick(None)?;
        let mut fields = Vec::new();
        body(&mut FieldWriter::new(&mut fields));
        if fields.len() + proto::HEADER_LEN > self.config.max_frame as usize {
            return Err(CallError::TooLarge);
        }
        let pending = Pending {
            tag,
            deadline: now + self.config.request_timeout,
            try_deadline: now,
            opcode,
            body: fields,
            replay,
            start: 0,
            tries: 0,
        };
        self.send(idx, pending, now);
        Ok(())
    }

    /// Writes `p` on connection `idx` under a fresh id and arms its timer.
    fn send(&mut self, idx: usize, mut p: Pending<T>, now: Instant) {
        let link = &mut self.links[idx];
        let id = link.take_id();
        p.start = link.out.queued_total();
        p.tries = p.tries.saturating_add(1);
        p.try_deadline = (now + self.config.try_timeout).min(p.deadline);
        let mut writer = FrameWriter::new(
            &mut link.out.buf,
            Header::request(p.opcode, id),
            self.config.max_frame,
        );
        writer.extend(&p.body);
        writer
            .finish()
            .expect("the size was checked when the call was made");
        self.timers
            .insert(p.try_deadline, (idx, link.epoch, TimerKind::Request(id)));
        link.pending.insert(id, p);
        self.unsent = true;
    }

    /// Whether calls wait in outboxes for [`ProtoClient::flush_unsent`].
    pub fn has_unsent(&self) -> bool {
        self.unsent
    }

    /// Writes every connection's queued calls (one write each). A write
    /// that fails moves its connection's calls to the others, possibly to
    /// one already written this pass: passes repeat until nothing waits, at
    /// most once per connection more (each failure takes one out).
    pub fn flush_unsent(&mut self, registry: &Registry, now: Instant) {
        for _ in 0..=self.links.len() {
            if !std::mem::take(&mut self.unsent) {
                return;
            }
            for idx in 0..self.links.len() {
                if self.links[idx].out.buf.is_empty() {
                    continue;
                }
                if let Err(e) = self.flush(idx, registry) {
                    self.fail(idx, registry, now, &e.to_string());
                }
            }
        }
    }

    /// Handles an event for one of this client's tokens.
    pub fn event(&mut self, registry: &Registry, event: &Event, now: Instant) {
        let Some(idx) = event.token().0.checked_sub(self.token_base) else {
            return;
        };
        let Some(link) = self.links.get_mut(idx) else {
            return;
        };
        if link.state == LinkState::Connecting {
            match connect_outcome(link.stream.as_ref()) {
                Ok(true) => self.connected(idx, registry, now),
                Ok(false) => return,
                Err(e) => return self.fail(idx, registry, now, &e.to_string()),
            }
        }
        if event.is_error() {
            // Answers the backend sent before the reset are still in the
            // socket: deliver them, then give the link up (a call that was
            // answered must not be failed or sent again).
            self.read(idx, registry, now);
            if self.links[idx].state != LinkState::Down {
                self.fail(idx, registry, now, "socket error");
            }
            return;
        }
        if event.is_writable() {
            if let Err(e) = self.flush(idx, registry) {
                return self.fail(idx, registry, now, &e.to_string());
            }
        }
        if event.is_readable() || event.is_read_closed() {
            self.read(idx, registry, now);
        }
    }

    /// When [`ProtoClient::tick`] next has a deadline to fire (requests,
    /// connects, retries); `None` when nothing is armed.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.next_due()
    }

    /// Fires request, connect and retry deadlines that are due (call it at
    /// [`ProtoClient::next_deadline`], from a service's wake-up), then
    /// writes what calls queued ([`ProtoClient::flush_unsent`]).
    pub fn tick(&mut self, registry: &Registry, now: Instant) {
        self.timers.expire(now, &mut self.fired);
        let mut fired = std::mem::take(&mut self.fired);
        for (idx, epoch, kind) in fired.drain(..) {
            if self.links[idx].epoch != epoch {
                continue;
            }
            match kind {
                TimerKind::Request(id) => self.try_expired(idx, id, registry, now),
                TimerKind::Health(id) => {
                    if self.links[idx].health_id == id {
                        self.fail(idx, registry, now, "no answer to a ping within try_timeout");
                    }
                }
                TimerKind::Connect => {
                    let state = self.links[idx].state;
                    if matches!(state, LinkState::Connecting | LinkState::Probing) {
                        self.fail(idx, registry, now, "no answer within connect_timeout");
                    }
                }
                TimerKind::Retry => {
                    if self.links[idx].state == LinkState::Down {
                        self.connect(idx, registry, now);
                    }
                }
            }
        }
        self.fired = fired;
        // Calls queued since the last wake-up, and any the timers sent again.
        self.flush_unsent(registry, now);
    }

    /// Whether finished calls wait for [`ProtoClient::drain`] (a call that
    /// failed while being sent completes at once, outside any event).
    pub fn has_completions(&self) -> bool {
        !self.completions.is_empty()
    }

    /// Hands every finished call to `each`.
    pub fn drain(&mut self, mut each: impl FnMut(Completion<T>)) {
        for c in self.completions.drain(..) {
            each(c);
        }
    }

    /// Closes every connection; calls in flight complete as disconnected.
    pub fn close_all(&mut self, registry: &Registry) {
        for idx in 0..self.links.len() {
            for p in self.drop_link(idx, registry) {
                self.completions.push(Completion {
                    tag: p.tag,
                    result: Err(CallError::Disconnected),
                });
            }
            self.links[idx].state = LinkState::Down;
        }
    }

    /// A try's timer fired: past the call's deadline it completes as a
    /// timeout. A connection silent since the request went out gets a
    /// ping: a backend whose reactor still answers pings is alive but
    /// slow (its workers wait on a store that every backend shares, say),
    /// and its calls wait for their own deadlines rather than fail over to
    /// backends as slow; one that does not answer the ping within
    /// `try_timeout` either is hung, and is dropped so its calls move.
    fn try_expired(&mut self, idx: usize, id: u32, registry: &Registry, now: Instant) {
        let try_timeout = self.config.try_timeout;
        let link = &mut self.links[idx];
        let Some(p) = link.pending.get_mut(&id) else {
            return; // answered already
        };
        if p.deadline <= now {
            let p = link.pending.remove(&id).expect("found above");
            self.completions.push(Completion {
                tag: p.tag,
                result: Err(CallError::Timeout),
            });
            return;
        }
        // Looked at again once the connection could have gone silent for
        // a whole try_timeout, so a backend that hangs later is still
        // noticed before the call's own deadline.
        let silent_at = link.last_read + try_timeout;
        let again = if silent_at > now {
            silent_at
        } else {
            now + try_timeout
        }
        .min(p.deadline);
        p.try_deadline = again;
        self.timers
            .insert(again, (idx, link.epoch, TimerKind::Request(id)));
        if link.last_read + try_timeout <= now && link.health_id == 0 {
            link.health_id = link.take_id();
            proto::encode_empty(
                &mut link.out.buf,
                Header::request(Opcode::Ping as u8, link.health_id),
            );
            let health = link.health_id;
            self.timers.insert(
                now + try_timeout,
                (idx, link.epoch, TimerKind::Health(health)),
            );
            if let Err(e) = self.flush(idx, registry) {
                self.fail(idx, registry, now, &e.to_string());
            }
        }
    }

    /// Calls of a connection that died: each goes to another live backend
    /// if its replay rule allows and time is left, else completes as
    /// disconnected.
    fn replay(&mut self, calls: Vec<Pending<T>>, sent: u64, from: SocketAddr, now: Instant) {
        for p in calls {
            let unsent = p.start >= sent;
            let may = match p.replay {
                Replay::Repeatable => true,
                Replay::IfUnsent => unsent,
            };
            let other = if may && p.deadline > now && usize::from(p.tries) < self.backends {
                self.pick(Some(from)).ok()
            } else {
                None
            };
            match other {
                Some(idx) => {
                    log::debug!("a call moves from {from} to {}", self.links[idx].addr);
                    self.replayed += 1;
                    self.send(idx, p, now);
                }
                None => self.completions.push(Completion {
                    tag: p.tag,
                    result: Err(CallError::Disconnected),
                }),
            }
        }
    }

    /// Calls moved to another backend since the client was made.
    pub fn replayed(&self) -> u64 {
        self.replayed
    }

    /// The least-loaded live connection, skipping those to `avoid`.
    fn pick(&mut self, avoid: Option<SocketAddr>) -> Result<usize, CallError> {
        let n = self.links.len();
        let mut best: Option<usize> = None;
        let mut any_up = false;
        for step in 0..n {
            let idx = (self.rotate + step) % n;
            let link = &self.links[idx];
            if link.state != LinkState::Up || Some(link.addr) == avoid {
                continue;
            }
            any_up = true;
            if link.pending.len() >= self.config.max_in_flight {
                continue;
            }
            if best.is_none_or(|b| link.pending.len() < self.links[b].pending.len()) {
                best = Some(idx);
            }
        }
        self.rotate = self.rotate.wrapping_add(1);
        best.ok_or(if any_up {
            CallError::Busy
        } else {
            CallError::NoBackend
        })
    }

    fn connect(&mut self, idx: usize, registry: &Registry, now: Instant) {
        let token = Token(self.token_base + idx);
        let link = &mut self.links[idx];
        link.epoch = link.epoch.wrapping_add(1);
        let result = TcpStream::connect(link.addr).and_then(|mut stream| {
            registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
            Ok(stream)
        });
        match result {
            Ok(stream) => {
                link.stream = Some(stream);
                link.state = LinkState::Connecting;
                link.out = crate::nbio::Outbox::new(true);
                let at = now + self.config.connect_timeout;
                self.timers
                    .insert(at, (idx, link.epoch, TimerKind::Connect));
            }
            Err(e) => self.fail(idx, registry, now, &e.to_string()),
        }
    }

    fn connected(&mut self, idx: usize, registry: &Registry, now: Instant) {
        let link = &mut self.links[idx];
        if let Some(stream) = &link.stream {
            let _ = stream.set_nodelay(true);
        }
        link.state = LinkState::Probing;
        link.hello_id = 0;
        if !self.config.key.is_empty() {
            // Answered before the ping (a server answers a connection's
            // requests in order): the link is up only once both are.
            link.hello_id = link.take_id();
            let mut w = proto::FrameWriter::new(
                &mut link.out.buf,
                Header::request(Opcode::Hello as u8, link.hello_id),
                self.config.max_frame,
            );
            w.fields().str(&self.config.key);
            if w.finish().is_err() {
                return self.fail(idx, registry, now, "the caller key does not fit a frame");
            }
        }
        link.probe_id = link.take_id();
        proto::encode_empty(
            &mut link.out.buf,
            Header::request(Opcode::Ping as u8, link.probe_id),
        );
        if let Err(e) = self.flush(idx, registry) {
            self.fail(idx, registry, now, &e.to_string());
        }
    }

    fn flush(&mut self, idx: usize, registry: &Registry) -> io::Result<()> {
        let token = Token(self.token_base + idx);
        let link = &mut self.links[idx];
        let Some(stream) = link.stream.as_mut() else {
            return Ok(());
        };
        if link.state == LinkState::Connecting {
            return Ok(()); // written once the connect completes
        }
        link.out.flush(stream, registry, token)?;
        Ok(())
    }

    fn read(&mut self, idx: usize, registry: &Registry, now: Instant) {
        let link = &mut self.links[idx];
        let Some(stream) = link.stream.as_mut() else {
            return;
        };
        // Answers that arrived with the close are still delivered.
        let had = link.input.len();
        let read = crate::nbio::read_available(stream, &mut link.input);
        if link.input.len() > had {
            link.last_read = now;
        }
        // Whole answers read before an error or the close are delivered
        // first.
        if let Err(reason) = self.take_frames(idx) {
            self.fail(idx, registry, now, &reason);
        } else {
            match read {
                Err(e) => self.fail(idx, registry, now, &e.to_string()),
                Ok(true) => self.fail(idx, registry, now, "backend closed the connection"),
                Ok(false) => {}
            }
        }
    }

    fn take_frames(&mut self, idx: usize) -> Result<(), String> {
        let max = self.config.max_frame;
        let link = &mut self.links[idx];
        let mut used = 0;
        while let Some((frame, len)) =
            proto::decode(&link.input[used..], max).map_err(|e| e.to_string())?
        {
            used += len;
            let id = frame.header.request_id;
            if link.state == LinkState::Probing && link.hello_id != 0 && id == link.hello_id {
                if frame.header.status != crate::proto::Status::Ok as u8 {
                    return Err("the backend refused our caller key (unauthenticated)".into());
                }
            } else if link.state == LinkState::Probing && id == link.probe_id {
                if link.outage_logged {
                    log::info!("backend {} answers again", link.addr);
                }
                link.state = LinkState::Up;
                link.backoff = self.config.backoff_min;
                link.outage_logged = false;
            } else if id == link.health_id {
                link.health_id = 0; // alive: its calls wait for their answers
            } else if let Some(p) = link.pending.remove(&id) {
                self.completions.push(Completion {
                    tag: p.tag,
                    result: Ok(Response {
                        header: frame.header,
                        body: frame.body.to_vec(),
                    }),
                });
            }
            // Anything else answers a request that already timed out.
        }
        link.input.drain(..used);
        Ok(())
    }

    /// Closes connection `idx` and hands back the calls it had in flight.
    fn drop_link(&mut self, idx: usize, registry: &Registry) -> Vec<Pending<T>> {
        let link = &mut self.links[idx];
        if let Some(mut stream) = link.stream.take() {
            let _ = registry.deregister(&mut stream);
        }
        link.out.reset();
        link.input.clear();
        link.health_id = 0;
        link.epoch = link.epoch.wrapping_add(1);
        let mut calls: Vec<Pending<T>> = link.pending.drain().map(|(_, p)| p).collect();
        // In the order they were made, so the replays keep it.
        calls.sort_by_key(|p| p.start);
        calls
    }

    fn fail(&mut self, idx: usize, registry: &Registry, now: Instant, reason: &str) {
        let sent = self.links[idx].out.sent_total();
        let from = self.links[idx].addr;
        let calls = self.drop_link(idx, registry);
        // Down before the replays, so that none picks this connection.
        self.links[idx].state = LinkState::Down;
        self.replay(calls, sent, from, now);
        let max = self.config.backoff_max;
        let link = &mut self.links[idx];
        if !link.outage_logged {
            log::warn!(
                "backend {} unavailable: {reason}; retrying with backoff",
                link.addr
            );
            link.outage_logged = true;
        } else {
            log::debug!("backend {} still unavailable: {reason}", link.addr);
        }
        link.state = LinkState::Down;
        let wait = link.backoff;
        link.backoff = (link.backoff * 2).min(max);
        self.timers
            .insert(now + wait, (idx, link.epoch, TimerKind::Retry));
    }
}

/// Whether a non-blocking connect finished: `Ok(true)` connected,
/// `Ok(false)` still in progress, `Err` failed.
fn connect_outcome(stream: Option<&TcpStream>) -> io::Result<bool> {
    let Some(stream) = stream else {
        return Err(io::Error::other("no socket"));
    };
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}
