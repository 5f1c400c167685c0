//! The placeholder web front over a real socket: the page, HEAD, 404, 405
//! with Allow, keep-alive and `Connection: close`, and garbage.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use throng_core::metrics::Metrics;
use throng_core::reactor::ReactorConfig;
use throng_core::server;
use webd::Placeholder;

fn exchange(stream: &mut TcpStream, request: &str) -> String {
    stream.write_all(request.as_bytes()).unwrap();
    let mut buf = vec![0u8; 8192];
    let mut got = Vec::new();
    loop {
        let n = stream.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if n == 0 {
            return text;
        }
        if let Some(head_end) = text.find("\r\n\r\n") {
            let len: usize = text
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            let head_only = request.starts_with("HEAD");
            if head_only || got.len() >= head_end + 4 + len {
                return text;
            }
        }
    }
}

#[test]
fn serves_the_placeholder_page_and_sane_errors() {
    let cfg = ReactorConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        threads: 1,
        ..ReactorConfig::default()
    };
    let handle = server::start(&cfg, &Metrics::new(), |_| Placeholder::new()).unwrap();
    let addr = handle.local_addrs()[0];
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let page = exchange(&mut s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    assert!(page.contains("not built yet"), "{page}");
    let head = exchange(&mut s, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.1 200 OK") && !head.contains("<html"),
        "{head}"
    );
    let missing = exchange(&mut s, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let closing = exchange(
        &mut s,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(closing.contains("Connection: close"), "{closing}");
    let mut rest = [0u8; 1];
    assert_eq!(
        s.read(&mut rest).unwrap(),
        0,
        "closed after Connection: close"
    );

    let mut s = TcpStream::connect(addr).unwrap();
    let post = exchange(
        &mut s,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(
        post.starts_with("HTTP/1.1 405") && post.contains("Allow: GET, HEAD"),
        "{post}"
    );

    let mut s = TcpStream::connect(addr).unwrap();
    let bad = exchange(&mut s, "\u{1}\u{2} garbage\r\n\r\n");
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    handle.shutdown();
    handle.join().unwrap();
}
