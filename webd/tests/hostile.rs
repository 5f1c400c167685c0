//! The webd binary as `make up` runs it, against hostile peers: requests
//! whose sizes overflow any arithmetic cannot stop it; peers that pipeline
//! without reading hold a bounded amount of its memory; and with its
//! descriptors exhausted it answers "busy" at once, does not spin, and
//! serves again once descriptors are free. Each test starts its own webd
//! process (no authd is needed for the pages these tests ask for).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use throng_testkit::process::{cpu_ticks, rss_bytes};
use throng_testkit::spawn::free_port;

struct Webd {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Webd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts webd with `sets` (`--set` values) and, if given, an open-file
/// limit, and waits until it answers.
#[allow(unsafe_code)] // setrlimit between fork and exec; see the SAFETY comment
fn start(sets: &[&str], nofile: Option<u64>) -> Webd {
    let dir = tempfile::tempdir().unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_webd"));
    cmd.args(["--listen", &addr.to_string(), "--threads", "2"])
        .args(["--log-level", "warn"])
        .args(["--set", "authd.backends=[\"127.0.0.1:1\"]"])
        .arg("--set")
        .arg(format!("avatars.dir={:?}", dir.path().join("avatars")))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for set in sets {
        cmd.args(["--set", set]);
    }
    if let Some(limit) = nofile {
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between
        // fork and exec here.
        unsafe {
            cmd.pre_exec(move || {
                let rl = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &rl) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let child = cmd.spawn().unwrap();
    let webd = Webd {
        child,
        addr,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(addr) {
            if status_of(&mut s, "GET /login HTTP/1.1\r\nHost: t\r\n\r\n") == Some(200) {
                return webd;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("webd did not come up on {addr}");
}

/// Sends `request` and reads the status of the first answer.
fn status_of(s: &mut TcpStream, request: &str) -> Option<u16> {
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(request.as_bytes()).ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    std::str::from_utf8(&head).ok()?.get(9..12)?.parse().ok()
}

fn alive(webd: &mut Webd) -> bool {
    webd.child.try_wait().unwrap().is_none()
}

#[test]
fn sizes_that_overflow_cannot_stop_webd() {
    let mut webd = start(&[], None);
    // The class: chunk sizes and lengths at and past every integer edge,
    // on every route kind, many times over (so every reactor meets them).
    let sizes = [
        "ffffffffffffffff",
        "fffffffffffffffff",
        "8000000000000000",
        "7fffffffffffffff",
        "10000000000000000",
        "ffffffffffffffff;x=y",
        "00000000000000000000000001",
    ];
    let lengths = [
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999",
        "9223372036854775808",
    ];
    for round in 0..4 {
        for path in [
            "/login",
            "/signup",
            "/edit/avatar",
            "/api/register",
            "/nowhere",
        ] {
            for size in sizes {
                let mut s = TcpStream::connect(webd.addr).unwrap();
                // A first chunk, so that the size is added to a length
                // already decoded (where the arithmetic used to wrap).
                let request = format!(
                    "POST {path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n{size}\r\nabc"
                );
                let status = status_of(&mut s, &request);
                assert!(
                    matches!(status, Some(400 | 404 | 405 | 413)),
                    "round {round} {path} chunk {size}: {status:?}"
                );
            }
            for length in lengths {
                let mut s = TcpStream::connect(webd.addr).unwrap();
                let request = format!(
                    "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {length}\r\n\r\nabc"
                );
                let status = status_of(&mut s, &request);
                assert!(
                    matches!(status, Some(400 | 404 | 405 | 413)),
                    "round {round} {path} length {length}: {status:?}"
                );
            }
        }
    }
    assert!(alive(&mut webd), "webd died");
    let mut s = TcpStream::connect(webd.addr).unwrap();
    assert_eq!(
        status_of(&mut s, "GET /login HTTP/1.1\r\nHost: t\r\n\r\n"),
        Some(200)
    );
}

#[test]
fn peers_that_pipeline_without_reading_hold_bounded_memory() {
    let max_output: u64 = 256 << 10;
    let mut webd = start(&[&format!("reactor.max_output={max_output}")], None);
    let pid = webd.child.id();
    let baseline = rss_bytes(pid);
    let request = b"GET /login HTTP/1.1\r\nHost: t\r\n\r\n";
    let mut peers: Vec<TcpStream> = (0..8)
        .map(|_| {
            let s = TcpStream::connect(webd.addr).unwrap();
            s.set_nodelay(true).unwrap();
            s.set_nonblocking(true).unwrap();
            s
        })
        .collect();
    // Small writes, one request each, for a few seconds: short reads on
    // the server side, and answers many times the size of the requests.
    let mut sent = 0u64;
    let mut peak = baseline;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let mut blocked = 0;
        for peer in &mut peers {
            for _ in 0..64 {
                match peer.write(request) {
                    Ok(n) => sent += n as u64,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        blocked += 1;
                        break;
                    }
                    Err(e) => panic!("a peer was cut off: {e}"),
                }
            }
        }
        peak = peak.max(rss_bytes(pid));
        if blocked == peers.len() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let answers = sent / request.len() as u64;
    let answer_size = 2000; // a log-in page is larger than this
    assert!(
        answers * answer_size > 200 << 20,
        "the peers asked for only {answers} pages"
    );
    // Per peer: max_output plus one read of input; on top, what the
    // reactors' buffer pools keep (up to 1,024 buffers of at most 16 KiB
    // each) and allocator slack. Unbounded, the same run grows by
    // ~50 MiB in 8 s (the old main, measured).
    let bound = baseline + 8 * (max_output + (128 << 10)) + (32 << 20);
    assert!(
        peak <= bound,
        "webd grew from {baseline} to {peak} bytes (bound {bound}) for 8 peers that read nothing"
    );
    assert!(alive(&mut webd));
    drop(peers);
    let mut s = TcpStream::connect(webd.addr).unwrap();
    assert_eq!(
        status_of(&mut s, "GET /login HTTP/1.1\r\nHost: t\r\n\r\n"),
        Some(200)
    );
}

#[test]
fn descriptor_exhaustion_answers_busy_at_once_without_spinning() {
    let mut webd = start(&[], Some(96));
    let pid = webd.child.id();
    // Hold connections until the process has no descriptor left.
    let mut held = Vec::new();
    let mut busy = 0;
    for _ in 0..150 {
        let mut s = TcpStream::connect(webd.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let asked = Instant::now();
        match status_of(&mut s, "GET /login HTTP/1.1\r\nHost: t\r\n\r\n") {
            Some(200) => held.push(s),
            Some(503) => busy += 1,
            other => panic!(
                "after {} held: {other:?} in {:?}",
                held.len(),
                asked.elapsed()
            ),
        }
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "an answer took {:?}: the queue stalled",
            asked.elapsed()
        );
    }
    assert!(
        busy > 0,
        "the limit was never reached ({} held)",
        held.len()
    );
    // Exhausted, with clients arriving: the reactor must not spin.
    let before = cpu_ticks(pid);
    let spin_check = Instant::now();
    while spin_check.elapsed() < Duration::from_secs(1) {
        let mut s = TcpStream::connect(webd.addr).unwrap();
        assert_eq!(
            status_of(&mut s, "GET /login HTTP/1.1\r\nHost: t\r\n\r\n"),
            Some(503)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let used = cpu_ticks(pid) - before;
    assert!(
        used < 40,
        "webd used {used} ticks of CPU in a second while exhausted"
    );
    // Descriptors come back: served again.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut s = TcpStream::connect(webd.addr).unwrap();
        if status_of(&mut s, "GET /login HTTP/1.1\r\nHost: t\r\n\r\n") == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "never served again");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(alive(&mut webd));
}
