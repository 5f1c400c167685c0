//! authd on the reactor: decode and validate a request (cheap), queue it
//! for the workers (sign-ins with other providers on their own lane), and
//! write the worker's answer back. A full queue is
//! answered `busy` at once; nothing here waits on a store. Each answer's
//! latency, from the request's arrival to the answer leaving for its
//! connection, goes to `authd_request_seconds{op=…}`.

use crate::ops::{self, Job, Reply};
use authd_wire::{encode_body, Status};
use crossbeam_channel::{Sender, TrySendError};
use std::sync::Arc;
use throng_core::handoff::ReplySender;
use throng_core::metrics::{Counter, LocalHistogram, Metrics};
use throng_core::proto::Frame;
use throng_core::reactor::{Conns, Driven, Env, Session};
use throng_core::rpc::{self, Handled, Handler, RpcConn};

pub struct AuthHandler {
    jobs: Sender<Job>,
    /// The `sso` lane's queue, when other providers are configured.
    sso_jobs: Option<Sender<Job>>,
    replies: ReplySender<Reply>,
    busy: Counter,
    metrics: Arc<Metrics>,
    /// This reactor's latency recorders, by opcode (made on first use).
    latency: Vec<Option<LocalHistogram>>,
}

impl AuthHandler {
    pub fn new(
        jobs: Sender<Job>,
        sso_jobs: Option<Sender<Job>>,
        replies: ReplySender<Reply>,
        busy: Counter,
        metrics: Arc<Metrics>,
    ) -> Self {
        AuthHandler {
            jobs,
            sso_jobs,
            replies,
            busy,
            metrics,
            latency: (0..=u8::MAX).map(|_| None).collect(),
        }
    }

    fn record(&mut self, opcode: u8, reply: &Reply, now: std::time::Instant) {
        let slot = &mut self.latency[usize::from(opcode)];
        let recorder = slot.get_or_insert_with(|| {
            let op = authd_wire::Opcode::from_u8(opcode)
                .map_or_else(|| format!("0x{opcode:02x}"), |o| o.to_string());
            self.metrics
                .histogram(
                    &format!("authd_request_seconds{{op=\"{op}\"}}"),
                    "Time from a request's arrival to its answer, by operation.",
                )
                .local()
        });
        recorder.record(now.saturating_duration_since(reply.received));
        recorder.maybe_flush(now);
    }
}

impl Handler for AuthHandler {
    fn request(
        &mut self,
        frame: Frame<'_>,
        s: &mut Session<'_, RpcConn>,
        _: &mut Env<'_>,
    ) -> Handled {
        let header = frame.header;
        match ops::decode(header.opcode, frame.body) {
            Err(refusal) => {
                rpc::respond_encoded(s, header, refusal.status, &encode_body(&refusal.detail))
            }
            Ok(op) => {
                let queue = match &self.sso_jobs {
                    Some(sso) if crate::worker::calls_other_providers(&op) => sso,
                    _ => &self.jobs,
                };
                let job = Job::new(s.id(), header, op, self.replies.clone());
                match queue.try_send(job) {
                    Ok(()) => return Handled::Later,
                    Err(TrySendError::Full(job)) | Err(TrySendError::Disconnected(job)) => {
                        job.abandon();
                        self.busy.inc();
                        rpc::respond(s, header, Status::Busy, |_| {});
                    }
                }
            }
        }
        Handled::Answered
    }
}

/// A worker's answer goes back to its connection, if it is still open.
impl Driven<RpcConn> for AuthHandler {
    type Reply = Reply;

    fn reply(&mut self, reply: Reply, conns: &mut Conns<'_, RpcConn>, env: &mut Env<'_>) {
        self.record(reply.header.opcode, &reply, env.now);
        if let Some(mut s) = conns.get(reply.conn) {
            rpc::respond_later_encoded(&mut s, reply.header, reply.status, &reply.body);
        }
    }
}
