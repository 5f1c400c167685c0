//! massd's wire protocol (`massd/PROTOCOL.md`): tiny length-prefixed frames,
//! because an UPDATE is the whole workload and every byte of it is paid
//! hundreds of thousands of times a second.
//!
//! A frame is `length: u16` (bytes after this field, at least 2), `op: u8`,
//! `status: u8`, then the body. Responses carry the request's op with the
//! high bit set. Decoding never panics: any byte sequence yields a frame,
//! "need more bytes" or a typed [`DecodeError`].

use std::fmt;

/// Bytes of the fixed part of a frame (length, op, status).
pub const HEADER: usize = 4;
/// The response bit of `op`.
pub const RESPONSE: u8 = 0x80;
/// The default largest frame a server accepts, header included: room for a
/// HELLO token, far below anything that would let a client pin memory.
pub const DEFAULT_MAX_FRAME: usize = 512;

/// The operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    /// Presents a TryLogin token; answered with the connection's key.
    Hello = 0x01,
    /// Increments the connection's counter; answered with the new value.
    Update = 0x02,
    /// Reads the connection's counter without changing it.
    Get = 0x03,
    /// An answer to a stream the server could not decode; it then closes.
    Error = 0x7f,
}

impl Op {
    pub fn from_u8(v: u8) -> Option<Op> {
        Some(match v {
            0x01 => Op::Hello,
            0x02 => Op::Update,
            0x03 => Op::Get,
            0x7f => Op::Error,
            _ => return None,
        })
    }
}

/// Outcomes carried in a response's `status` byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    Ok = 0,
    /// HELLO with a token that is forged, expired or for another node.
    Denied = 1,
    /// UPDATE or GET before a successful HELLO on a node that requires one.
    Unauthenticated = 2,
    /// A frame whose length does not fit its op, or a nonzero request status.
    Malformed = 3,
    /// An op this server does not know.
    UnknownOp = 4,
    /// A frame larger than the server's maximum.
    TooLarge = 5,
    /// The server is at its connection cap.
    Busy = 6,
}

impl Status {
    pub fn from_u8(v: u8) -> Option<Status> {
        Some(match v {
            0 => Status::Ok,
            1 => Status::Denied,
            2 => Status::Unauthenticated,
            3 => Status::Malformed,
            4 => Status::UnknownOp,
            5 => Status::TooLarge,
            6 => Status::Busy,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Denied => "denied",
            Status::Unauthenticated => "unauthenticated",
            Status::Malformed => "malformed",
            Status::UnknownOp => "unknown_op",
            Status::TooLarge => "too_large",
            Status::Busy => "busy",
        }
    }
}

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame length {0} is below the minimum of 2")]
    TooShort(u16),
    #[error("frame of {size} bytes exceeds the maximum of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("unknown op 0x{0:02x}")]
    UnknownOp(u8),
    #[error("unknown status {0}")]
    UnknownStatus(u8),
    #[error("{op:?} takes {expected}, got {got} body bytes")]
    BadBody {
        op: Op,
        expected: &'static str,
        got: usize,
    },
    #[error("a request carries status {0}; requests must carry 0")]
    StatusInRequest(u8),
}

impl DecodeError {
    /// The status a server answers this error with.
    pub fn status(&self) -> Status {
        match self {
            DecodeError::TooLarge { .. } => Status::TooLarge,
            DecodeError::UnknownOp(_) => Status::UnknownOp,
            _ => Status::Malformed,
        }
    }
}

/// One decoded frame, borrowing its body from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub op: Op,
    pub response: bool,
    pub status: Status,
    pub body: &'a [u8],
}

impl fmt::Display for Frame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.response { "response" } else { "request" };
        write!(f, "{:?} {kind} ({})", self.op, self.status.name())
    }
}

/// Decodes one frame from the front of `input`: `Ok(None)` when more bytes
/// are needed, else the frame and how many bytes it took. A length over
/// `max` (header included) fails as soon as the length is readable.
pub fn decode(input: &[u8], max: usize) -> Result<Option<(Frame<'_>, usize)>, DecodeError> {
    let Some(len) = input.get(..2) else {
        return Ok(None);
    };
    let length = u16::from_be_bytes([len[0], len[1]]);
    if length < 2 {
        return Err(DecodeError::TooShort(length));
    }
    let size = 2 + usize::from(length);
    if size > max {
        return Err(DecodeError::TooLarge { size, max });
    }
    let Some(bytes) = input.get(..size) else {
        return Ok(None);
    };
    let op_byte = bytes[2];
    let response = op_byte & RESPONSE != 0;
    let op = Op::from_u8(op_byte & !RESPONSE).ok_or(DecodeError::UnknownOp(op_byte))?;
    let status = Status::from_u8(bytes[3]).ok_or(DecodeError::UnknownStatus(bytes[3]))?;
    if !response && status != Status::Ok {
        return Err(DecodeError::StatusInRequest(bytes[3]));
    }
    let body = &bytes[HEADER..];
    check_body(op, response, status, body)?;
    Ok(Some((
        Frame {
            op,
            response,
            status,
            body,
        },
        size,
    )))
}

/// Every op fixes its body; a frame that disagrees is malformed.
fn check_body(op: Op, response: bool, status: Status, body: &[u8]) -> Result<(), DecodeError> {
    let (fits, expected) = match (op, response, status) {
        (Op::Update | Op::Get, false, _) => (body.is_empty(), "an empty body"),
        (Op::Update | Op::Get, true, Status::Ok) => (body.len() == 8, "a u64 counter"),
        (Op::Hello, _, _) | (Op::Error, _, _) => (std::str::from_utf8(body).is_ok(), "UTF-8 text"),
        (_, true, _) => (std::str::from_utf8(body).is_ok(), "UTF-8 text"),
    };
    if fits {
        Ok(())
    } else {
        Err(DecodeError::BadBody {
            op,
            expected,
            got: body.len(),
        })
    }
}

/// Appends a frame. Bodies are built by this module's callers from short
/// texts and counters, always far below `u16::MAX`.
pub fn encode(out: &mut Vec<u8>, op: u8, status: Status, body: &[u8]) {
    let length = u16::try_from(2 + body.len()).expect("massd bodies are short");
    out.extend_from_slice(&length.to_be_bytes());
    out.push(op);
    out.push(status as u8);
    out.extend_from_slice(body);
}

/// The UPDATE request: four constant bytes.
pub const UPDATE_REQUEST: [u8; 4] = [0, 2, Op::Update as u8, 0];

/// Appends the answer to an UPDATE or GET.
pub fn encode_counter(out: &mut Vec<u8>, op: Op, value: u64) {
    encode(out, op as u8 | RESPONSE, Status::Ok, &value.to_be_bytes());
}

/// The counter in an ok UPDATE/GET answer (the body was checked by `decode`).
pub fn counter(frame: &Frame<'_>) -> Option<u64> {
    let bytes: [u8; 8] = frame.body.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_update_round_trips() {
        let (f, n) = decode(&UPDATE_REQUEST, DEFAULT_MAX_FRAME).unwrap().unwrap();
        assert_eq!((f.op, f.response, n), (Op::Update, false, 4));
        let mut out = Vec::new();
        encode_counter(&mut out, Op::Update, 42);
        let (f, n) = decode(&out, DEFAULT_MAX_FRAME).unwrap().unwrap();
        assert_eq!((counter(&f), f.response, n), (Some(42), true, 12));
    }

    #[test]
    fn partial_frames_wait_and_bad_ones_have_names() {
        assert_eq!(decode(&[0], 64), Ok(None));
        assert_eq!(decode(&[0, 6, 1, 0, b'a'], 64), Ok(None));
        assert_eq!(decode(&[0, 1, 2], 64), Err(DecodeError::TooShort(1)));
        assert_eq!(
            decode(&[0xff, 0xff], 64),
            Err(DecodeError::TooLarge {
                size: 65_537,
                max: 64
            })
        );
        assert_eq!(decode(&[0, 2, 9, 0], 64), Err(DecodeError::UnknownOp(9)));
        assert_eq!(
            decode(&[0, 2, 2, 3], 64),
            Err(DecodeError::StatusInRequest(3))
        );
        assert!(matches!(
            decode(&[0, 3, 2, 0, 1], 64),
            Err(DecodeError::BadBody { .. })
        ));
        assert!(matches!(
            decode(&[0, 3, 1, 0, 0xff], 64),
            Err(DecodeError::BadBody { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_bytes_decode_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut rest = &bytes[..];
            while let Ok(Some((_, n))) = decode(rest, DEFAULT_MAX_FRAME) {
                prop_assert!(n >= HEADER && n <= rest.len());
                rest = &rest[n..];
            }
        }

        #[test]
        fn hello_bodies_round_trip(token in "\\PC{0,100}") {
            let mut out = Vec::new();
            encode(&mut out, Op::Hello as u8, Status::Ok, token.as_bytes());
            let (f, n) = decode(&out, 1024).unwrap().unwrap();
            prop_assert_eq!(n, out.len());
            prop_assert_eq!(f.body, token.as_bytes());
        }
    }
}
