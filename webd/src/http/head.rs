//! Request heads: `httparse` into a stack array of headers, then the fields
//! the layer needs, all borrowed from the input — no allocation per header,
//! and a typed [`HttpError`] (with its status) for any bytes that are not a
//! request head.

use super::limits::{HttpLimits, HEADER_SLOTS};

/// Why a request is refused before any route sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    BadRequest,
    UriTooLong,
    HeadersTooLarge,
    LengthRequired,
    PayloadTooLarge,
    NotImplemented,
    VersionNotSupported,
}

impl HttpError {
    pub fn status(self) -> u16 {
        match self {
            HttpError::BadRequest => 400,
            HttpError::LengthRequired => 411,
            HttpError::PayloadTooLarge => 413,
            HttpError::UriTooLong => 414,
            HttpError::HeadersTooLarge => 431,
            HttpError::NotImplemented => 501,
            HttpError::VersionNotSupported => 505,
        }
    }
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    None,
    Length(u64),
    Chunked,
}

/// A parsed request head, borrowing from the input.
#[derive(Debug, Clone)]
pub struct Head<'a> {
    pub method: &'a str,
    /// The target's path (before `?`).
    pub path: &'a str,
    /// The query string (after `?`), if any.
    pub query: Option<&'a str>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub body: BodyKind,
    /// Whether the request said how long its body is (Content-Length,
    /// even 0, or chunked): a POST without it is answered 411.
    pub has_length: bool,
    pub keep_alive: bool,
    pub expect_continue: bool,
    /// Bytes of the head, blank line included.
    pub len: usize,
    pub cookie: Option<&'a [u8]>,
    pub content_type: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    pub if_none_match: Option<&'a [u8]>,
}

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// Whether a comma-separated header value contains `token`.
fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|b| *b == b',')
        .any(|t| eq(t.trim_ascii(), token))
}

/// Parses the head at the front of `input`: `Ok(None)` when incomplete.
pub fn parse<'a>(input: &'a [u8], limits: &HttpLimits) -> Result<Option<Head<'a>>, HttpError> {
    let mut slots = [httparse::EMPTY_HEADER; HEADER_SLOTS];
    let max_headers = limits.max_headers.min(HEADER_SLOTS);
    let mut req = httparse::Request::new(&mut slots[..max_headers]);
    let len = match req.parse(input) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            let line_end = input.windows(2).position(|w| w == b"\r\n");
            if line_end.map_or(input.len(), |e| e) > limits.max_request_line {
                return Err(HttpError::UriTooLong);
            }
            if input.len() > limits.max_head {
                return Err(HttpError::HeadersTooLarge);
            }
            return Ok(None);
        }
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::HeadersTooLarge),
        Err(httparse::Error::Version) => return Err(HttpError::VersionNotSupported),
        Err(_) => return Err(HttpError::BadRequest),
    };
    let target = req.path.ok_or(HttpError::BadRequest)?;
    if target.len() > limits.max_request_line {
        return Err(HttpError::UriTooLong);
    }
    if len > limits.max_head {
        return Err(HttpError::HeadersTooLarge);
    }
    let minor = req.version.ok_or(HttpError::BadRequest)?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let mut head = Head {
        method: req.method.ok_or(HttpError::BadRequest)?,
        path,
        query,
        minor,
        body: BodyKind::None,
        has_length: false,
        keep_alive: minor >= 1,
        expect_continue: false,
        len,
        cookie: None,
        content_type: None,
        user_agent: None,
        if_none_match: None,
    };
    let mut length: Option<u64> = None;
    let mut chunked = false;
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        if eq(name, "content-length") {
            let text = std::str::from_utf8(h.value)
                .map_err(|_| HttpError::BadRequest)?
                .trim();
            let n: u64 = text.parse().map_err(|_| HttpError::BadRequest)?;
            // Two different lengths are a smuggling attempt, not a choice.
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::BadRequest);
            }
            length = Some(n);
        } else if eq(name, "transfer-encoding") {
            if !eq(h.value.trim_ascii(), "chunked") {
                return Err(HttpError::NotImplemented);
            }
            chunked = true;
        } else if eq(name, "connection") {
            if has_token(h.value, "close") {
                head.keep_alive = false;
            } else if has_token(h.value, "keep-alive") {
                head.keep_alive = true;
            }
        } else if eq(name, "expect") {
            if !eq(h.value.trim_ascii(), "100-continue") {
                return Err(HttpError::BadRequest);
            }
            head.expect_continue = minor >= 1;
        } else if eq(name, "cookie") {
            head.cookie = Some(h.value);
        } else if eq(name, "content-type") {
            head.content_type = Some(h.value);
        } else if eq(name, "user-agent") {
            head.user_agent = Some(h.value);
        } else if eq(name, "if-none-match") {
            head.if_none_match = Some(h.value);
        }
    }
    head.has_length = chunked || length.is_some();
    head.body = match (chunked, length) {
        (true, Some(_)) => return Err(HttpError::BadRequest),
        (true, None) => BodyKind::Chunked,
        (false, Some(0)) | (false, None) => BodyKind::None,
        (false, Some(n)) => BodyKind::Length(n),
    };
    Ok(Some(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> HttpLimits {
        HttpLimits::default()
    }

    #[test]
    fn a_simple_get() {
        let raw = b"GET /home?x=1 HTTP/1.1\r\nHost: a\r\nCookie: s=1\r\n\r\nNEXT";
        let h = parse(raw, &limits()).unwrap().unwrap();
        assert_eq!((h.method, h.path, h.query), ("GET", "/home", Some("x=1")));
        assert!(h.keep_alive);
        assert_eq!(h.len, raw.len() - 4);
        assert_eq!(h.cookie, Some(&b"s=1"[..]));
    }

    #[test]
    fn every_prefix_is_incomplete_and_the_whole_parses_the_same() {
        let raw =
            b"POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\n";
        for cut in 0..raw.len() {
            assert!(
                parse(&raw[..cut], &limits()).unwrap().is_none(),
                "cut {cut}"
            );
        }
        let h = parse(raw, &limits()).unwrap().unwrap();
        assert_eq!(h.body, BodyKind::Length(5));
        assert!(!h.keep_alive);
    }

    #[test]
    fn limits_and_malformed_heads_have_their_status() {
        let l = limits();
        let long_line = format!("GET /{} HTTP/1.1\r\n", "a".repeat(9000));
        assert_eq!(
            parse(long_line.as_bytes(), &l).unwrap_err(),
            HttpError::UriTooLong
        );
        let partial_long = format!("GET /{}", "a".repeat(9000));
        assert_eq!(
            parse(partial_long.as_bytes(), &l).unwrap_err(),
            HttpError::UriTooLong
        );
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "b".repeat(17_000));
        assert_eq!(
            parse(big.as_bytes(), &l).unwrap_err(),
            HttpError::HeadersTooLarge
        );
        let many: String = (0..70).map(|i| format!("H{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(
            parse(many.as_bytes(), &l).unwrap_err(),
            HttpError::HeadersTooLarge
        );
        assert_eq!(
            parse(b"\x01\x02 / HTTP/1.1\r\n\r\n", &l).unwrap_err(),
            HttpError::BadRequest
        );
        let smuggle = b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(parse(smuggle, &l).unwrap_err(), HttpError::BadRequest);
        let both = b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(parse(both, &l).unwrap_err(), HttpError::BadRequest);
        let gzip = b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
        assert_eq!(parse(gzip, &l).unwrap_err(), HttpError::NotImplemented);
    }

    #[test]
    fn http_1_0_closes_unless_asked_to_keep_alive() {
        let h = parse(b"GET / HTTP/1.0\r\n\r\n", &limits())
            .unwrap()
            .unwrap();
        assert!(!h.keep_alive);
        let h = parse(
            b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
            &limits(),
        )
        .unwrap()
        .unwrap();
        assert!(h.keep_alive);
    }
}
