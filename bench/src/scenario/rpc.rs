//! `rpc-signin`, `rpc-session`, `rpc-lookup` and `rpc-signup`: the binary
//! protocol straight to authd, over the seeded users. Sign-in cycles
//! through the first K users; the session and lookup scenarios sign each
//! connection in once during the handshake and then validate its token or
//! look up its user. Sign-up makes a new account per request (names unique
//! to the run): the flood that `bench/signup-flood.sh` runs beside
//! sign-ins.

use super::{Answer, StreamError, Workload};
use crate::users;
use authd_wire::ops::{Lookup, SignIn, SignUp, ValidateSession};
use authd_wire::{decode_answer, Operation, Secret, Status};
use std::net::SocketAddr;
use throng_core::proto::{self, FrameWriter, Header};

/// Appends the request frame of `op` with request id `id`.
fn frame<O: Operation>(op: &O, id: u32, out: &mut Vec<u8>) {
    let mut w = FrameWriter::new(
        out,
        Header::request(O::OPCODE.into(), id),
        proto::DEFAULT_MAX_FRAME,
    );
    op.encode(&mut w.fields());
    w.finish().expect("a benchmark request fits a frame");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpcKind {
    SignIn,
    Session,
    Lookup,
    SignUp,
}

pub struct Rpc {
    kind: RpcKind,
    users: u64,
    connections: u64,
    /// Makes this run's sign-up names unique (its start, in ms).
    run: u64,
    /// authd's caller key, shown in a `hello` before anything else.
    key: Option<String>,
}

impl Rpc {
    pub fn new(kind: RpcKind, users: u64, connections: usize, key: Option<String>) -> Self {
        Rpc {
            kind,
            users: users.max(1),
            connections: connections.max(1) as u64,
            run: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            key,
        }
    }

    fn sign_in(&self, user: u64, id: u32, out: &mut Vec<u8>) {
        let op = SignIn {
            username: users::username(user),
            password: Secret(users::password(user, users::DEFAULT_HASH_POOL)),
            ip: "127.0.0.1".into(),
            agent: "throng-bench/1".into(),
            device: String::new(),
            referrer: String::new(),
            link: Default::default(),
        };
        frame(&op, id, out);
    }

    /// User number for connection `conn`, request `seq`: together the
    /// connections sweep the users in order, so concurrent requests hit
    /// different users and every user is signed in once per sweep (which
    /// is also how a warm-up run warms every fast verifier).
    fn user_for(&self, conn: usize, seq: u64) -> u64 {
        1 + (seq * self.connections + conn as u64) % self.users
    }
}

impl Workload for Rpc {
    fn name(&self) -> &'static str {
        match self.kind {
            RpcKind::SignIn => "rpc-signin",
            RpcKind::Session => "rpc-session",
            RpcKind::Lookup => "rpc-lookup",
            RpcKind::SignUp => "rpc-signup",
        }
    }

    fn default_target(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9999))
    }

    fn handshake(&self, conn: usize, out: &mut Vec<u8>) -> usize {
        let mut awaited = 0;
        if let Some(key) = &self.key {
            let mut w = FrameWriter::new(
                out,
                Header::request(proto::Opcode::Hello.into(), u32::MAX),
                proto::DEFAULT_MAX_FRAME,
            );
            w.fields().str(key);
            w.finish().expect("a caller key fits a frame");
            awaited += 1;
        }
        if matches!(self.kind, RpcKind::SignIn | RpcKind::SignUp) {
            return awaited;
        }
        self.sign_in(self.user_for(conn, 0), 0, out);
        awaited + 1
    }

    fn handshake_answer(
        &self,
        input: &[u8],
        state: &mut Vec<u8>,
    ) -> Result<Option<(usize, Answer)>, StreamError> {
        let Some((frame, used)) = proto::decode(input, proto::DEFAULT_MAX_FRAME)
            .map_err(|e| StreamError(e.to_string()))?
        else {
            return Ok(None);
        };
        if frame.header.opcode == u8::from(proto::Opcode::Hello) {
            if frame.header.status != u8::from(Status::Ok) {
                return Err(StreamError(
                    "authd refused the caller key (THRONG_BENCH_AUTHD_KEY)".into(),
                ));
            }
            return Ok(Some((used, Answer::Ok)));
        }
        let signed_in = decode_answer::<SignIn>(frame.header.status, frame.body)
            .map_err(|e| StreamError(e.to_string()))?
            .map_err(|refusal| {
                StreamError(format!(
                    "handshake sign-in answered {} (seeded users present? `bench seed`)",
                    refusal.status
                ))
            })?;
        state.clear();
        match self.kind {
            RpcKind::Session => state.extend_from_slice(signed_in.token.as_str().as_bytes()),
            _ => state.extend_from_slice(&signed_in.profile.user),
        }
        Ok(Some((used, Answer::Ok)))
    }

    fn request(&self, conn: usize, state: &[u8], seq: u64, out: &mut Vec<u8>) {
        let id = seq as u32;
        match self.kind {
            RpcKind::SignIn => self.sign_in(self.user_for(conn, seq), id, out),
            RpcKind::Session => {
                let token = std::str::from_utf8(state).unwrap_or("");
                frame(
                    &ValidateSession {
                        token: token.into(),
                    },
                    id,
                    out,
                );
            }
            RpcKind::Lookup => {
                let mut user = [0u8; 16];
                if state.len() == 16 {
                    user.copy_from_slice(state);
                }
                frame(&Lookup { user }, id, out);
            }
            RpcKind::SignUp => {
                let op = SignUp {
                    username: format!("f{}-{conn}-{seq}", self.run),
                    nickname: "flood".into(),
                    password: Secret(users::password(1, users::DEFAULT_HASH_POOL)),
                    ip: String::new(),
                };
                frame(&op, id, out);
            }
        }
    }

    fn answer(&self, input: &[u8]) -> Result<Option<(usize, Answer)>, StreamError> {
        match proto::decode(input, proto::DEFAULT_MAX_FRAME) {
            Ok(None) => Ok(None),
            Ok(Some((frame, used))) => {
                let ok = frame.header.status == u8::from(Status::Ok);
                Ok(Some((used, if ok { Answer::Ok } else { Answer::Failed })))
            }
            Err(e) => Err(StreamError(e.to_string())),
        }
    }
}
