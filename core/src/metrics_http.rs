//! The metrics listener: `GET /metrics` (Prometheus text) on an address of
//! its own, loopback only, so what the counters reveal (request rates,
//! error counts, which backends are down) never reaches the public
//! listener. Scrapes are rare and small: one thread serves them one at a
//! time, each connection gets [`DEADLINE`] for its request, one answer,
//! and is closed. The request head is parsed by `httparse`.

use crate::metrics::Metrics;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a scraper has to send its request.
const DEADLINE: Duration = Duration::from_secs(2);
/// The longest request head read.
const MAX_HEAD: usize = 8 * 1024;

/// Binds `listen` (a loopback address) and serves `metrics` there on a
/// thread of its own; the address bound.
pub fn serve(listen: SocketAddr, metrics: Arc<Metrics>) -> io::Result<SocketAddr> {
    if !listen.ip().is_loopback() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the metrics listener {listen} must be a loopback address"),
        ));
    }
    let listener = TcpListener::bind(listen)?;
    let local = listener.local_addr()?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Err(e) = answer(stream, &metrics) {
                    log::debug!("metrics scrape: {e}");
                }
            }
        })?;
    Ok(local)
}

/// What a request head asks for.
fn route(head: &[u8]) -> Option<(u16, bool)> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Some((400, false)),
    }
    let path = req.path?.split('?').next()?;
    Some(match (req.method?, path) {
        ("GET", "/metrics") => (200, true),
        ("HEAD", "/metrics") => (200, false),
        (_, "/metrics") => (405, false),
        _ => (404, false),
    })
}

fn answer(mut stream: TcpStream, metrics: &Metrics) -> io::Result<()> {
    let until = Instant::now() + DEADLINE;
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || head.len() > MAX_HEAD {
            return Ok(());
        }
        stream.set_read_timeout(Some(left))?;
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let (status, with_body) = route(&head).unwrap_or((400, false));
    let body = if status == 200 {
        metrics.render()
    } else {
        String::new()
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Bad Request",
    };
    stream.set_write_timeout(Some(DEADLINE))?;
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; version=0.0.4\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if with_body {
        stream.write_all(body.as_bytes())?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_and_head_of_metrics_are_served() {
        assert_eq!(route(b"GET /metrics HTTP/1.1\r\n\r\n"), Some((200, true)));
        assert_eq!(route(b"HEAD /metrics HTTP/1.1\r\n\r\n"), Some((200, false)));
        assert_eq!(route(b"POST /metrics HTTP/1.1\r\n\r\n"), Some((405, false)));
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Some((404, false)));
        assert_eq!(route(b"\x00\x01 garbage\r\n\r\n"), Some((400, false)));
    }

    #[test]
    fn a_non_loopback_address_is_refused() {
        let metrics = Metrics::new();
        assert!(serve("0.0.0.0:0".parse().unwrap(), metrics).is_err());
    }
}
