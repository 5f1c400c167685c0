//! The reactor against hostile or broken peers and services, over real
//! sockets: a panicking callback costs one connection and the reactor
//! serves on; a peer that pipelines without reading holds bounded output
//! even when it writes in small pieces; an error answer followed by a close
//! reaches a peer that is still sending (lingering close); the per-address
//! cap; and a reactor that dies ends a daemon's process with status 70.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_core::metrics::Metrics;
use throng_core::reactor::{ConnId, ConnInfo, Driven, Env, ReactorConfig, Service, Session};
use throng_core::server::{self, OnReactorDeath, ServerHandle};

/// Answers each line: `panic` panics, `refuse` answers `NO` and closes
/// lingering, `big` answers 64 KiB, anything else is echoed.
struct Lines {
    /// The largest output any connection held after a callback.
    peak_output: Arc<AtomicUsize>,
}

const BIG: usize = 64 * 1024;

impl Driven<()> for Lines {
    type Reply = ();
}

impl Service for Lines {
    type Conn = ();

    fn open(&mut self, _: ConnId, _: &ConnInfo, _: &mut Env<'_>) {}

    fn data(&mut self, s: &mut Session<'_, ()>, input: &[u8], _: &mut Env<'_>) -> usize {
        let mut used = 0;
        while let Some(end) = input[used..].iter().position(|b| *b == b'\n') {
            if s.output_full() {
                break;
            }
            let line = &input[used..used + end];
            used += end + 1;
            match line {
                b"panic" => {
                    s.write(b"half-written");
                    panic!("a test service panics on request");
                }
                b"refuse" => {
                    s.write(b"NO\n");
                    s.linger_after_flush();
                    return input.len();
                }
                b"big" => s.write(&[b'x'; BIG]),
                other => {
                    s.write(other);
                    s.write(b"\n");
                }
            }
            self.peak_output
                .fetch_max(s.pending_output(), Ordering::Relaxed);
        }
        used
    }

    fn panicked(&self) -> &[u8] {
        b"INTERNAL\n"
    }

    fn refusal(&self) -> &[u8] {
        b"BUSY\n"
    }
}

fn start(cfg: ReactorConfig) -> (ServerHandle, SocketAddr, Arc<Metrics>, Arc<AtomicUsize>) {
    let metrics = Metrics::new();
    let peak = Arc::new(AtomicUsize::new(0));
    let p = peak.clone();
    let handle = server::start(&cfg, &metrics, move |_| Lines {
        peak_output: p.clone(),
    })
    .unwrap();
    let addr = handle.local_addrs()[0];
    (handle, addr, metrics, peak)
}

fn one_reactor() -> ReactorConfig {
    ReactorConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        threads: 1,
        ..ReactorConfig::default()
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    all
}

fn ask(s: &mut TcpStream, line: &str) -> String {
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "closed before the answer");
        got.push(byte[0]);
    }
    String::from_utf8(got).unwrap()
}

#[test]
fn a_panicking_callback_costs_its_connection_only() {
    let (handle, addr, metrics, _) = start(one_reactor());
    // Several connections on the one reactor, before and after the panics.
    let mut before = connect(addr);
    assert_eq!(ask(&mut before, "hello"), "hello\n");
    for _ in 0..3 {
        let mut victim = connect(addr);
        victim.write_all(b"panic\n").unwrap();
        // The half-written bytes never reach the peer; the last words do.
        assert_eq!(read_to_close(&mut victim), b"INTERNAL\n");
    }
    assert_eq!(ask(&mut before, "still here"), "still here\n");
    let mut after = connect(addr);
    assert_eq!(ask(&mut after, "new"), "new\n");
    let text = metrics.render();
    assert!(text.contains("throng_panics_total 3"), "{text}");
    handle.shutdown();
    handle.join().unwrap();
}

#[test]
fn a_peer_that_never_reads_holds_bounded_output_even_writing_small_pieces() {
    let max_output = 256 * 1024;
    let cfg = ReactorConfig {
        max_output,
        ..one_reactor()
    };
    let (handle, addr, _, peak) = start(cfg);
    let mut s = connect(addr);
    s.set_nodelay(true).unwrap();
    s.set_nonblocking(true).unwrap();
    // One small write per request: every read on the server is short, which
    // is where the bounds used to go unchecked. Each asks for 64 KiB.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut sent = 0usize;
    while Instant::now() < deadline && sent < 4 * 1000 {
        match s.write(b"big\n") {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("{e}"),
        }
    }
    let asked = sent / 4 * BIG;
    let held = peak.load(Ordering::Relaxed);
    assert!(
        asked > 8 * max_output,
        "the test asked for {asked} bytes only"
    );
    assert!(
        held <= max_output + BIG,
        "the server held {held} bytes of output for a peer that reads nothing (bound {max_output})"
    );
    // Reading resumes the connection and every request is answered.
    s.set_nonblocking(false).unwrap();
    let mut got = 0usize;
    let mut chunk = vec![0u8; 1 << 16];
    while got < asked {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "closed after {got} of {asked} bytes");
        got += n;
    }
    assert_eq!(got, asked);
    handle.shutdown();
    handle.join().unwrap();
}

#[test]
fn an_answer_before_a_close_reaches_a_peer_that_is_still_sending() {
    let (handle, addr, _, _) = start(one_reactor());
    for _ in 0..20 {
        let mut s = connect(addr);
        // The refusal comes while a large request is still on its way: the
        // bytes after it sit unread in the server's receive queue.
        let mut request = b"refuse\n".to_vec();
        request.extend(std::iter::repeat_n(b'z', 256 * 1024));
        let writer = {
            let mut w = s.try_clone().unwrap();
            std::thread::spawn(move || {
                let _ = w.write_all(&request);
            })
        };
        let mut answer = [0u8; 3];
        s.read_exact(&mut answer).expect("the answer, not a reset");
        assert_eq!(&answer, b"NO\n");
        // Then the end of the stream (the server shut its side down).
        let mut rest = Vec::new();
        match s.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty()),
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        }
        let _ = writer.join();
    }
    handle.shutdown();
    handle.join().unwrap();
}

#[test]
fn one_address_cannot_take_more_than_its_share() {
    let cfg = ReactorConfig {
        max_connections_per_ip: 3,
        ..one_reactor()
    };
    let (handle, addr, _, _) = start(cfg);
    let mut held: Vec<TcpStream> = (0..3).map(|_| connect(addr)).collect();
    for s in &mut held {
        assert_eq!(ask(s, "hi"), "hi\n");
    }
    let mut fourth = connect(addr);
    assert_eq!(read_to_close(&mut fourth), b"BUSY\n");
    drop(held.pop());
    // The slot comes back once the server has seen the close.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut again = connect(addr);
        if again.write_all(b"hi\n").is_ok() {
            let mut got = [0u8; 3];
            if again.read_exact(&mut got).is_ok() && &got == b"hi\n" {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the freed slot never came back");
        std::thread::sleep(Duration::from_millis(20));
    }
    handle.shutdown();
    handle.join().unwrap();
}

/// A service whose factory panics: the reactor thread dies before it runs.
struct NeverBuilt;

impl Driven<()> for NeverBuilt {
    type Reply = ();
}

impl Service for NeverBuilt {
    type Conn = ();
    fn open(&mut self, _: ConnId, _: &ConnInfo, _: &mut Env<'_>) {}
    fn data(&mut self, _: &mut Session<'_, ()>, input: &[u8], _: &mut Env<'_>) -> usize {
        input.len()
    }
}

const CHILD: &str = "THRONG_HARDENING_CHILD";

/// In the re-executed child: a daemon-style server whose second reactor
/// dies. It must exit 70 at once, not run on with one reactor.
#[test]
fn a_dead_reactor_ends_a_daemon_process() {
    if std::env::var_os(CHILD).is_some() {
        let cfg = ReactorConfig {
            threads: 2,
            ..one_reactor()
        };
        let handle = server::start_with(
            &cfg,
            &Metrics::new(),
            OnReactorDeath::ExitProcess,
            |setup| {
                assert!(setup.index == 0, "reactor {} cannot be built", setup.index);
                NeverBuilt
            },
        )
        .unwrap();
        std::thread::sleep(Duration::from_secs(10));
        drop(handle);
        std::process::exit(0); // reached only if the process did not exit
    }
    let started = Instant::now();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_dead_reactor_ends_a_daemon_process",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(server::REACTOR_DEATH_EXIT),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(8), "it ran on");

    // In-process servers stop the others instead and report it.
    let handle = server::start(&one_reactor(), &Metrics::new(), |_| -> NeverBuilt {
        panic!("cannot be built")
    })
    .unwrap();
    assert!(handle.join().is_err());
}

/// Asks to be woken at an instant long past and never moves it; each
/// wake-up is counted and, when `panics`, panics.
struct StuckWakeup {
    at: Instant,
    woken: Arc<AtomicUsize>,
    panics: bool,
}

impl Service for StuckWakeup {
    type Conn = ();
    fn open(&mut self, _: ConnId, _: &ConnInfo, _: &mut Env<'_>) {}
    fn data(&mut self, _: &mut Session<'_, ()>, input: &[u8], _: &mut Env<'_>) -> usize {
        input.len()
    }
}

impl Driven<()> for StuckWakeup {
    type Reply = ();

    fn next_wakeup(&self) -> Option<Instant> {
        Some(self.at)
    }

    fn wakeup(&mut self, _: &mut throng_core::reactor::Conns<'_, ()>, _: &mut Env<'_>) {
        self.woken.fetch_add(1, Ordering::Relaxed);
        if self.panics {
            panic!("a wake-up that never moves its deadline");
        }
    }
}

#[test]
fn a_wakeup_stuck_in_the_past_is_paced_not_spun() {
    for panics in [false, true] {
        let woken = Arc::new(AtomicUsize::new(0));
        let counter = woken.clone();
        let at = Instant::now();
        let handle = server::start(&one_reactor(), &Metrics::new(), move |_| StuckWakeup {
            at,
            woken: counter.clone(),
            panics,
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        handle.shutdown();
        handle.join().unwrap();
        let n = woken.load(Ordering::Relaxed);
        // One tick (10 ms) apart at most: about 50 in half a second, not
        // the hundreds of thousands of a spinning loop.
        assert!((5..=80).contains(&n), "panics={panics}: {n} wake-ups");
    }
}
