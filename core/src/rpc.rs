//! The server side of the binary protocol on the reactor: splits the input
//! into frames, answers `ping` and `stats` itself, and hands every other
//! request to a [`Handler`] (authd's operations; nothing in a bare ping
//! server). A stream that stops being valid frames gets one error frame
//! naming the problem and is closed; other connections never notice.
//!
//! With a caller key ([`RpcService::with_caller_key`]) a connection is
//! served only once it said `hello` with that key; before, everything but
//! `ping` is answered `unauthenticated` and the connection closed
//! (PROTOCOL.md, "Callers"), and a connection that has not said it within
//! [`HELLO_WITHIN`] of its accept is closed, so strangers cannot sit on
//! connection slots (pinging or silent).

use crate::metrics::{Counter, Metrics};
use crate::proto::{self, FieldWriter, Frame, FrameWriter, Header, Opcode, Status};
use crate::reactor::{ConnId, ConnInfo, Conns, Driven, Env, Service, Session};
use mio::event::Event;
use mio::Token;
use std::sync::Arc;
use std::time::Instant;

/// How long a new connection has to say `hello` when a key is required.
pub const HELLO_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Per-connection state of the protocol server.
#[derive(Debug, Default)]
pub struct RpcConn {
    /// Requests answered later by a worker and not yet answered.
    pub in_flight: u32,
    /// It showed the caller key (always true when the server has none).
    pub authenticated: bool,
}

/// What a handler did with a request.
pub enum Handled {
    /// The response is already in the session's output.
    Answered,
    /// A worker will answer; the connection stays open until it does
    /// (call [`respond_later`] then).
    Later,
}

/// The operations of a protocol service beyond `ping` and `stats`. What
/// else moves the handler (a worker's result, answered with
/// [`respond_later`]; its wake-ups; its drain) is the reactor's own
/// [`Driven`] trait over the protocol's connections, which the server
/// passes on.
pub trait Handler: Driven<RpcConn> {
    /// One request; answer now with [`respond`] or later.
    fn request(
        &mut self,
        frame: Frame<'_>,
        s: &mut Session<'_, RpcConn>,
        env: &mut Env<'_>,
    ) -> Handled;
}

/// A handler that knows no operation: every request beyond `ping` and
/// `stats` is answered `unknown_opcode`. The ping server of the benchmarks.
pub struct NoOperations;

impl Driven<RpcConn> for NoOperations {
    type Reply = ();
}

impl Handler for NoOperations {
    fn request(
        &mut self,
        frame: Frame<'_>,
        s: &mut Session<'_, RpcConn>,
        _: &mut Env<'_>,
    ) -> Handled {
        respond(s, frame.header, Status::UnknownOpcode, |_| {});
        Handled::Answered
    }
}

/// Appends a response frame for `request` with `status` and the fields
/// `body` writes. A body too large for a frame becomes an `internal` answer
/// (a server bug, never the client's problem).
pub fn respond(
    s: &mut Session<'_, RpcConn>,
    request: Header,
    status: impl Into<u8>,
    body: impl FnOnce(&mut FieldWriter<'_>),
) {
    let out = s.out();
    let mut writer = FrameWriter::new(
        out,
        request.response(status.into()),
        proto::DEFAULT_MAX_FRAME,
    );
    body(&mut writer.fields());
    if writer.finish().is_err() {
        proto::encode_empty(out, request.response(Status::Internal as u8));
    }
}

/// Like [`respond`], with a body already encoded as fields (by a worker).
pub fn respond_encoded(
    s: &mut Session<'_, RpcConn>,
    request: Header,
    status: impl Into<u8>,
    body: &[u8],
) {
    let out = s.out();
    let mut writer = FrameWriter::new(
        out,
        request.response(status.into()),
        proto::DEFAULT_MAX_FRAME,
    );
    writer.extend(body);
    if writer.finish().is_err() {
        proto::encode_empty(out, request.response(Status::Internal as u8));
    }
}

/// Answers a request a worker finished (see [`Handled::Later`]), with a
/// body already encoded as fields.
pub fn respond_later_encoded(
    s: &mut Session<'_, RpcConn>,
    request: Header,
    status: impl Into<u8>,
    body: &[u8],
) {
    s.state().in_flight = s.state().in_flight.saturating_sub(1);
    respond_encoded(s, request, status, body);
}

/// Answers a request a worker finished (see [`Handled::Later`]).
pub fn respond_later(
    s: &mut Session<'_, RpcConn>,
    request: Header,
    status: impl Into<u8>,
    body: impl FnOnce(&mut FieldWriter<'_>),
) {
    s.state().in_flight = s.state().in_flight.saturating_sub(1);
    respond(s, request, status, body);
}

/// The protocol server: a [`Service`] for any [`Handler`].
pub struct RpcService<H> {
    handler: H,
    max_frame: u32,
    metrics: Arc<Metrics>,
    requests: Counter,
    bad_frames: Counter,
    refusal: Vec<u8>,
    caller_key: Option<Vec<u8>>,
    unauthenticated: Counter,
}

impl<H: Handler> RpcService<H> {
    pub fn new(handler: H, max_frame: u32, metrics: Arc<Metrics>) -> Self {
        let mut refusal = Vec::new();
        proto::encode_empty(
            &mut refusal,
            Header::request(0, 0).response(Status::Busy as u8),
        );
        RpcService {
            handler,
            max_frame,
            requests: metrics.counter("throng_rpc_requests_total", "Protocol requests received."),
            bad_frames: metrics.counter(
                "throng_rpc_bad_frames_total",
                "Connections closed for a stream that was not valid frames.",
            ),
            unauthenticated: metrics.counter(
                "throng_rpc_unauthenticated_total",
                "Connections closed for a request before a right hello.",
            ),
            metrics,
            refusal,
            caller_key: None,
        }
    }

    /// Serves only callers that show `key` first (`hello`); `None` or an
    /// empty key serves everyone.
    pub fn with_caller_key(mut self, key: Option<Vec<u8>>) -> Self {
        self.caller_key = key.filter(|k| !k.is_empty());
        self
    }

    pub fn handler(&mut self) -> &mut H {
        &mut self.handler
    }
}

impl<H: Handler> Service for RpcService<H> {
    type Conn = RpcConn;

    fn open(&mut self, _: ConnId, _: &ConnInfo, _: &mut Env<'_>) -> RpcConn {
        RpcConn {
            in_flight: 0,
            authenticated: self.caller_key.is_none(),
        }
    }

    fn open_deadline(&self, now: Instant) -> Option<Instant> {
        self.caller_key.as_ref().map(|_| now + HELLO_WITHIN)
    }

    fn data(&mut self, s: &mut Session<'_, RpcConn>, input: &[u8], env: &mut Env<'_>) -> usize {
        let mut used = 0;
        loop {
            match proto::decode(&input[used..], self.max_frame) {
                Ok(None) => return used,
                Ok(Some((frame, len))) => {
                    used += len;
                    self.requests.inc();
                    self.dispatch(frame, s, env);
                    if s.is_closing() {
                        return used;
                    }
                }
                Err(e) => {
                    self.bad_frames.inc();
                    log::debug!("closing {}: {e}", s.peer());
                    let rest = &input[used..];
                    let request_id = match rest.get(8..12) {
                        Some(b) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                        None => 0,
                    };
                    let opcode = rest.get(5).copied().unwrap_or(0);
                    let header = Header::request(opcode, request_id);
                    respond(s, header, Status::from(&e), |w| {
                        w.str(&e.to_string());
                    });
                    s.close_after_flush();
                    return input.len();
                }
            }
        }
    }

    fn refusal(&self) -> &[u8] {
        &self.refusal
    }
}

/// The handler's own events, passed on; a connection is busy while a
/// worker owes it an answer.
impl<H: Handler> Driven<RpcConn> for RpcService<H> {
    type Reply = H::Reply;

    fn reply(&mut self, reply: H::Reply, conns: &mut Conns<'_, RpcConn>, env: &mut Env<'_>) {
        self.handler.reply(reply, conns, env);
    }

    fn foreign(
        &mut self,
        token: Token,
        event: &Event,
        conns: &mut Conns<'_, RpcConn>,
        env: &mut Env<'_>,
    ) {
        self.handler.foreign(token, event, conns, env);
    }

    fn next_wakeup(&self) -> Option<Instant> {
        self.handler.next_wakeup()
    }

    fn wakeup(&mut self, conns: &mut Conns<'_, RpcConn>, env: &mut Env<'_>) {
        self.handler.wakeup(conns, env);
    }

    fn busy(&self, conn: &RpcConn) -> bool {
        conn.in_flight > 0 || self.handler.busy(conn)
    }

    fn pending(&self) -> usize {
        self.handler.pending()
    }

    fn shutdown(&mut self, conns: &mut Conns<'_, RpcConn>, env: &mut Env<'_>) {
        self.handler.shutdown(conns, env);
    }
}

impl<H: Handler> RpcService<H> {
    /// `hello`: the caller key, compared in constant time. Without a key
    /// on the server any `hello` is `ok`.
    fn hello(&mut self, frame: Frame<'_>, s: &mut Session<'_, RpcConn>) {
        let shown = proto::FieldReader::new(frame.body)
            .str()
            .map(|k| k.as_bytes().to_vec())
            .unwrap_or_default();
        let right = match &self.caller_key {
            None => true,
            Some(key) => {
                use subtle::ConstantTimeEq;
                shown.len() == key.len() && bool::from(shown.ct_eq(key))
            }
        };
        if right {
            s.state().authenticated = true;
            // Back to the idle timeout.
            s.set_deadline(None);
            proto::encode_empty(s.out(), frame.header.response(Status::Ok as u8));
        } else {
            self.unauthenticated(frame.header, s);
        }
    }

    fn unauthenticated(&mut self, header: Header, s: &mut Session<'_, RpcConn>) {
        self.unauthenticated.inc();
        log::debug!("closing {}: no caller key shown", s.peer());
        proto::encode_empty(s.out(), header.response(Status::Unauthenticated as u8));
        s.close_after_flush();
    }

    fn dispatch(&mut self, frame: Frame<'_>, s: &mut Session<'_, RpcConn>, env: &mut Env<'_>) {
        if frame.header.is_response() {
            respond(s, frame.header, Status::Malformed, |w| {
                w.str("a response frame was sent as a request");
            });
            return;
        }
        match Opcode::from_u8(frame.header.opcode) {
            Some(Opcode::Ping) => {
                proto::encode_empty(s.out(), frame.header.response(Status::Ok as u8));
            }
            Some(Opcode::Hello) => self.hello(frame, s),
            _ if !s.state().authenticated => self.unauthenticated(frame.header, s),
            Some(Opcode::Stats) => {
                let text = self.metrics.render();
                respond(s, frame.header, Status::Ok, |w| {
                    w.str(&text);
                });
            }
            _ if env.draining => respond(s, frame.header, Status::ShuttingDown, |_| {}),
            _ => {
                if let Handled::Later = self.handler.request(frame, s, env) {
                    s.state().in_flight += 1;
                }
            }
        }
    }
}
