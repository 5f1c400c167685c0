//! The protocol client against real servers on loopback: many requests in
//! flight matched by id (answered out of order), a dead backend skipped, a
//! backend that comes back used again, per-request deadlines, and calls
//! moved off a backend that died or hangs.

use mio::{Events, Poll, Token};
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};
use throng_core::client::{CallError, ClientConfig, Completion, LinkState, ProtoClient, Replay};
use throng_core::handoff::ReplySender;
use throng_core::metrics::Metrics;
use throng_core::proto::{self, FieldReader, Frame, Header, Opcode, Status};
use throng_core::reactor::{ConnId, Conns, Driven, Env, ReactorConfig, Session};
use throng_core::rpc::{self, Handled, Handler, RpcConn, RpcService};
use throng_core::server::{self, ServerHandle};

const ECHO_AFTER: u8 = 0x41;
const NEVER: u8 = 0x42;

/// Echoes the u32 field back after that many milliseconds (so answers come
/// back out of order), or never answers `NEVER`.
struct Delayed {
    replies: ReplySender<(ConnId, Header, u32)>,
}

impl Handler for Delayed {
    fn request(
        &mut self,
        frame: Frame<'_>,
        s: &mut Session<'_, RpcConn>,
        _: &mut Env<'_>,
    ) -> Handled {
        if frame.header.opcode == NEVER {
            return Handled::Later;
        }
        let value = FieldReader::new(frame.body).u32().unwrap();
        let (replies, id, header) = (self.replies.clone(), s.id(), frame.header);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(u64::from(value)));
            let _ = replies.send((id, header, value));
        });
        Handled::Later
    }
}

impl Driven<RpcConn> for Delayed {
    type Reply = (ConnId, Header, u32);

    fn reply(
        &mut self,
        (id, header, value): Self::Reply,
        conns: &mut Conns<'_, RpcConn>,
        _: &mut Env<'_>,
    ) {
        if let Some(mut s) = conns.get(id) {
            rpc::respond_later(&mut s, header, Status::Ok, |w| {
                w.u32(value);
            });
        }
    }
}

fn backend_on(addr: SocketAddr) -> ServerHandle {
    let metrics = Metrics::new();
    let m = metrics.clone();
    let cfg = ReactorConfig {
        listen: vec![addr],
        threads: 1,
        drain_timeout: Duration::from_millis(100),
        ..ReactorConfig::default()
    };
    server::start(&cfg, &metrics, move |setup| {
        RpcService::new(
            Delayed {
                replies: setup.replies,
            },
            proto::DEFAULT_MAX_FRAME,
            m.clone(),
        )
    })
    .unwrap()
}

fn backend() -> (ServerHandle, SocketAddr) {
    let handle = backend_on("127.0.0.1:0".parse().unwrap());
    let addr = handle.local_addrs()[0];
    (handle, addr)
}

/// An address nothing listens on.
fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

struct Driver {
    poll: Poll,
    events: Events,
    client: ProtoClient<u32>,
}

impl Driver {
    fn new(config: ClientConfig) -> Self {
        let poll = Poll::new().unwrap();
        let mut client = ProtoClient::new(config, 1000, Instant::now());
        client.start(poll.registry(), Instant::now());
        Driver {
            poll,
            events: Events::with_capacity(64),
            client,
        }
    }

    /// Runs the loop until `done` says so or the time is up; returns every
    /// completion seen.
    fn run(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&ProtoClient<u32>, &[Completion<u32>]) -> bool,
    ) -> Vec<Completion<u32>> {
        let start = Instant::now();
        let mut seen = Vec::new();
        while start.elapsed() < limit {
            self.poll
                .poll(&mut self.events, Some(Duration::from_millis(5)))
                .unwrap();
            let now = Instant::now();
            for event in self.events.iter() {
                assert!(self.client.owns(event.token()));
                self.client.event(self.poll.registry(), event, now);
            }
            self.client.tick(self.poll.registry(), now);
            self.client.drain(|c| seen.push(c));
            if done(&self.client, &seen) {
                break;
            }
        }
        seen
    }

    fn wait_up(&mut self, count: usize) {
        self.run(Duration::from_secs(5), |c, _| {
            c.links().filter(|(_, s)| *s == LinkState::Up).count() >= count
        });
    }

    fn call(&mut self, opcode: u8, value: u32, tag: u32) -> Result<(), CallError> {
        self.call_as(Replay::IfUnsent, opcode, value, tag)
    }

    fn call_as(
        &mut self,
        replay: Replay,
        opcode: u8,
        value: u32,
        tag: u32,
    ) -> Result<(), CallError> {
        self.client.call(
            Instant::now(),
            opcode,
            replay,
            |w| {
                w.u32(value);
            },
            tag,
        )
    }
}

fn value_of(c: &Completion<u32>) -> u32 {
    let r = c.result.as_ref().unwrap();
    assert_eq!(r.header.status, Status::Ok as u8);
    FieldReader::new(&r.body).u32().unwrap()
}

#[test]
fn many_requests_in_flight_are_matched_by_id_out_of_order() {
    let (server, addr) = backend();
    let mut d = Driver::new(ClientConfig {
        backends: vec![addr],
        ..ClientConfig::default()
    });
    d.wait_up(1);
    // Later tags answer sooner: the answers arrive in reverse order.
    for tag in 0..200u32 {
        d.call(ECHO_AFTER, 400 - tag * 2, tag).unwrap();
    }
    assert_eq!(d.client.in_flight(), 200);
    let seen = d.run(Duration::from_secs(10), |_, seen| seen.len() == 200);
    assert_eq!(seen.len(), 200);
    for c in &seen {
        assert_eq!(value_of(c), 400 - c.tag * 2, "answer matched to its call");
    }
    let order: Vec<u32> = seen.iter().map(|c| c.tag).collect();
    assert_ne!(
        order,
        (0..200).collect::<Vec<_>>(),
        "answers came back out of order"
    );
    server.shutdown();
    server.join().unwrap();
}

#[test]
fn a_dead_backend_is_skipped() {
    let (server, live) = backend();
    let mut d = Driver::new(ClientConfig {
        backends: vec![dead_addr(), live],
        ..ClientConfig::default()
    });
    d.wait_up(1);
    for tag in 0..50 {
        d.call(ECHO_AFTER, 1, tag).unwrap();
    }
    let seen = d.run(Duration::from_secs(5), |_, seen| seen.len() == 50);
    assert_eq!(seen.len(), 50);
    assert!(seen.iter().all(|c| c.result.is_ok()));
    let states: HashMap<SocketAddr, LinkState> = d.client.links().collect();
    assert_eq!(states[&live], LinkState::Up);
    assert_eq!(states.values().filter(|s| **s == LinkState::Up).count(), 1);
    server.shutdown();
    server.join().unwrap();
}

#[test]
fn no_backend_is_a_clear_error_and_a_returning_backend_is_used_again() {
    let addr = dead_addr();
    let mut d = Driver::new(ClientConfig {
        backends: vec![addr],
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        ..ClientConfig::default()
    });
    d.run(Duration::from_millis(100), |_, _| false);
    assert_eq!(d.call(ECHO_AFTER, 1, 1), Err(CallError::NoBackend));
    let server = backend_on(addr);
    d.wait_up(1);
    d.call(ECHO_AFTER, 1, 2).unwrap();
    let seen = d.run(Duration::from_secs(5), |_, seen| !seen.is_empty());
    assert_eq!(value_of(&seen[0]), 1);
    // Killed again: calls in flight fail as disconnected, not silently.
    d.call(ECHO_AFTER, 2000, 3).unwrap();
    server.shutdown();
    server.join().unwrap();
    let seen = d.run(Duration::from_secs(5), |_, seen| !seen.is_empty());
    assert_eq!(seen[0].tag, 3);
    assert_eq!(
        seen[0].result.as_ref().unwrap_err(),
        &CallError::Disconnected
    );
}

#[test]
fn a_request_past_its_deadline_completes_as_timeout() {
    let (server, addr) = backend();
    let mut d = Driver::new(ClientConfig {
        backends: vec![addr],
        request_timeout: Duration::from_millis(150),
        ..ClientConfig::default()
    });
    d.wait_up(1);
    let start = Instant::now();
    d.call(NEVER, 0, 9).unwrap();
    let seen = d.run(Duration::from_secs(5), |_, seen| !seen.is_empty());
    let took = start.elapsed();
    assert_eq!(seen[0].result.as_ref().unwrap_err(), &CallError::Timeout);
    assert!(
        took >= Duration::from_millis(140) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(d.client.in_flight(), 0);
    server.shutdown();
    server.join().unwrap();
}

#[test]
fn requests_spread_over_backends_by_load() {
    let (a, addr_a) = backend();
    let (b, addr_b) = backend();
    let mut d = Driver::new(ClientConfig {
        backends: vec![addr_a, addr_b],
        ..ClientConfig::default()
    });
    d.wait_up(2);
    for tag in 0..100 {
        d.call(ECHO_AFTER, 200, tag).unwrap();
    }
    assert_eq!(d.client.in_flight(), 100);
    let seen = d.run(Duration::from_secs(5), |_, seen| seen.len() == 100);
    assert!(seen.iter().all(|c| c.result.is_ok()));
    let metrics_a = stats_requests(addr_a);
    let metrics_b = stats_requests(addr_b);
    assert!(
        metrics_a >= 40 && metrics_b >= 40,
        "a={metrics_a} b={metrics_b}"
    );
    for s in [a, b] {
        s.shutdown();
        s.join().unwrap();
    }
}

/// Requests a server counted, read through its `stats` opcode.
fn stats_requests(addr: SocketAddr) -> u64 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req = Vec::new();
    proto::encode_empty(&mut req, Header::request(Opcode::Stats as u8, 1));
    s.write_all(&req).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).unwrap();
        buf.extend_from_slice(&chunk[..n]);
        if let Some((frame, _)) = proto::decode(&buf, proto::DEFAULT_MAX_FRAME).unwrap() {
            let text = FieldReader::new(frame.body).str().unwrap().to_owned();
            let line = text
                .lines()
                .find(|l| l.starts_with("throng_rpc_requests_total "))
                .unwrap();
            return line.split(' ').nth(1).unwrap().parse().unwrap();
        }
    }
}

#[test]
fn token_range_is_reported() {
    let d = Driver::new(ClientConfig {
        backends: vec![dead_addr(), dead_addr()],
        connections_per_backend: 2,
        ..ClientConfig::default()
    });
    assert_eq!(d.client.token_end(), 1004);
    assert!(d.client.owns(Token(1003)));
    assert!(!d.client.owns(Token(1004)));
}

/// Calls in flight on a backend that dies: the repeatable ones are
/// answered by the other backend, the others (already sent) fail as
/// disconnected and are not sent twice.
#[test]
fn calls_move_off_a_backend_that_died() {
    let (a, addr_a) = backend();
    let (b, addr_b) = backend();
    let mut d = Driver::new(ClientConfig {
        backends: vec![addr_a, addr_b],
        ..ClientConfig::default()
    });
    d.wait_up(2);
    for tag in 0..100 {
        let replay = if tag % 4 < 2 {
            // Calls alternate between the two: each gets both kinds.
            Replay::Repeatable
        } else {
            Replay::IfUnsent
        };
        d.call_as(replay, ECHO_AFTER, 400, tag).unwrap();
    }
    // Let every request leave, then kill a while they wait for answers.
    d.run(Duration::from_millis(100), |_, _| false);
    a.shutdown();
    a.join().unwrap();
    let seen = d.run(Duration::from_secs(5), |_, seen| seen.len() == 100);
    assert_eq!(seen.len(), 100);
    let lost: Vec<u32> = seen
        .iter()
        .filter(|c| c.result.is_err())
        .map(|c| c.tag)
        .collect();
    assert!(
        !lost.is_empty(),
        "half the calls were on the killed backend"
    );
    assert!(
        lost.iter().all(|t| t % 4 >= 2),
        "a repeatable call failed: {lost:?}"
    );
    for c in seen.iter().filter(|c| c.result.is_err()) {
        assert_eq!(c.result.as_ref().unwrap_err(), &CallError::Disconnected);
    }
    assert!(
        d.client.replayed() >= 20,
        "replayed {}",
        d.client.replayed()
    );
    // b answered its own share and the repeatable calls moved to it, and
    // nothing else: no failed call was sent twice (plus 2 for the link's
    // ping probe and this stats request).
    let on_b = stats_requests(addr_b);
    assert_eq!(on_b, 100 - lost.len() as u64 + 2);
    b.shutdown();
    b.join().unwrap();
}

/// A backend that answers its probes, then nothing: a process stopped or
/// wedged with its socket open.
fn hung_backend() -> SocketAddr {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            std::thread::spawn(move || {
                let (mut buf, mut chunk, mut answered) = (Vec::new(), [0u8; 4096], false);
                while let Ok(n) = s.read(&mut chunk) {
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Ok(Some((frame, len))) = proto::decode(&buf, proto::DEFAULT_MAX_FRAME)
                    {
                        if !answered && frame.header.opcode == Opcode::Ping as u8 {
                            let mut out = Vec::new();
                            proto::encode_empty(&mut out, frame.header.response(Status::Ok as u8));
                            let _ = s.write_all(&out);
                            answered = true;
                        }
                        buf.drain(..len);
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn calls_move_off_a_backend_that_hangs_within_the_try_timeout() {
    let hung = hung_backend();
    let (b, addr_b) = backend();
    let mut d = Driver::new(ClientConfig {
        backends: vec![hung, addr_b],
        request_timeout: Duration::from_secs(3),
        try_timeout: Duration::from_millis(200),
        ..ClientConfig::default()
    });
    d.wait_up(2);
    let start = Instant::now();
    for tag in 0..20 {
        d.call_as(Replay::Repeatable, ECHO_AFTER, 10, tag).unwrap();
    }
    let seen = d.run(Duration::from_secs(5), |_, seen| seen.len() == 20);
    let took = start.elapsed();
    assert_eq!(seen.len(), 20);
    assert!(
        seen.iter().all(|c| c.result.is_ok()),
        "every call answered by the live backend"
    );
    assert!(d.client.replayed() >= 5, "replayed {}", d.client.replayed());
    assert!(
        took < Duration::from_secs(1),
        "moved after the try timeout, not the call's: {took:?}"
    );
    let states: HashMap<SocketAddr, LinkState> = d.client.links().collect();
    assert_ne!(
        states[&hung],
        LinkState::Up,
        "the hung backend is out of rotation"
    );
    b.shutdown();
    b.join().unwrap();
}

/// A backend whose answers are slow but whose reactor still answers pings
/// (its workers wait on a store every backend shares) keeps its calls:
/// they are not moved to other backends, just as slow, nor failed.
#[test]
fn a_slow_backend_that_answers_pings_keeps_its_calls() {
    let (a, addr_a) = backend();
    let (b, addr_b) = backend();
    let mut d = Driver::new(ClientConfig {
        backends: vec![addr_a, addr_b],
        request_timeout: Duration::from_secs(5),
        try_timeout: Duration::from_millis(200),
        ..ClientConfig::default()
    });
    d.wait_up(2);
    for tag in 0..10 {
        d.call_as(Replay::Repeatable, ECHO_AFTER, 1200, tag)
            .unwrap();
    }
    let seen = d.run(Duration::from_secs(5), |_, seen| seen.len() == 10);
    assert_eq!(seen.len(), 10);
    assert!(
        seen.iter().all(|c| c.result.is_ok()),
        "every slow call answered"
    );
    assert_eq!(d.client.replayed(), 0, "no call moved off a live backend");
    let states: HashMap<SocketAddr, LinkState> = d.client.links().collect();
    assert!(states.values().all(|s| *s == LinkState::Up));
    for s in [a, b] {
        s.shutdown();
        s.join().unwrap();
    }
}

/// A backend that hangs right after its probe was answered: its calls are
/// noticed on the silent connection and move, well before their own
/// deadline.
#[test]
fn a_backend_that_hangs_after_answering_loses_its_calls_in_time() {
    let (b, addr_b) = backend();
    let hung = hung_backend();
    let mut d = Driver::new(ClientConfig {
        backends: vec![hung, addr_b],
        request_timeout: Duration::from_secs(5),
        try_timeout: Duration::from_millis(200),
        ..ClientConfig::default()
    });
    d.wait_up(2);
    // The hung backend answered its probe just now (a recent read): the
    // calls' first try expires while the connection does not look silent.
    let start = Instant::now();
    for tag in 0..6 {
        d.call_as(Replay::Repeatable, ECHO_AFTER, 10, tag).unwrap();
    }
    let seen = d.run(Duration::from_secs(5), |_, seen| seen.len() == 6);
    assert!(seen.iter().all(|c| c.result.is_ok()));
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    b.shutdown();
    b.join().unwrap();
}
