//! HTTP on the core reactor: one [`HttpService`] per reactor turns the
//! bytes of a connection into requests for a [`Routes`] implementation and
//! its answers into bytes, in order.
//!
//! Pipelined requests are answered in the order they came (each is handled
//! as soon as it is complete). An incomplete head stays in the reactor's
//! input buffer and is parsed again only once a new line has ended; it must
//! be complete within `header_timeout` of its first byte (408 and close — a
//! slowloris peer cannot hold a connection with a trickle). A body that does
//! not arrive with its head is decoded as it comes ([`BodyDecoder`], which
//! keeps its place between reads) into a buffer of its own, next to a copy
//! of the head, and must be whole within `body_timeout` of the head. Between
//! requests the reactor's idle timeout applies. A refused request whose body
//! would have to be skipped closes the connection after the answer, the
//! lingering way, so the client gets to read it.
//!
//! While a connection's output is over the reactor's bound, no further
//! pipelined request is taken from its input; the reactor offers the input
//! again once the peer has read.

mod later;

use super::body::BodyDecoder;
use super::head::{self, BodyKind, Head, HttpError};
use super::limits::HttpLimits;
use super::response::{self, DateCache, Response};
use super::routes::{Outcome, Routes};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use throng_core::metrics::{Counter, LocalHistogram, Metrics};
use throng_core::reactor::{ConnId, ConnInfo, Env, Service, Session};

/// How to write an answer that comes later.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    head_only: bool,
    close: bool,
}

/// Per-connection state; `Rt` is the application's resolved route.
pub struct HttpConn<Rt> {
    /// Bytes of a request arrived and its answer is not written yet.
    in_request: bool,
    /// `100 Continue` was sent for the request in progress.
    continue_sent: bool,
    /// A complete request waits for its answer; requests pipelined behind
    /// it stay in the input until it is written, which keeps answers in
    /// order.
    waiting: Option<Waiting>,
    /// The metrics label of the request in progress.
    route: &'static str,
    /// When the request in progress was complete.
    started: Option<Instant>,
    /// Input bytes a parse found to be an incomplete head (0: none yet).
    scanned: u32,
    /// Whether those bytes hold the whole request line.
    line_seen: bool,
    /// A body still arriving; boxed, since most connections never have one.
    body: Option<Box<PendingBody<Rt>>>,
}

/// A request whose head is here and whose body is still arriving.
struct PendingBody<Rt> {
    /// The head's bytes, parsed again once the body is whole.
    head: Vec<u8>,
    /// The route the head resolved to.
    route: Rt,
    decoder: BodyDecoder,
    body: Vec<u8>,
}

pub struct HttpService<R> {
    routes: R,
    limits: HttpLimits,
    date: DateCache,
    refusal: Vec<u8>,
    /// The answer to a request whose handling panicked.
    internal_error: Vec<u8>,
    metrics: Option<HttpMetrics>,
}

/// Requests by route and status and their latency, kept per reactor: the
/// counters are found in a local map, the histogram merged once a second.
struct HttpMetrics {
    registry: Arc<Metrics>,
    by_route: HashMap<(&'static str, u16), Counter>,
    latency: LocalHistogram,
}

impl<R: Routes> HttpService<R> {
    pub fn new(routes: R, limits: HttpLimits) -> Self {
        let mut date = DateCache::default();
        let mut refusal = Vec::new();
        let busy = Response::html(
            503,
            "<h1>503 Service Unavailable</h1>\n<p>Too many connections; try again shortly.</p>\n",
        )
        .header("Retry-After: 1");
        response::write(&mut refusal, &busy, date.get(), false, true);
        let mut internal_error = Vec::new();
        let failed = Response::html(500, "<h1>500 Internal Server Error</h1>\n");
        response::write(&mut internal_error, &failed, date.get(), false, true);
        HttpService {
            routes,
            limits,
            date,
            refusal,
            internal_error,
            metrics: None,
        }
    }

    /// Counts requests by route and status and their latency in `registry`.
    pub fn with_metrics(mut self, registry: Arc<Metrics>) -> Self {
        let latency = registry
            .histogram(
                "webd_http_request_seconds",
                "Time from a whole request to its answer.",
            )
            .local();
        self.metrics = Some(HttpMetrics {
            registry,
            by_route: HashMap::new(),
            latency,
        });
        self
    }

    pub fn routes(&mut self) -> &mut R {
        &mut self.routes
    }

    fn send(
        &mut self,
        s: &mut Session<'_, HttpConn<R::Route>>,
        response: &Response,
        head_only: bool,
        close: bool,
    ) {
        let date = self.date.get().to_owned();
        response::write(s.out(), response, &date, head_only, close);
        let (route, started) = (s.state().route, s.state().started.take());
        if let Some(m) = self.metrics.as_mut() {
            let registry = &m.registry;
            m.by_route
                .entry((route, response.status))
                .or_insert_with(|| {
                    let name = format!(
                        "webd_http_requests_total{{route=\"{route}\",status=\"{}\"}}",
                        response.status
                    );
                    registry.counter(&name, "HTTP requests answered, by route and status.")
                })
                .inc();
            if let Some(started) = started {
                let now = Instant::now();
                m.latency.record(now.duration_since(started));
                m.latency.maybe_flush(now);
            }
        }
        if close {
            s.close_after_flush();
        }
    }

    /// Answers an error and closes, lingering: the client may still be
    /// sending what this answer refuses.
    fn refuse(&mut self, s: &mut Session<'_, HttpConn<R::Route>>, error: HttpError) {
        let status = error.status();
        let body = format!("<h1>{status} {}</h1>\n", response::reason(status));
        self.send(s, &Response::html(status, body), false, true);
        s.linger_after_flush();
    }

    /// A request is under way but incomplete: arm its deadline once.
    fn awaiting_head(&self, s: &mut Session<'_, HttpConn<R::Route>>, env: &Env<'_>) {
        if !s.state().in_request {
            s.state().in_request = true;
            s.set_deadline(Some(env.now + self.limits.header_timeout));
        }
    }

    fn finished(s: &mut Session<'_, HttpConn<R::Route>>) {
        let state = s.state();
        state.in_request = false;
        state.continue_sent = false;
        state.body = None;
        s.set_deadline(None);
    }

    /// One request at the front of `input`: the bytes it took, or `None`
    /// when it is incomplete and must wait for more.
    fn one(
        &mut self,
        s: &mut Session<'_, HttpConn<R::Route>>,
        input: &[u8],
        env: &mut Env<'_>,
    ) -> Option<usize> {
        if let Some(pending) = s.state().body.take() {
            return self.more_body(s, pending, input, env);
        }
        if !self.head_may_be_complete(s, input) {
            return None;
        }
        let head = match head::parse(input, &self.limits) {
            Ok(Some(head)) => head,
            Ok(None) => {
                let state = s.state();
                state.scanned = u32::try_from(input.len()).unwrap_or(u32::MAX);
                state.line_seen = input.contains(&b'\n');
                self.awaiting_head(s, env);
                return None;
            }
            Err(e) => {
                self.refuse(s, e);
                return Some(input.len());
            }
        };
        s.state().scanned = 0;
        s.state().line_seen = false;
        let head_only = head.method == "HEAD";
        let routed = self.routes.route(head.method, head.path);
        s.state().route = routed.label;
        let (route, limit) = match routed.route {
            Ok(route) => route,
            Err(answer) => {
                let unread_body = head.body != BodyKind::None;
                let close = answer.close || !head.keep_alive || unread_body;
                self.send(s, &answer, head_only, close);
                if unread_body {
                    s.linger_after_flush();
                }
                Self::finished(s);
                return Some(if close { input.len() } else { head.len });
            }
        };
        if matches!(head.method, "POST" | "PUT" | "PATCH") && !head.has_length {
            self.refuse(s, HttpError::LengthRequired);
            return Some(input.len());
        }
        let mut decoder = match BodyDecoder::new(head.body, limit, self.limits.max_head) {
            Ok(decoder) => decoder,
            Err(e) => {
                self.refuse(s, e);
                return Some(input.len());
            }
        };
        let rest = &input[head.len..];
        // The common cases borrow the body straight from the input.
        match head.body {
            BodyKind::None => {
                return self.dispatch(s, route, &head, &[], head.len, input.len(), env)
            }
            BodyKind::Length(n) if rest.len() as u64 >= n => {
                let n = n as usize; // <= rest.len(), so it fits
                let used = head.len + n;
                return self.dispatch(s, route, &head, &rest[..n], used, input.len(), env);
            }
            _ => {}
        }
        let mut body = Vec::new();
        let feed = match decoder.feed(rest, &mut body) {
            Ok(feed) => feed,
            Err(e) => {
                self.refuse(s, e);
                return Some(input.len());
            }
        };
        if feed.done {
            let used = head.len + feed.consumed;
            return self.dispatch(s, route, &head, &body, used, input.len(), env);
        }
        // The body is still coming: keep the head's bytes and the decoder's
        // place, so later reads continue where this one stopped.
        if head.expect_continue && !s.state().continue_sent {
            s.write(b"HTTP/1.1 100 Continue\r\n\r\n");
            s.state().continue_sent = true;
        }
        let deadline = env.now + self.limits.body_timeout;
        s.state().in_request = true;
        s.state().body = Some(Box::new(PendingBody {
            head: input[..head.len].to_vec(),
            route,
            decoder,
            body,
        }));
        s.set_deadline(Some(deadline));
        Some(head.len + feed.consumed)
    }

    /// Whether `input` can hold a whole head now: not when no line ended
    /// since the last parse found it incomplete (a head ends with a line
    /// feed), so a head that drips in byte by byte is not parsed again on
    /// every byte. The limits are still checked as soon as they are passed.
    fn head_may_be_complete(
        &mut self,
        s: &mut Session<'_, HttpConn<R::Route>>,
        input: &[u8],
    ) -> bool {
        let state = s.state();
        let scanned = state.scanned as usize;
        if scanned == 0 || scanned > input.len() || input[scanned..].contains(&b'\n') {
            return true;
        }
        let within = if state.line_seen {
            self.limits.max_head
        } else {
            self.limits.max_request_line.min(self.limits.max_head)
        };
        input.len() > within
    }

    /// More bytes of a body that is arriving.
    fn more_body(
        &mut self,
        s: &mut Session<'_, HttpConn<R::Route>>,
        mut pending: Box<PendingBody<R::Route>>,
        input: &[u8],
        env: &mut Env<'_>,
    ) -> Option<usize> {
        let feed = match pending.decoder.feed(input, &mut pending.body) {
            Ok(feed) => feed,
            Err(e) => {
                self.refuse(s, e);
                return Some(input.len());
            }
        };
        if !feed.done {
            s.state().body = Some(pending);
            return Some(feed.consumed);
        }
        match head::parse(&pending.head, &self.limits) {
            Ok(Some(head)) => {
                let body = &pending.body;
                self.dispatch(
                    s,
                    pending.route,
                    &head,
                    body,
                    feed.consumed,
                    input.len(),
                    env,
                )
            }
            // The same bytes parsed before; they cannot fail now.
            _ => {
                self.refuse(s, HttpError::BadRequest);
                Some(input.len())
            }
        }
    }

    /// Hands a whole request to the routes. `consumed` is what the request
    /// took of the `available` input bytes.
    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &mut self,
        s: &mut Session<'_, HttpConn<R::Route>>,
        route: R::Route,
        head: &Head<'_>,
        body: &[u8],
        consumed: usize,
        available: usize,
        env: &mut Env<'_>,
    ) -> Option<usize> {
        let head_only = head.method == "HEAD";
        s.state().started = Some(env.now);
        // The address the request came from: the peer, or what a trusted
        // proxy in front says it saw.
        let client = super::forwarded::client_ip(
            s.peer().ip(),
            head.forwarded_for,
            &self.limits.trusted_proxies,
        );
        match self.routes.handle(route, s.id(), client, head, body, env) {
            Outcome::Now(answer) => {
                let close = answer.close || !head.keep_alive;
                self.send(s, &answer, head_only, close);
                if close && consumed < available {
                    s.linger_after_flush(); // pipelined bytes go unread
                }
                Self::finished(s);
                Some(if close { available } else { consumed })
            }
            Outcome::Later => {
                s.state().waiting = Some(Waiting {
                    head_only,
                    close: !head.keep_alive,
                });
                s.set_deadline(None);
                Some(consumed)
            }
        }
    }
}

impl<R: Routes> Service for HttpService<R> {
    type Conn = HttpConn<R::Route>;

    fn open(&mut self, _: ConnId, _: &ConnInfo, _: &mut Env<'_>) -> HttpConn<R::Route> {
        HttpConn {
            in_request: false,
            continue_sent: false,
            waiting: None,
            route: "other",
            started: None,
            scanned: 0,
            line_seen: false,
            body: None,
        }
    }

    fn data(
        &mut self,
        s: &mut Session<'_, HttpConn<R::Route>>,
        input: &[u8],
        env: &mut Env<'_>,
    ) -> usize {
        let mut used = 0;
        while used < input.len()
            && !s.is_closing()
            && s.state().waiting.is_none()
            && !s.output_full()
        {
            match self.one(s, &input[used..], env) {
                Some(n) => used += n,
                None => break,
            }
        }
        used
    }

    fn deadline(&mut self, s: &mut Session<'_, HttpConn<R::Route>>, _: &mut Env<'_>) {
        if s.state().in_request {
            let answer = Response::html(408, "<h1>408 Request Timeout</h1>\n");
            self.send(s, &answer, false, true);
        } else {
            s.close();
        }
    }

    fn refusal(&self) -> &[u8] {
        &self.refusal
    }

    fn panicked(&self) -> &[u8] {
        &self.internal_error
    }
}
