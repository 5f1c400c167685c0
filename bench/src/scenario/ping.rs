//! `ping`: the core protocol's `ping` opcode, one 12-byte frame each way.
//! It measures the reactor and the framing, nothing else.

use super::{Answer, StreamError, Workload};
use std::net::SocketAddr;
use throng_core::proto::{self, Header, Opcode, Status};

pub struct Ping;

impl Workload for Ping {
    fn name(&self) -> &'static str {
        "ping"
    }

    fn default_target(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 7070))
    }

    fn request(&self, _conn: usize, _state: &[u8], seq: u64, out: &mut Vec<u8>) {
        proto::encode_empty(out, Header::request(Opcode::Ping as u8, seq as u32));
    }

    fn answer(&self, input: &[u8]) -> Result<Option<(usize, Answer)>, StreamError> {
        match proto::decode(input, proto::DEFAULT_MAX_FRAME) {
            Ok(None) => Ok(None),
            Ok(Some((frame, used))) => {
                let ok = frame.header.is_response()
                    && frame.header.opcode == Opcode::Ping as u8
                    && frame.header.status == Status::Ok as u8;
                Ok(Some((used, if ok { Answer::Ok } else { Answer::Failed })))
            }
            Err(e) => Err(StreamError(e.to_string())),
        }
    }
}
