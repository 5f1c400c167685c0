//! Responses: status, headers, body, written straight into the
//! connection's output with a `Date` that is formatted once per second per
//! reactor, `Content-Length`, and `Connection` as the exchange requires.

use std::time::{SystemTime, UNIX_EPOCH};

/// A response a route (or the layer itself) produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Extra headers, each `Name: value` without the line end.
    pub headers: Vec<String>,
    pub body: Vec<u8>,
    /// Close the connection after this response.
    pub close: bool,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            close: false,
        }
    }

    pub fn html(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response::new(status)
            .header("Content-Type: text/html; charset=utf-8")
            .body(body)
    }

    /// Adds a header line. CR and LF are dropped from it: a value that
    /// came from a request (a redirect URI, say) can never start a header
    /// or a body of its own.
    pub fn header(mut self, line: impl Into<String>) -> Self {
        let mut line = line.into();
        line.retain(|c| c != '\r' && c != '\n');
        self.headers.push(line);
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn closing(mut self) -> Self {
        self.close = true;
        self
    }
}

/// The reason phrase of a status.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        303 => "See Other",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// The `Date` header value, formatted at most once per second.
#[derive(Debug, Default)]
pub struct DateCache {
    second: u64,
    value: String,
}

impl DateCache {
    pub fn get(&mut self) -> &str {
        let now = SystemTime::now();
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if second != self.second || self.value.is_empty() {
            self.second = second;
            self.value = httpdate::fmt_http_date(now);
        }
        &self.value
    }
}

/// Appends `response` to `out`. `head_only` leaves the body out (HEAD)
/// but keeps its Content-Length; `close` adds `Connection: close`.
pub fn write(out: &mut Vec<u8>, response: &Response, date: &str, head_only: bool, close: bool) {
    use std::io::Write as _;
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\nDate: {date}\r\n",
        response.status,
        reason(response.status),
    );
    // 1xx and 204 never carry a length (RFC 9110 §8.6), and a 304's would
    // have to be the 200's, which this layer does not know: leave it out.
    let bodiless = matches!(response.status, 100..=199 | 204 | 304);
    if !bodiless {
        let _ = write!(out, "Content-Length: {}\r\n", response.body.len());
    }
    for line in &response.headers {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head_only && !bodiless {
        out.extend_from_slice(&response.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_keeps_the_length_and_drops_the_body() {
        let r = Response::html(200, "hello");
        let mut get = Vec::new();
        write(&mut get, &r, "Sun, 22 Nov 2026 00:00:00 GMT", false, false);
        let text = String::from_utf8(get).unwrap();
        assert!(text.starts_with(
            "HTTP/1.1 200 OK\r\nDate: Sun, 22 Nov 2026 00:00:00 GMT\r\nContent-Length: 5\r\n"
        ));
        assert!(text.ends_with("\r\n\r\nhello"));
        let mut head = Vec::new();
        write(&mut head, &r, "d", true, true);
        let text = String::from_utf8(head).unwrap();
        assert!(
            text.contains("Content-Length: 5")
                && text.contains("Connection: close")
                && text.ends_with("\r\n\r\n")
        );
    }

    #[test]
    fn bodiless_statuses_carry_no_length() {
        for status in [204, 304] {
            let mut out = Vec::new();
            write(
                &mut out,
                &Response::new(status).body("x"),
                "d",
                false,
                false,
            );
            let text = String::from_utf8(out).unwrap();
            assert!(!text.contains("Content-Length"), "{text}");
            assert!(text.ends_with("\r\n\r\n"), "{text}");
        }
    }

    #[test]
    fn the_date_is_an_http_date() {
        let mut cache = DateCache::default();
        let d = cache.get().to_owned();
        assert!(d.ends_with(" GMT") && d.len() == 29, "{d}");
    }
}
