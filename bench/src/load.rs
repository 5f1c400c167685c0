//! The load engine: N connections spread over T threads, each with its own
//! `mio` loop and HDR histogram (microseconds), merged at the end.
//!
//! - **Closed loop** (default): each connection keeps `pipeline` requests
//!   outstanding and sends the next as soon as an answer arrives; latency
//!   is send to answer.
//! - **Open loop** (`rate`): requests are due on a fixed schedule, `rate`
//!   per second over all connections, whatever the server does. A request
//!   goes out once it is due and its connection has fewer than `pipeline`
//!   in flight, and its latency counts from when it was *due*, not sent
//!   (wrk2's coordinated-omission correction): a server that stalls for a
//!   second is charged for every request that second should have carried,
//!   not just for the one that was waiting.
//!
//! Connections are opened (and authenticated) before the clock starts, so
//! connect storms at 10,000 connections do not count against the server's
//! request rate.

use crate::scenario::{Answer, Workload};
use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use std::collections::VecDeque;
use std::io::{ErrorKind, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use throng_core::nbio::{self, Outbox};

/// How to drive the load.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub target: SocketAddr,
    pub connections: usize,
    pub duration: Duration,
    pub threads: usize,
    pub pipeline: usize,
    pub connect_timeout: Duration,
    /// Print a progress line to stderr every second.
    pub progress: bool,
    /// Open loop: requests per second over all connections.
    pub rate: Option<f64>,
}

/// What a run measured.
#[derive(Debug)]
pub struct Outcome {
    pub ops: u64,
    pub errors: u64,
    pub connect_errors: u64,
    pub connections_up: usize,
    pub elapsed: Duration,
    pub histogram: Histogram<u64>,
    /// Successful operations in each whole second of the run.
    pub per_second: Vec<u64>,
}

struct ThreadResult {
    ops: u64,
    errors: u64,
    connect_errors: u64,
    up: usize,
    histogram: Histogram<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Handshake,
    Ready,
}

struct Conn {
    stream: TcpStream,
    index: usize,
    phase: Phase,
    handshake_left: usize,
    handshake: Vec<u8>,
    input: Vec<u8>,
    out: Outbox,
    sent: VecDeque<Instant>,
    seq: u64,
    /// Open loop: when this connection's next request is due.
    due: Instant,
    /// What the handshake left for the requests (token, user id).
    state: Vec<u8>,
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("static bounds")
}

/// Runs the load and returns the merged measurement.
pub fn run(workload: Arc<dyn Workload>, cfg: &LoadConfig) -> Result<Outcome, String> {
    let threads = cfg.threads.clamp(1, cfg.connections.max(1));
    let barrier = Arc::new(Barrier::new(threads + 1));
    let counters: Arc<Vec<AtomicU64>> = Arc::new((0..threads).map(|_| AtomicU64::new(0)).collect());
    let up_total = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for t in 0..threads {
        let share = cfg.connections / threads + usize::from(t < cfg.connections % threads);
        let first = (0..t)
            .map(|i| cfg.connections / threads + usize::from(i < cfg.connections % threads))
            .sum();
        let (workload, cfg, barrier, counters, up_total) = (
            workload.clone(),
            cfg.clone(),
            barrier.clone(),
            counters.clone(),
            up_total.clone(),
        );
        handles.push(
            std::thread::Builder::new()
                .name(format!("load-{t}"))
                .spawn(move || {
                    worker(
                        &*workload,
                        &cfg,
                        first,
                        share,
                        &barrier,
                        &counters[t],
                        &up_total,
                    )
                })
                .map_err(|e| e.to_string())?,
        );
    }
    barrier.wait();
    let start = Instant::now();
    let up = up_total.load(Ordering::Acquire);
    if cfg.progress {
        eprintln!(
            "{} of {} connections up; running for {:?}",
            up, cfg.connections, cfg.duration
        );
    }
    // Every whole second of the run, so a rate can be shown sustained.
    let mut per_second = Vec::new();
    let mut last = 0u64;
    let mut second = 0;
    while start.elapsed() + Duration::from_millis(500) < cfg.duration {
        second += 1;
        let next = start + Duration::from_secs(second);
        if next > start + cfg.duration {
            break;
        }
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let total: u64 = counters.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        per_second.push(total - last);
        if cfg.progress {
            eprintln!(
                "[{second:>4}s] {:>10} ops/s  {:>12} total",
                total - last,
                total
            );
        }
        last = total;
    }
    let mut merged = ThreadResult {
        ops: 0,
        errors: 0,
        connect_errors: 0,
        up: 0,
        histogram: new_histogram(),
    };
    for h in handles {
        let r = h
            .join()
            .map_err(|_| "a load thread panicked".to_string())??;
        merged.ops += r.ops;
        merged.errors += r.errors;
        merged.connect_errors += r.connect_errors;
        merged.up += r.up;
        merged
            .histogram
            .add(&r.histogram)
            .map_err(|e| e.to_string())?;
    }
    Ok(Outcome {
        ops: merged.ops,
        errors: merged.errors,
        connect_errors: merged.connect_errors,
        connections_up: merged.up,
        elapsed: cfg.duration,
        histogram: merged.histogram,
        per_second,
    })
}

fn worker(
    workload: &dyn Workload,
    cfg: &LoadConfig,
    first: usize,
    count: usize,
    barrier: &Barrier,
    counter: &AtomicU64,
    up_total: &AtomicUsize,
) -> Result<ThreadResult, String> {
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut events = Events::with_capacity(1024);
    let mut conns: Slab<Conn> = Slab::with_capacity(count);
    let mut result = ThreadResult {
        ops: 0,
        errors: 0,
        connect_errors: 0,
        up: 0,
        histogram: new_histogram(),
    };
    for index in first..first + count {
        match TcpStream::connect(cfg.target) {
            Ok(stream) => {
                let entry = conns.vacant_entry();
                let mut handshake = Vec::new();
                let handshake_answers = workload.handshake(index, &mut handshake);
                let mut conn = Conn {
                    stream,
                    index,
                    phase: Phase::Connecting,
                    handshake_left: handshake_answers,
                    handshake,
                    input: Vec::with_capacity(512),
                    out: Outbox::new(true),
                    sent: VecDeque::with_capacity(cfg.pipeline),
                    seq: 0,
                    due: Instant::now(),
                    state: Vec::new(),
                };
                poll.registry()
                    .register(
                        &mut conn.stream,
                        Token(entry.key()),
                        Interest::READABLE | Interest::WRITABLE,
                    )
                    .map_err(|e| e.to_string())?;
                entry.insert(conn);
            }
            Err(_) => result.connect_errors += 1,
        }
    }
    // Phase 1: connect and authenticate everything before the clock starts.
    let connect_deadline = Instant::now() + cfg.connect_timeout;
    let mut pending = conns.len();
    while pending > 0 && Instant::now() < connect_deadline {
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .map_err(|e| e.to_string())?;
        for event in events.iter() {
            let key = event.token().0;
            let Some(conn) = conns.get_mut(key) else {
                continue;
            };
            let before = conn.phase;
            let ok = advance_setup(conn, workload, event.is_error());
            if !ok {
                result.connect_errors += 1;
                conns.remove(key);
                pending -= 1;
            } else if before != Phase::Ready && conn.phase == Phase::Ready {
                pending -= 1;
            }
        }
    }
    let stragglers: Vec<usize> = conns
        .iter()
        .filter(|(_, c)| c.phase != Phase::Ready)
        .map(|(k, _)| k)
        .collect();
    result.connect_errors += stragglers.len() as u64;
    for key in stragglers {
        conns.remove(key);
    }
    result.up = conns.len();
    up_total.fetch_add(result.up, Ordering::AcqRel);
    barrier.wait();

    // Phase 2: the measured run.
    let start = Instant::now();
    let end = start + cfg.duration;
    let mut dead = Vec::new();
    // Open loop: each connection's share of the rate, first requests
    // staggered over one period so they do not all fall due at once.
    let period = cfg
        .rate
        .map(|rate| Duration::from_secs_f64(cfg.connections as f64 / rate.max(1e-9)));
    for (key, conn) in conns.iter_mut() {
        match period {
            Some(period) => {
                conn.due = start + period.mul_f64((conn.index % 1000) as f64 / 1000.0);
            }
            None => {
                for _ in 0..cfg.pipeline {
                    send(conn, workload, start);
                }
            }
        }
        if flush(conn, &poll, key).is_err() {
            dead.push(key);
        }
    }
    let mut published = 0u64;
    let mut published_at = start;
    loop {
        for key in dead.drain(..) {
            if conns.try_remove(key).is_some() {
                result.errors += 1;
            }
        }
        let now = Instant::now();
        if now >= end {
            break;
        }
        let tick = if period.is_some() {
            Duration::from_millis(1)
        } else {
            Duration::from_millis(100)
        };
        poll.poll(&mut events, Some((end - now).min(tick)))
            .map_err(|e| e.to_string())?;
        let now = Instant::now();
        let running = now < end;
        for event in events.iter() {
            let key = event.token().0;
            let Some(conn) = conns.get_mut(key) else {
                continue;
            };
            if event.is_error() {
                dead.push(key);
                continue;
            }
            if event.is_readable() || event.is_read_closed() {
                match read_answers(conn, workload, now, &mut result) {
                    Ok(answered) => {
                        if running && period.is_none() {
                            for _ in 0..answered {
                                send(conn, workload, now);
                            }
                        }
                    }
                    Err(_) => {
                        dead.push(key);
                        continue;
                    }
                }
            }
            if flush(conn, &poll, key).is_err() {
                dead.push(key);
            }
        }
        if let (Some(period), true) = (period, running) {
            send_due(
                &mut conns,
                workload,
                period,
                cfg.pipeline,
                now,
                &poll,
                &mut dead,
            );
        }
        // Published often enough that per-second figures are exact to a
        // few operations even at low rates.
        if result.ops - published >= 256
            || !running
            || now.duration_since(published_at) >= Duration::from_millis(20)
        {
            counter.fetch_add(result.ops - published, Ordering::Relaxed);
            published = result.ops;
            published_at = now;
        }
    }
    counter.fetch_add(result.ops - published, Ordering::Relaxed);
    Ok(result)
}

/// Moves a connection through connect → handshake → ready. False when it
/// failed.
fn advance_setup(conn: &mut Conn, workload: &dyn Workload, error: bool) -> bool {
    if error {
        return false;
    }
    if conn.phase == Phase::Connecting {
        match conn.stream.take_error() {
            Ok(None) => {}
            _ => return false,
        }
        match conn.stream.peer_addr() {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotConnected => return true,
            Err(_) => return false,
        }
        let _ = conn.stream.set_nodelay(true);
        if conn.handshake_left == 0 {
            conn.phase = Phase::Ready;
            return true;
        }
        if conn.stream.write_all(&conn.handshake).is_err() {
            return false;
        }
        conn.phase = Phase::Handshake;
    }
    if conn.phase == Phase::Handshake {
        match nbio::read_available(&mut conn.stream, &mut conn.input) {
            Ok(false) => {}
            _ => return false,
        }
        while conn.handshake_left > 0 {
            match workload.handshake_answer(&conn.input, &mut conn.state) {
                Ok(Some((used, Answer::Ok))) => {
                    conn.input.drain(..used);
                    conn.handshake_left -= 1;
                    let mut more = Vec::new();
                    let awaited = workload.handshake_more(conn.index, &conn.state, &mut more);
                    if awaited > 0 {
                        if conn.stream.write_all(&more).is_err() {
                            return false;
                        }
                        conn.handshake_left += awaited;
                    }
                }
                Ok(None) => return true,
                _ => return false,
            }
        }
        conn.phase = Phase::Ready;
    }
    true
}

/// Appends a request; `at` is when its latency starts counting (sent, or
/// due in the open loop).
fn send(conn: &mut Conn, workload: &dyn Workload, at: Instant) {
    workload.request(conn.index, &conn.state, conn.seq, &mut conn.out.buf);
    conn.seq += 1;
    conn.sent.push_back(at);
}

/// Open loop: sends every request that is due and has room in its
/// connection's pipeline, stamped with the time it was due.
fn send_due(
    conns: &mut Slab<Conn>,
    workload: &dyn Workload,
    period: Duration,
    pipeline: usize,
    now: Instant,
    poll: &Poll,
    dead: &mut Vec<usize>,
) {
    for (key, conn) in conns.iter_mut() {
        let mut sent = false;
        while conn.due <= now && conn.sent.len() < pipeline {
            let due = conn.due;
            send(conn, workload, due);
            conn.due += period;
            sent = true;
        }
        if sent && flush(conn, poll, key).is_err() {
            dead.push(key);
        }
    }
}

/// Reads what is there and takes every complete answer; returns how many.
fn read_answers(
    conn: &mut Conn,
    workload: &dyn Workload,
    now: Instant,
    result: &mut ThreadResult,
) -> Result<usize, ()> {
    if nbio::read_available(&mut conn.stream, &mut conn.input).map_err(|_| ())? {
        return Err(());
    }
    let mut used = 0;
    let mut answered = 0;
    while let Some((n, answer)) = workload.answer(&conn.input[used..]).map_err(|_| ())? {
        used += n;
        answered += 1;
        let sent = conn.sent.pop_front().ok_or(())?;
        result
            .histogram
            .saturating_record(now.duration_since(sent).as_micros().max(1) as u64);
        match answer {
            Answer::Ok => result.ops += 1,
            Answer::Failed => result.errors += 1,
        }
    }
    conn.input.drain(..used);
    Ok(answered)
}

fn flush(conn: &mut Conn, poll: &Poll, key: usize) -> Result<(), ()> {
    conn.out
        .flush(&mut conn.stream, poll.registry(), Token(key))
        .map_err(|_| ())
}
