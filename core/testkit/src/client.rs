//! A blocking client of the binary protocol for tests: one request at a
//! time, typed with `authd-wire`'s operations, or raw (any opcode, any
//! body) for the tests that send what no caller would.

use authd_wire::{decode_answer, encode_body, Operation, Refusal, Status};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use throng_core::proto::{self, FrameWriter, Header};

/// A response's status byte and body.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u8,
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// The status as authd's table names it; panics on an unknown byte.
    pub fn status(&self) -> Status {
        Status::from_u8(self.status).unwrap_or_else(|| panic!("unknown status {}", self.status))
    }
}

pub struct BlockingClient {
    stream: TcpStream,
    next: u32,
    buf: Vec<u8>,
}

impl BlockingClient {
    pub fn connect(addr: SocketAddr) -> BlockingClient {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        BlockingClient {
            stream,
            next: 1,
            buf: Vec::new(),
        }
    }

    /// Connects and says `hello` with the server's caller key, which must
    /// be accepted.
    pub fn connect_with_key(addr: SocketAddr, key: &str) -> BlockingClient {
        let mut c = BlockingClient::connect(addr);
        let status = c.hello(key);
        assert_eq!(status, Status::Ok, "hello with the caller key");
        c
    }

    /// The connection, for tests that look at it directly.
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// The status of a `hello` with `key`.
    pub fn hello(&mut self, key: &str) -> Status {
        let mut body = Vec::new();
        throng_core::proto::FieldWriter::new(&mut body).str(key);
        self.call_raw(proto::Opcode::Hello.into(), &body).status()
    }

    /// Sends `op` and reads its answer, decoded; a body that does not
    /// decode is a test failure.
    pub fn call<O: Operation>(&mut self, op: &O) -> Result<O::Answer, Refusal> {
        let answer = self.call_raw(O::OPCODE.into(), &encode_body(op));
        decode_answer::<O>(answer.status, &answer.body)
            .unwrap_or_else(|e| panic!("{}: {e}", O::OPCODE))
    }

    /// The status of a `ping`.
    pub fn ping(&mut self) -> Status {
        self.call_raw(proto::Opcode::Ping.into(), &[]).status()
    }

    /// Sends a request frame with any opcode and body, and reads the answer.
    pub fn call_raw(&mut self, opcode: u8, body: &[u8]) -> RawAnswer {
        let id = self.next;
        self.next += 1;
        let mut out = Vec::new();
        let mut w = FrameWriter::new(
            &mut out,
            Header::request(opcode, id),
            proto::DEFAULT_MAX_FRAME,
        );
        w.extend(body);
        w.finish().unwrap();
        self.stream.write_all(&out).unwrap();
        loop {
            if let Some((frame, used)) = proto::decode(&self.buf, proto::DEFAULT_MAX_FRAME).unwrap()
            {
                assert_eq!(frame.header.request_id, id);
                let answer = RawAnswer {
                    status: frame.header.status,
                    body: frame.body.to_vec(),
                };
                self.buf.drain(..used);
                return answer;
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).unwrap();
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
