//! webd's HTTP layer over real sockets: the placeholder page; every request
//! split at every byte boundary answered the same; pipelined batches in
//! order; bodies by length and chunked; 100-continue; HEAD; keep-alive and
//! `Connection: close`; each limit and malformed case with its status while
//! the server keeps serving others; and the header deadline (408).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use throng_core::server::ServerHandle;
use webd::http::HttpLimits;

mod support;

fn start(limits: HttpLimits) -> (ServerHandle, SocketAddr) {
    let handle = support::start_server(limits, 2);
    let addr = handle.local_addrs()[0];
    (handle, addr)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Reads `n` whole responses (by Content-Length); returns (status, body).
fn responses(s: &mut TcpStream, n: usize) -> Vec<(u16, String)> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    while out.len() < n {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let headers = &text[..end];
            let status: u16 = headers[9..12].parse().unwrap();
            let len: usize = headers
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.parse().unwrap());
            let body_len = if status == 100 { 0 } else { len };
            if buf.len() >= end + 4 + body_len {
                out.push((
                    status,
                    String::from_utf8_lossy(&buf[end + 4..end + 4 + body_len]).to_string(),
                ));
                buf.drain(..end + 4 + body_len);
                continue;
            }
        }
        let got = s.read(&mut chunk).unwrap();
        assert!(got > 0, "closed after {} responses", out.len());
        buf.extend_from_slice(&chunk[..got]);
    }
    out
}

fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0))
}

#[test]
fn a_page_head_404_and_405() {
    let (h, addr) = start(HttpLimits::default());
    let mut s = connect(addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&all).contains("404 Not Found</h1>") {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0);
        all.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&all);
    let parts: Vec<&str> = text.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(parts.len(), 3, "{text}");
    assert!(
        parts[0].starts_with("200 OK") && parts[0].contains(support::PAGE),
        "{text}"
    );
    // HEAD: the same length announced, no body: the 404 follows directly.
    assert!(
        parts[1].starts_with("200 OK") && parts[1].ends_with("\r\n\r\n"),
        "{text}"
    );
    let length = |p: &str| {
        p.lines()
            .find(|l| l.starts_with("Content-Length"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(length(parts[0]), length(parts[1]));
    assert!(parts[2].starts_with("404 Not Found"), "{text}");
    s.write_all(b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(
        text.starts_with("HTTP/1.1 405")
            && text.contains("Allow: GET, HEAD")
            && text.contains("Date: "),
        "{text}"
    );
    h.shutdown();
    h.join().unwrap();
}

#[test]
fn a_request_split_at_every_byte_is_answered_the_same() {
    let (h, addr) = start(HttpLimits::default());
    let raw = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world";
    for cut in [1, 3, 17, 30, 45, raw.len() - 1] {
        let mut s = connect(addr);
        s.set_nodelay(true).unwrap();
        s.write_all(&raw[..cut]).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        s.write_all(&raw[cut..]).unwrap();
        assert_eq!(
            responses(&mut s, 1),
            vec![(200, "hello world".to_string())],
            "cut {cut}"
        );
    }
    let mut s = connect(addr);
    s.set_nodelay(true).unwrap();
    for b in raw {
        s.write_all(&[*b]).unwrap();
    }
    assert_eq!(responses(&mut s, 1), vec![(200, "hello world".to_string())]);
    h.shutdown();
    h.join().unwrap();
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let (h, addr) = start(HttpLimits::default());
    let mut s = connect(addr);
    let mut batch = Vec::new();
    for i in 0..50 {
        let body = format!("req-{i}");
        batch.extend_from_slice(
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    }
    s.write_all(&batch).unwrap();
    let got = responses(&mut s, 50);
    for (i, (status, body)) in got.iter().enumerate() {
        assert_eq!((*status, body.as_str()), (200, format!("req-{i}").as_str()));
    }
    h.shutdown();
    h.join().unwrap();
}

#[test]
fn chunked_bodies_and_100_continue() {
    let (h, addr) = start(HttpLimits::default());
    let mut s = connect(addr);
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").unwrap();
    assert_eq!(responses(&mut s, 1), vec![(200, "hello world".to_string())]);
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    assert_eq!(
        responses(&mut s, 1)[0].0,
        100,
        "the client is told to go on"
    );
    s.write_all(b"abc").unwrap();
    assert_eq!(responses(&mut s, 1), vec![(200, "abc".to_string())]);
    h.shutdown();
    h.join().unwrap();
}

#[test]
fn each_limit_and_malformed_request_gets_its_status_and_others_carry_on() {
    let (h, addr) = start(HttpLimits {
        max_request_line: 256,
        max_head: 1024,
        ..HttpLimits::default()
    });
    let mut healthy = connect(addr);
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"\x16\x03\x01garbage\r\n\r\n".to_vec(), 400),
        (
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(300)).into_bytes(),
            414,
        ),
        (
            format!(
                "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
                "b".repeat(2000)
            )
            .into_bytes(),
            431,
        ),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 411),
        (
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n".to_vec(),
            413,
        ),
        (
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(),
            501,
        ),
        (b"GET / HTTP/2.0\r\n\r\n".to_vec(), 505),
        (b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 405),
    ];
    for (raw, status) in cases {
        let mut s = connect(addr);
        s.write_all(&raw).unwrap();
        let r = responses(&mut s, 1);
        assert_eq!(r[0].0, status, "{}", String::from_utf8_lossy(&raw));
        if status != 405 {
            assert!(closed(&mut s), "closed after {status}");
        }
        healthy
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(responses(&mut healthy, 1)[0].0, 200);
    }
    h.shutdown();
    h.join().unwrap();
}

#[test]
fn connection_close_and_http_1_0_end_the_connection() {
    let (h, addr) = start(HttpLimits::default());
    let mut s = connect(addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(responses(&mut s, 1)[0].0, 200);
    assert!(closed(&mut s));
    let mut s = connect(addr);
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(responses(&mut s, 1)[0].0, 200);
    assert!(closed(&mut s));
    h.shutdown();
    h.join().unwrap();
}

#[test]
fn a_slow_head_gets_408_and_is_closed() {
    let (h, addr) = start(HttpLimits {
        header_timeout: Duration::from_millis(300),
        ..HttpLimits::default()
    });
    let mut s = connect(addr);
    let started = Instant::now();
    // A slowloris: one byte every 50 ms never completes the head in time.
    let mut sent = 0;
    let raw =
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    while started.elapsed() < Duration::from_millis(450) && sent < raw.len() {
        if s.write_all(&raw[sent..sent + 1]).is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = responses(&mut s, 1);
    assert_eq!(r[0].0, 408);
    assert!(closed(&mut s));
    h.shutdown();
    h.join().unwrap();
}
