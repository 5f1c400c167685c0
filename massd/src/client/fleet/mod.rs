//! One event-loop thread of the client fleet: its share of the links, each
//! a connection to one server that it keeps open (reconnecting with backoff
//! when it is lost) and updates either every interval or as fast as the
//! pipeline allows. Every answer is checked against the link's own count.

mod traffic;

use super::connect;
use super::tally::{new_histogram, Counters, Tally};
use super::wire;
use crate::config::Wire;
use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_core::timer::TimerWheel;

/// What every thread of one client process shares.
pub struct Plan {
    pub targets: Vec<SocketAddr>,
    pub sources: Vec<Option<IpAddr>>,
    /// `None`: closed loop.
    pub interval: Option<Duration>,
    pub depth: u32,
    /// Stop a link after this many answered UPDATEs.
    pub quota: Option<u64>,
    pub connect_rate: f64,
    pub connect_timeout: Duration,
    pub backoff: Duration,
    pub answer_timeout: Duration,
    pub wire: Wire,
    /// HELLO token or Redis password; empty: no admission step.
    pub hello: String,
    /// Prefix of the Redis keys (`resp` wire), unique per run.
    pub key_prefix: String,
    /// Keep every connection's final (key, count), for checks.
    pub record: bool,
    /// Interval mode: false while UPDATEs wait for the fleet to be up
    /// (`RunOptions::updates_after_ramp`); the process sets it once.
    pub updates_released: AtomicBool,
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting in the connect queue or for a reconnect timer.
    Waiting,
    Connecting,
    /// Admission (HELLO/AUTH) sent, no answer yet.
    Admitting,
    Ready,
    /// Its quota is done.
    Done,
}

#[derive(Debug, Clone, Copy)]
enum Timer {
    Due,
    Reconnect,
    ConnectTimeout,
}

struct Link {
    stream: Option<TcpStream>,
    target: u32,
    source: u16,
    state: State,
    /// Bumped per connection, so timers of an old one are ignored.
    generation: u32,
    last_value: u64,
    answered: u64,
    /// Interval mode: when the next UPDATE is due, in ms since the start
    /// (a fixed schedule, so timer rounding never slows the rate).
    due_ms: u64,
    sent_at: VecDeque<u32>,
    pending_out: Vec<u8>,
    leftover: Vec<u8>,
    backoff: Duration,
    ever_connected: bool,
    local: Option<SocketAddr>,
    request: Box<[u8]>,
}

/// A thread's run; returns the (key, count) records when asked for.
pub fn run(
    index: usize,
    links: Vec<(u32, u16)>,
    plan: Arc<Plan>,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) -> io::Result<Vec<(SocketAddr, SocketAddr, u64)>> {
    let mut fleet = Fleet::new(index, links, plan, tally, stop)?;
    fleet.run()?;
    Ok(fleet.records)
}

struct Fleet {
    poll: Poll,
    links: Vec<Link>,
    plan: Arc<Plan>,
    tally: Arc<Tally>,
    index: usize,
    stop: Arc<AtomicBool>,
    timers: TimerWheel<(u32, u32, Timer)>,
    connect_queue: VecDeque<u32>,
    started: Instant,
    connects_started: u64,
    latency: Histogram<u64>,
    read_buf: Vec<u8>,
    /// Requests of one batch, reused.
    scratch: Vec<u8>,
    /// Closed loop: UPDATEs owed to the link whose answers are being read.
    owed: u32,
    records: Vec<(SocketAddr, SocketAddr, u64)>,
    done: usize,
    /// Links up before UPDATEs were released, with their generation; empty
    /// for good once they are.
    parked: Vec<(u32, u32)>,
    released: bool,
}

impl Fleet {
    fn new(
        index: usize,
        plan_links: Vec<(u32, u16)>,
        plan: Arc<Plan>,
        tally: Arc<Tally>,
        stop: Arc<AtomicBool>,
    ) -> io::Result<Fleet> {
        let now = Instant::now();
        let links: Vec<Link> = plan_links
            .into_iter()
            .map(|(target, source)| Link {
                stream: None,
                target,
                source,
                state: State::Waiting,
                generation: 0,
                last_value: 0,
                answered: 0,
                due_ms: 0,
                sent_at: VecDeque::new(),
                pending_out: Vec::new(),
                leftover: Vec::new(),
                backoff: plan.backoff,
                ever_connected: false,
                local: None,
                request: Box::default(),
            })
            .collect();
        Ok(Fleet {
            poll: Poll::new()?,
            connect_queue: (0..links.len() as u32).collect(),
            links,
            plan,
            tally,
            index,
            stop,
            timers: TimerWheel::new(Duration::from_millis(1), 8192, now),
            started: now,
            connects_started: 0,
            latency: new_histogram(),
            read_buf: vec![0; 64 * 1024],
            scratch: Vec::new(),
            owed: 0,
            records: Vec::new(),
            done: 0,
            parked: Vec::new(),
            released: false,
        })
    }

    fn counters(&self) -> &Counters {
        &self.tally.threads[self.index]
    }

    fn micros(&self, now: Instant) -> u32 {
        now.saturating_duration_since(self.started).as_micros() as u32
    }

    fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut fired = Vec::new();
        let mut last_hand_over = Instant::now();
        let mut last_scan = Instant::now();
        let mut drain_until: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if drain_until.is_none() && self.stop.load(Ordering::Acquire) {
                drain_until = Some(now + Duration::from_secs(2));
            }
            if let Some(until) = drain_until {
                let in_flight: usize = self.links.iter().map(|l| l.sent_at.len()).sum();
                if in_flight == 0 || now >= until {
                    break;
                }
            } else {
                self.start_connects(now);
                if self.plan.quota.is_some() && self.done == self.links.len() {
                    break;
                }
                if !self.released && self.plan.updates_released.load(Ordering::Acquire) {
                    self.release_updates(now);
                }
            }
            let timeout = self
                .timers
                .next_timeout(now)
                .unwrap_or(Duration::from_millis(50))
                .min(Duration::from_millis(5));
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            for event in events.iter() {
                let key = event.token().0 as u32;
                self.on_event(
                    key,
                    event.is_readable(),
                    event.is_writable(),
                    event.is_error(),
                    now,
                );
            }
            self.timers.expire(now, &mut fired);
            for (key, generation, timer) in fired.drain(..) {
                self.on_timer(key, generation, timer, now, drain_until.is_some());
            }
            if now.duration_since(last_hand_over) >= Duration::from_millis(200) {
                self.tally.hand_over(&mut self.latency);
                last_hand_over = now;
            }
            if now.duration_since(last_scan) >= Duration::from_secs(1) {
                self.scan_timeouts(now);
                last_scan = now;
            }
        }
        self.tally.hand_over(&mut self.latency);
        let left: usize = self.links.iter().map(|l| l.sent_at.len()).sum();
        self.counters()
            .unanswered
            .fetch_add(left as u64, Ordering::Relaxed);
        for key in 0..self.links.len() as u32 {
            self.close(key);
        }
        Ok(())
    }

    /// Starts as many queued connects as the rate allows by now.
    fn start_connects(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.started).as_secs_f64();
        let burst = (self.plan.connect_rate / 100.0).max(1.0);
        let allowed = (elapsed * self.plan.connect_rate + burst) as u64;
        // No banked allowance: after a quiet minute, a burst of reconnects
        // still goes out at the configured rate.
        self.connects_started = self
            .connects_started
            .max(allowed.saturating_sub(burst as u64));
        while self.connects_started < allowed {
            let Some(key) = self.connect_queue.pop_front() else {
                return;
            };
            self.connects_started += 1;
            self.connect(key, now);
        }
    }

    fn connect(&mut self, key: u32, now: Instant) {
        let link = &mut self.links[key as usize];
        let target = self.plan.targets[link.target as usize];
        let source = self.plan.sources[link.source as usize];
        match connect::start(source, target) {
            Ok(mut stream) => {
                let registered = self.poll.registry().register(
                    &mut stream,
                    Token(key as usize),
                    Interest::READABLE | Interest::WRITABLE,
                );
                if let Err(e) = registered {
                    log::warn!("cannot register a connection: {e}");
                    self.failed_connect(key, now);
                    return;
                }
                link.stream = Some(stream);
                link.state = State::Connecting;
                link.generation = link.generation.wrapping_add(1);
                let at = now + self.plan.connect_timeout;
                self.timers
                    .insert(at, (key, link.generation, Timer::ConnectTimeout));
            }
            Err(e) => {
                log::debug!("connect to {target} failed: {e}");
                self.failed_connect(key, now);
            }
        }
    }

    fn failed_connect(&mut self, key: u32, now: Instant) {
        self.counters()
            .connect_failures
            .fetch_add(1, Ordering::Relaxed);
        self.close(key);
        self.retry_later(key, now);
    }

    fn retry_later(&mut self, key: u32, now: Instant) {
        let link = &mut self.links[key as usize];
        link.state = State::Waiting;
        // Jitter (50–150 %, from the key and attempt) so the links of a
        // restarted server do not all come back in the same tick.
        let spread = f64::from((key.wrapping_mul(2_654_435_761) ^ link.generation) % 1000) / 1000.0;
        let at = now + link.backoff.mul_f64(0.5 + spread);
        link.backoff = (link.backoff * 2).min(Duration::from_secs(2));
        self.timers
            .insert(at, (key, link.generation, Timer::Reconnect));
    }

    fn on_event(&mut self, key: u32, readable: bool, writable: bool, error: bool, now: Instant) {
        let Some(link) = self.links.get(key as usize) else {
            return;
        };
        match link.state {
            State::Connecting if writable || error || readable => self.finish_connect(key, now),
            State::Admitting | State::Ready | State::Done => {
                if writable && !self.links[key as usize].pending_out.is_empty() {
                    self.flush(key, now);
                }
                if readable || error {
                    self.read(key, now);
                }
            }
            _ => {}
        }
    }

    fn finish_connect(&mut self, key: u32, now: Instant) {
        let link = &mut self.links[key as usize];
        let Some(stream) = link.stream.as_ref() else {
            return;
        };
        let outcome = match stream.take_error() {
            Ok(Some(e)) | Err(e) => Err(e),
            Ok(None) => stream.peer_addr().and_then(|_| stream.local_addr()),
        };
        let local = match outcome {
            Ok(local) => local,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
            Err(e) => {
                log::debug!("connect failed: {e}");
                self.failed_connect(key, now);
                return;
            }
        };
        link.local = Some(local);
        link.last_value = 0;
        link.backoff = self.plan.backoff;
        if link.ever_connected {
            self.tally.threads[self.index]
                .reconnects
                .fetch_add(1, Ordering::Relaxed);
        }
        link.ever_connected = true;
        if self.plan.wire == Wire::Resp {
            let name = format!("{}{local}", self.plan.key_prefix);
            link.request = wire::update_request(Wire::Resp, &name).into_boxed_slice();
        } else {
            link.request = wire::update_request(Wire::Massd, "").into_boxed_slice();
        }
        if self.plan.hello.is_empty() {
            self.ready(key, now);
        } else {
            link.state = State::Admitting;
            let hello = wire::hello_request(self.plan.wire, &self.plan.hello);
            self.write(key, &hello, now);
        }
    }

    fn ready(&mut self, key: u32, now: Instant) {
        self.links[key as usize].state = State::Ready;
        self.counters().up.fetch_add(1, Ordering::Relaxed);
        match self.plan.interval {
            Some(_) if !self.released => {
                let generation = self.links[key as usize].generation;
                self.parked.push((key, generation));
            }
            Some(interval) => self.schedule_first_update(key, interval, now),
            None => {
                self.send_updates(key, self.plan.depth, now);
            }
        }
    }

    /// Spreads the first UPDATEs over one interval, not a burst.
    fn schedule_first_update(&mut self, key: u32, interval: Duration, now: Instant) {
        let offset = interval.mul_f64(f64::from(key % 1000) / 1000.0);
        let link = &mut self.links[key as usize];
        link.due_ms = (now + offset).duration_since(self.started).as_millis() as u64;
        let generation = link.generation;
        self.timers
            .insert(now + offset, (key, generation, Timer::Due));
    }

    /// The fleet is up: every parked link that is still the same connection
    /// starts its schedule; later ones start as soon as they are ready.
    fn release_updates(&mut self, now: Instant) {
        self.released = true;
        let Some(interval) = self.plan.interval else {
            return;
        };
        for (key, generation) in std::mem::take(&mut self.parked) {
            let link = &self.links[key as usize];
            if link.generation == generation && link.state == State::Ready {
                self.schedule_first_update(key, interval, now);
            }
        }
    }

    fn on_timer(&mut self, key: u32, generation: u32, timer: Timer, now: Instant, draining: bool) {
        let link = &self.links[key as usize];
        if link.generation != generation {
            return;
        }
        match (timer, link.state) {
            (Timer::Due, State::Ready) if !draining => {
                if (link.sent_at.len() as u32) < self.plan.depth {
                    self.send_update(key, now);
                } else {
                    self.counters().late.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(interval) = self.plan.interval {
                    let interval_ms = interval.as_millis().max(1) as u64;
                    let now_ms = now.duration_since(self.started).as_millis() as u64;
                    let link = &mut self.links[key as usize];
                    link.due_ms += interval_ms;
                    // Far behind (a stall): skip ahead instead of bursting.
                    if link.due_ms + interval_ms < now_ms {
                        link.due_ms = now_ms;
                    }
                    let at = self.started + Duration::from_millis(link.due_ms);
                    self.timers.insert(at, (key, generation, Timer::Due));
                }
            }
            (Timer::Reconnect, State::Waiting) if !draining => self.connect_queue.push_back(key),
            (Timer::ConnectTimeout, State::Connecting) => {
                // A thread that waited for a core (or whose poll returned
                // more ready sockets than one batch holds) may reach the
                // timer before the event: a connect that did succeed is
                // not a timeout.
                self.finish_connect(key, now);
                if self.links[key as usize].state == State::Connecting {
                    log::debug!("connect to {} timed out", self.target_of(key));
                    self.failed_connect(key, now);
                }
            }
            _ => {}
        }
    }

    /// Replaces connections whose oldest UPDATE waits past the timeout.
    fn scan_timeouts(&mut self, now: Instant) {
        let limit = self.plan.answer_timeout.as_micros() as u32;
        let micros = self.micros(now);
        for key in 0..self.links.len() as u32 {
            let stale = self.links[key as usize]
                .sent_at
                .front()
                .is_some_and(|sent| micros.wrapping_sub(*sent) > limit);
            if stale {
                log::warn!(
                    "no answer from {} within {:?}",
                    self.target_of(key),
                    self.plan.answer_timeout
                );
                self.counters().errors.fetch_add(1, Ordering::Relaxed);
                self.lost(key, now);
            }
        }
    }
}
