//! The reactor against real sockets on loopback: partial reads and writes,
//! thousands of connections, idle timeouts, the connection cap, and a
//! graceful shutdown with requests in flight.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_core::handoff::ReplySender;
use throng_core::metrics::Metrics;
use throng_core::proto::{self, Header, Opcode, Status};
use throng_core::reactor::{ConnId, ConnInfo, Conns, Driven, Env, ReactorConfig, Service, Session};
use throng_core::rpc::{self, Handled, Handler, NoOperations, RpcConn, RpcService};
use throng_core::server::{self, ServerHandle};

fn config() -> ReactorConfig {
    ReactorConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        threads: 2,
        ..ReactorConfig::default()
    }
}

fn ping_server(cfg: ReactorConfig) -> (ServerHandle, SocketAddr) {
    let metrics = Metrics::new();
    let m = metrics.clone();
    let handle = server::start(&cfg, &metrics, move |_| {
        RpcService::new(NoOperations, proto::DEFAULT_MAX_FRAME, m.clone())
    })
    .unwrap();
    let addr = handle.local_addrs()[0];
    (handle, addr)
}

fn ping_bytes(id: u32) -> Vec<u8> {
    let mut out = Vec::new();
    proto::encode_empty(&mut out, Header::request(Opcode::Ping as u8, id));
    out
}

fn read_frame(stream: &mut TcpStream) -> (Header, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((frame, _)) = proto::decode(&buf, proto::DEFAULT_MAX_FRAME).unwrap() {
            return (frame.header, frame.body.to_vec());
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed before a whole frame");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Echoes every byte back: the simplest service that makes output as large
/// as the input, to force partial writes.
struct Echo;

impl Driven<()> for Echo {
    type Reply = ();
}

impl Service for Echo {
    type Conn = ();
    fn open(&mut self, _: ConnId, _: &ConnInfo, _: &mut Env<'_>) {}
    fn data(&mut self, s: &mut Session<'_, ()>, input: &[u8], _: &mut Env<'_>) -> usize {
        s.write(input);
        input.len()
    }
}

#[test]
fn a_request_written_one_byte_at_a_time_is_answered() {
    let (handle, addr) = ping_server(config());
    let mut s = connect(addr);
    s.set_nodelay(true).unwrap();
    for (i, byte) in ping_bytes(42).iter().enumerate() {
        s.write_all(&[*byte]).unwrap();
        if i % 3 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let (header, _) = read_frame(&mut s);
    assert_eq!(header.request_id, 42);
    assert_eq!(header.status, Status::Ok as u8);
    handle.shutdown();
    handle.join().unwrap();
}

#[test]
fn a_peer_that_reads_one_byte_at_a_time_gets_every_byte() {
    let metrics = Metrics::new();
    let cfg = ReactorConfig {
        max_output: 64 * 1024,
        ..config()
    };
    let handle = server::start(&cfg, &metrics, |_| Echo).unwrap();
    let addr = handle.local_addrs()[0];
    let payload: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut writer = connect(addr);
    let mut reader = writer.try_clone().unwrap();
    let expected = payload.clone();
    let sender = std::thread::spawn(move || writer.write_all(&payload).unwrap());
    // Slowly at first, so the server's output backs up and its writes are
    // partial, then in bulk.
    let mut got = Vec::with_capacity(expected.len());
    let mut one = [0u8; 1];
    for _ in 0..2000 {
        reader.read_exact(&mut one).unwrap();
        got.push(one[0]);
    }
    let mut chunk = vec![0u8; 64 * 1024];
    while got.len() < expected.len() {
        let n = reader.read(&mut chunk).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&chunk[..n]);
    }
    sender.join().unwrap();
    assert!(got == expected, "echoed bytes differ");
    handle.shutdown();
    handle.join().unwrap();
}

#[test]
fn pipelined_requests_are_all_answered_in_order() {
    let (handle, addr) = ping_server(config());
    let mut s = connect(addr);
    let mut batch = Vec::new();
    for id in 0..500 {
        batch.extend_from_slice(&ping_bytes(id));
    }
    s.write_all(&batch).unwrap();
    for id in 0..500 {
        assert_eq!(read_frame_exact(&mut s).request_id, id);
    }
    handle.shutdown();
    handle.join().unwrap();
}

fn read_frame_exact(s: &mut TcpStream) -> Header {
    let mut buf = [0u8; proto::HEADER_LEN];
    s.read_exact(&mut buf).unwrap();
    proto::decode(&buf, 1024).unwrap().unwrap().0.header
}

#[test]
fn thousands_of_connections_are_served_at_once() {
    let (handle, addr) = ping_server(ReactorConfig {
        max_connections: 5000,
        ..config()
    });
    let mut conns: Vec<TcpStream> = (0..3000).map(|_| connect(addr)).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        c.write_all(&ping_bytes(i as u32)).unwrap();
    }
    for (i, c) in conns.iter_mut().enumerate() {
        assert_eq!(read_frame_exact(c).request_id, i as u32);
    }
    assert_eq!(handle.trigger().open_connections(), 3000);
    drop(conns);
    handle.shutdown();
    handle.join().unwrap();
}

#[test]
fn idle_connections_are_closed_after_the_timeout() {
    let (handle, addr) = ping_server(ReactorConfig {
        idle_timeout: Duration::from_millis(200),
        ..config()
    });
    let mut busy = connect(addr);
    let mut idle = connect(addr);
    let start = Instant::now();
    // Keep one connection talking past the timeout: it must survive.
    while start.elapsed() < Duration::from_millis(450) {
        busy.write_all(&ping_bytes(1)).unwrap();
        read_frame_exact(&mut busy);
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut buf = [0u8; 1];
    assert_eq!(idle.read(&mut buf).unwrap(), 0, "idle connection closed");
    busy.write_all(&ping_bytes(2)).unwrap();
    assert_eq!(read_frame_exact(&mut busy).request_id, 2);
    handle.shutdown();
    handle.join().unwrap();
}

#[test]
fn connections_beyond_the_cap_are_refused_with_busy() {
    let (handle, addr) = ping_server(ReactorConfig {
        max_connections: 10,
        ..config()
    });
    let mut held: Vec<TcpStream> = (0..10).map(|_| connect(addr)).collect();
    for c in held.iter_mut() {
        c.write_all(&ping_bytes(7)).unwrap();
        read_frame_exact(c);
    }
    let mut extra = connect(addr);
    let header = read_frame_exact(&mut extra);
    assert_eq!(header.status, Status::Busy as u8);
    let mut buf = [0u8; 1];
    assert_eq!(
        extra.read(&mut buf).unwrap(),
        0,
        "refused connection is closed"
    );
    // The held ones still work, and a slot freed is usable again.
    held[0].write_all(&ping_bytes(8)).unwrap();
    assert_eq!(read_frame_exact(&mut held[0]).request_id, 8);
    drop(held.pop());
    std::thread::sleep(Duration::from_millis(100));
    let mut again = connect(addr);
    again.write_all(&ping_bytes(9)).unwrap();
    assert_eq!(read_frame_exact(&mut again).status, Status::Ok as u8);
    handle.shutdown();
    handle.join().unwrap();
}

/// Answers every request after a delay, from a worker thread, to have
/// requests in flight when shutdown begins.
struct Slow {
    replies: ReplySender<(ConnId, Header)>,
    delay: Duration,
}

impl Handler for Slow {
    fn request(
        &mut self,
        frame: proto::Frame<'_>,
        s: &mut Session<'_, RpcConn>,
        _: &mut Env<'_>,
    ) -> Handled {
        let (replies, delay, id, header) = (self.replies.clone(), self.delay, s.id(), frame.header);
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            let _ = replies.send((id, header));
        });
        Handled::Later
    }
}

impl Driven<RpcConn> for Slow {
    type Reply = (ConnId, Header);

    fn reply(
        &mut self,
        (id, header): (ConnId, Header),
        conns: &mut Conns<'_, RpcConn>,
        _: &mut Env<'_>,
    ) {
        if let Some(mut s) = conns.get(id) {
            rpc::respond_later(&mut s, header, Status::Ok, |w| {
                w.str("done");
            });
        }
    }
}

fn slow_server(delay: Duration, drain: Duration) -> (ServerHandle, SocketAddr) {
    let metrics = Metrics::new();
    let m = metrics.clone();
    let cfg = ReactorConfig {
        drain_timeout: drain,
        ..config()
    };
    let handle = server::start(&cfg, &metrics, move |setup| {
        RpcService::new(
            Slow {
                replies: setup.replies,
                delay,
            },
            proto::DEFAULT_MAX_FRAME,
            m.clone(),
        )
    })
    .unwrap();
    let addr = handle.local_addrs()[0];
    (handle, addr)
}

fn slow_request(id: u32) -> Vec<u8> {
    let mut out = Vec::new();
    proto::encode_empty(&mut out, Header::request(0x40, id));
    out
}

#[test]
fn shutdown_finishes_requests_in_flight_then_exits() {
    let (handle, addr) = slow_server(Duration::from_millis(300), Duration::from_secs(5));
    let mut waiting = connect(addr);
    let mut idle = connect(addr);
    idle.write_all(&ping_bytes(1)).unwrap();
    read_frame_exact(&mut idle);
    waiting.write_all(&slow_request(5)).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    handle.shutdown();
    // The idle connection goes at once; new connections are refused.
    let mut buf = [0u8; 1];
    assert_eq!(idle.read(&mut buf).unwrap(), 0);
    std::thread::sleep(Duration::from_millis(50));
    let refused = TcpStream::connect(addr);
    assert!(
        refused.is_err() || refused.unwrap().read(&mut buf).map_or(true, |n| n == 0),
        "no new connection is served while draining"
    );
    // The one in flight is answered, then closed.
    let (header, body) = read_frame(&mut waiting);
    assert_eq!(header.request_id, 5);
    assert_eq!(header.status, Status::Ok as u8);
    assert_eq!(proto::FieldReader::new(&body).str().unwrap(), "done");
    assert_eq!(waiting.read(&mut buf).unwrap(), 0);
    handle.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn shutdown_gives_up_at_the_drain_deadline() {
    let (handle, addr) = slow_server(Duration::from_secs(30), Duration::from_millis(300));
    let mut waiting = connect(addr);
    waiting.write_all(&slow_request(5)).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    handle.shutdown();
    handle.join().unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let mut buf = [0u8; 1];
    match waiting.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("expected the connection closed, got {other:?}"),
    }
}

#[test]
fn garbage_gets_an_error_frame_and_other_connections_carry_on() {
    let (handle, addr) = ping_server(config());
    let mut good = connect(addr);
    let mut bad = connect(addr);
    bad.write_all(&[
        0, 0, 0, 20, 99, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ])
    .unwrap();
    let (header, body) = read_frame(&mut bad);
    assert_eq!(header.status, Status::UnsupportedVersion as u8);
    assert!(proto::FieldReader::new(&body)
        .str()
        .unwrap()
        .contains("version 99"));
    let mut buf = [0u8; 1];
    assert_eq!(bad.read(&mut buf).unwrap(), 0);
    let mut huge = connect(addr);
    huge.write_all(&[0x7f, 0xff, 0xff, 0xff]).unwrap();
    assert_eq!(read_frame(&mut huge).0.status, Status::FrameTooLarge as u8);
    good.write_all(&ping_bytes(3)).unwrap();
    assert_eq!(read_frame_exact(&mut good).request_id, 3);
    let mut unknown = Vec::new();
    proto::encode_empty(&mut unknown, Header::request(0xee, 4));
    good.write_all(&unknown).unwrap();
    assert_eq!(
        read_frame_exact(&mut good).status,
        Status::UnknownOpcode as u8
    );
    handle.shutdown();
    handle.join().unwrap();
}

#[test]
fn stats_answers_the_metrics_text() {
    let (handle, addr) = ping_server(config());
    let mut s = connect(addr);
    let mut req = Vec::new();
    proto::encode_empty(&mut req, Header::request(Opcode::Stats as u8, 1));
    s.write_all(&req).unwrap();
    let (header, body) = read_frame(&mut s);
    assert_eq!(header.status, Status::Ok as u8);
    let text = proto::FieldReader::new(&body).str().unwrap().to_owned();
    assert!(text.contains("throng_connections_open 1"), "{text}");
    handle.shutdown();
    handle.join().unwrap();
}

#[test]
fn metrics_count_connections() {
    let metrics = Metrics::new();
    let m = Arc::clone(&metrics);
    let handle = server::start(&config(), &metrics, move |_| {
        RpcService::new(NoOperations, proto::DEFAULT_MAX_FRAME, m.clone())
    })
    .unwrap();
    let addr = handle.local_addrs()[0];
    for _ in 0..5 {
        let mut s = connect(addr);
        s.write_all(&ping_bytes(1)).unwrap();
        read_frame_exact(&mut s);
    }
    std::thread::sleep(Duration::from_millis(100));
    let text = metrics.render();
    assert!(
        text.contains("throng_connections_accepted_total 5"),
        "{text}"
    );
    assert!(text.contains("throng_connections_closed_total 5"), "{text}");
    handle.shutdown();
    handle.join().unwrap();
}
