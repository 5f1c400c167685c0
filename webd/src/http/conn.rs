//! HTTP on the core reactor: one [`HttpService`] per reactor turns the
//! bytes of a connection into requests for a [`Routes`] implementation and
//! its answers into bytes, in order.
//!
//! Pipelined requests are answered in the order they came (each is handled
//! as soon as it is complete). A request that is not complete yet stays in
//! the reactor's input buffer and is parsed again when more bytes come: an
//! incomplete head must be complete within `header_timeout` of its first
//! byte (408 and close — a slowloris peer cannot hold a connection with a
//! trickle), and a body must make progress at least that often. Between
//! requests the reactor's idle timeout applies. A refused request whose
//! body would have to be skipped closes the connection after the answer.

use super::body::{self, BodyRead};
use super::head::{self, BodyKind, Head, HttpError};
use super::limits::HttpLimits;
use super::response::{self, DateCache, Response};
use mio::event::Event;
use mio::Token;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use throng_core::metrics::{Counter, LocalHistogram, Metrics};
use throng_core::reactor::{ConnId, ConnInfo, Conns, Env, Service, Session};

/// What a handler did with a request.
pub enum Outcome {
    /// The answer, now.
    Now(Response),
    /// The answer comes later (an authd call, a worker), through the
    /// `done` list of `foreign`, `tick` or `reply`.
    Later,
}

/// Answers that became ready: the connection and its response.
pub type Done = Vec<(ConnId, Response)>;

/// What a web application provides.
pub trait Routes: 'static {
    /// Results that worker threads send back (avatar processing).
    type Reply: Send + 'static;

    /// The body limit of the route for `method` and `path`, or the answer
    /// that refuses it (404, or 405 with an `Allow` header).
    fn route(&self, method: &str, path: &str) -> Result<usize, Response>;

    /// Answers a request whose body arrived whole.
    fn handle(
        &mut self,
        conn: ConnId,
        peer: SocketAddr,
        head: &Head<'_>,
        body: &[u8],
        env: &mut Env<'_>,
    ) -> Outcome;

    /// An event for one of the application's own sockets.
    fn foreign(&mut self, token: Token, event: &Event, env: &mut Env<'_>, done: &mut Done) {
        let _ = (token, event, env, done);
    }

    /// Periodic work (deadlines of calls in flight), about every 10 ms.
    fn tick(&mut self, env: &mut Env<'_>, done: &mut Done) {
        let _ = (env, done);
    }

    fn wants_tick(&self) -> bool {
        false
    }

    /// The route label of `path` in the metrics (a fixed set: paths with
    /// ids in them must map to one label).
    fn route_label(&self, path: &str) -> &'static str {
        let _ = path;
        "other"
    }

    /// A worker's result.
    fn reply(&mut self, reply: Self::Reply, env: &mut Env<'_>, done: &mut Done) {
        let _ = (reply, env, done);
    }
}

/// How to write an answer that comes later.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    head_only: bool,
    close: bool,
}

/// Per-connection state.
#[derive(Debug)]
pub struct HttpConn {
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
}

pub struct HttpService<R> {
    routes: R,
    limits: HttpLimits,
    date: DateCache,
    refusal: Vec<u8>,
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
        HttpService {
            routes,
            limits,
            date,
            refusal,
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
        s: &mut Session<'_, HttpConn>,
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

    fn refuse(&mut self, s: &mut Session<'_, HttpConn>, error: HttpError) {
        let status = error.status();
        let body = format!("<h1>{status} {}</h1>\n", response::reason(status));
        self.send(s, &Response::html(status, body), false, true);
    }

    /// A request is under way but incomplete: arm its deadline once.
    fn awaiting_head(&self, s: &mut Session<'_, HttpConn>, env: &Env<'_>) {
        if !s.state().in_request {
            s.state().in_request = true;
            s.set_deadline(Some(env.now + self.limits.header_timeout));
        }
    }

    fn finished(s: &mut Session<'_, HttpConn>) {
        let state = s.state();
        state.in_request = false;
        state.continue_sent = false;
        s.set_deadline(None);
    }

    /// One request at the front of `input`: the bytes it took, or `None`
    /// when it is incomplete.
    fn one(
        &mut self,
        s: &mut Session<'_, HttpConn>,
        input: &[u8],
        env: &mut Env<'_>,
    ) -> Option<usize> {
        let head = match head::parse(input, &self.limits) {
            Ok(Some(head)) => head,
            Ok(None) => {
                self.awaiting_head(s, env);
                return None;
            }
            Err(e) => {
                self.refuse(s, e);
                return Some(input.len());
            }
        };
        let head_only = head.method == "HEAD";
        s.state().route = self.routes.route_label(head.path);
        let limit = match self.routes.route(head.method, head.path) {
            Ok(limit) => limit,
            Err(answer) => {
                let close = answer.close || !head.keep_alive || head.body != BodyKind::None;
                self.send(s, &answer, head_only, close);
                Self::finished(s);
                return Some(if close { input.len() } else { head.len });
            }
        };
        if matches!(head.method, "POST" | "PUT" | "PATCH") && !head.has_length {
            self.refuse(s, HttpError::LengthRequired);
            return Some(input.len());
        }
        match body::read(head.body, &input[head.len..], limit) {
            Err(e) => {
                self.refuse(s, e);
                Some(input.len())
            }
            Ok(BodyRead::Incomplete) => {
                if head.expect_continue && !s.state().continue_sent {
                    s.write(b"HTTP/1.1 100 Continue\r\n\r\n");
                    s.state().continue_sent = true;
                }
                // The body must keep coming: each read moves the deadline.
                s.state().in_request = true;
                s.set_deadline(Some(env.now + self.limits.header_timeout));
                None
            }
            Ok(BodyRead::Complete { body, consumed }) => {
                s.state().started = Some(env.now);
                match self.routes.handle(s.id(), s.peer(), &head, &body, env) {
                    Outcome::Now(answer) => {
                        let close = answer.close || !head.keep_alive;
                        self.send(s, &answer, head_only, close);
                        Self::finished(s);
                        Some(if close {
                            input.len()
                        } else {
                            head.len + consumed
                        })
                    }
                    Outcome::Later => {
                        s.state().waiting = Some(Waiting {
                            head_only,
                            close: !head.keep_alive,
                        });
                        s.set_deadline(None);
                        Some(head.len + consumed)
                    }
                }
            }
        }
    }
}

impl<R: Routes> Service for HttpService<R> {
    type Conn = HttpConn;
    type Reply = R::Reply;

    fn open(&mut self, _: ConnId, _: &ConnInfo, _: &mut Env<'_>) -> HttpConn {
        HttpConn {
            in_request: false,
            continue_sent: false,
            waiting: None,
            route: "other",
            started: None,
        }
    }

    fn data(&mut self, s: &mut Session<'_, HttpConn>, input: &[u8], env: &mut Env<'_>) -> usize {
        let mut used = 0;
        while used < input.len() && !s.is_closing() && s.state().waiting.is_none() {
            match self.one(s, &input[used..], env) {
                Some(n) => used += n,
                None => break,
            }
        }
        used
    }

    fn deadline(&mut self, s: &mut Session<'_, HttpConn>, _: &mut Env<'_>) {
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

    fn foreign(
        &mut self,
        token: Token,
        event: &Event,
        conns: &mut Conns<'_, HttpConn>,
        env: &mut Env<'_>,
    ) {
        let mut done = Done::new();
        self.routes.foreign(token, event, env, &mut done);
        self.deliver(conns, done);
    }

    fn wants_tick(&self) -> bool {
        self.routes.wants_tick()
    }

    fn tick(&mut self, conns: &mut Conns<'_, HttpConn>, env: &mut Env<'_>) {
        let mut done = Done::new();
        self.routes.tick(env, &mut done);
        self.deliver(conns, done);
    }

    fn reply(&mut self, reply: R::Reply, conns: &mut Conns<'_, HttpConn>, env: &mut Env<'_>) {
        let mut done = Done::new();
        self.routes.reply(reply, env, &mut done);
        self.deliver(conns, done);
    }

    fn busy(&self, conn: &HttpConn) -> bool {
        conn.waiting.is_some()
    }
}

impl<R: Routes> HttpService<R> {
    /// Writes answers that came later, then lets the connection go on with
    /// the requests pipelined behind.
    fn deliver(&mut self, conns: &mut Conns<'_, HttpConn>, done: Done) {
        for (id, answer) in done {
            let Some(mut s) = conns.get(id) else {
                continue; // the client left meanwhile
            };
            let Some(waiting) = s.state().waiting.take() else {
                continue;
            };
            let close = answer.close || waiting.close;
            self.send(&mut s, &answer, waiting.head_only, close);
            Self::finished(&mut s);
            if !close {
                s.rerun_input();
            }
        }
    }
}
