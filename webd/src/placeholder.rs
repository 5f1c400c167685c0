//! The placeholder HTTP service: `GET /` (and `HEAD /`) answer a page that
//! says the stack is up and webd is not built yet; other paths are 404,
//! other methods 405, and anything unparsable 400. Keep-alive and
//! `Connection: close` are honoured; request bodies are not accepted, so a
//! request that announces one is answered and the connection closed.

use throng_core::reactor::{ConnId, ConnInfo, Env, Service, Session};

const PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Throng</title></head><body>\n<h1>Throng</h1>\n<p>The stack is up. The web \
front (sign-up, log-in, profiles) is not built yet: this is webd's placeholder \
page.</p>\n</body></html>\n";

/// Bytes of request head we wait for before answering 431.
const MAX_HEAD: usize = 16 * 1024;

/// The placeholder service; one per reactor.
#[derive(Default)]
pub struct Placeholder;

impl Placeholder {
    pub fn new() -> Self {
        Placeholder
    }
}

fn respond(s: &mut Session<'_, ()>, status: &str, body: &str, head_only: bool, close: bool) {
    let out = s.out();
    let connection = if close { "close" } else { "keep-alive" };
    let allow = if status.starts_with("405") {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {status}\r\n{allow}Content-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    if close {
        s.close_after_flush();
    }
}

impl Service for Placeholder {
    type Conn = ();
    type Reply = ();

    fn open(&mut self, _: ConnId, _: &ConnInfo, _: &mut Env<'_>) {}

    fn data(&mut self, s: &mut Session<'_, ()>, input: &[u8], _: &mut Env<'_>) -> usize {
        let mut used = 0;
        while used < input.len() && !s.is_closing() {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&input[used..]) {
                Ok(httparse::Status::Partial) => {
                    if input.len() - used > MAX_HEAD {
                        respond(s, "431 Request Header Fields Too Large", "", false, true);
                        return input.len();
                    }
                    return used;
                }
                Err(_) => {
                    respond(s, "400 Bad Request", "", false, true);
                    return input.len();
                }
                Ok(httparse::Status::Complete(n)) => {
                    used += n;
                    let has_body = req.headers.iter().any(|h| {
                        h.name.eq_ignore_ascii_case("transfer-encoding")
                            || (h.name.eq_ignore_ascii_case("content-length") && h.value != b"0")
                    });
                    let close = has_body
                        || req.version == Some(0)
                        || req.headers.iter().any(|h| {
                            h.name.eq_ignore_ascii_case("connection")
                                && h.value.eq_ignore_ascii_case(b"close")
                        });
                    let method = req.method.unwrap_or("");
                    let head = method == "HEAD";
                    match (method, req.path.unwrap_or("")) {
                        ("GET" | "HEAD", "/") => respond(s, "200 OK", PAGE, head, close),
                        ("GET" | "HEAD", _) => {
                            respond(s, "404 Not Found", "<h1>404 Not Found</h1>\n", head, close)
                        }
                        _ => respond(s, "405 Method Not Allowed", "", false, true),
                    }
                }
            }
        }
        used
    }
}
