//! authd on the reactor: decode and validate a request (cheap), queue it
//! for the workers, and write the worker's answer back. A full queue is
//! answered `busy` at once; nothing here waits on a store.

use crate::ops::{self, Job, Reply};
use authd_wire::{encode_body, Status};
use crossbeam_channel::{Sender, TrySendError};
use throng_core::handoff::ReplySender;
use throng_core::metrics::Counter;
use throng_core::proto::Frame;
use throng_core::reactor::{Conns, Driven, Env, Session};
use throng_core::rpc::{self, Handled, Handler, RpcConn};

pub struct AuthHandler {
    jobs: Sender<Job>,
    replies: ReplySender<Reply>,
    busy: Counter,
}

impl AuthHandler {
    pub fn new(jobs: Sender<Job>, replies: ReplySender<Reply>, busy: Counter) -> Self {
        AuthHandler {
            jobs,
            replies,
            busy,
        }
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
                let job = Job::new(s.id(), header, op, self.replies.clone());
                match self.jobs.try_send(job) {
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

    fn reply(&mut self, reply: Reply, conns: &mut Conns<'_, RpcConn>, _: &mut Env<'_>) {
        if let Some(mut s) = conns.get(reply.conn) {
            rpc::respond_later_encoded(&mut s, reply.header, reply.status, &reply.body);
        }
    }
}
