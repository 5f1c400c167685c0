//! Frame layout: a 4-byte big-endian length, then an 8-byte header rest
//! (version, opcode, flags, status, request id) and the body.
//!
//! ```text
//! 0      4        5        6      7       8            12
//! +------+--------+--------+------+-------+------------+-----------
//! | len  | version| opcode | flags| status| request id | body ...
//! +------+--------+--------+------+-------+------------+-----------
//! ```
//!
//! `len` counts every byte after itself (8 + body), so a frame is `4 + len`
//! bytes long. [`decode`] borrows the body from the input buffer: decoding a
//! frame allocates nothing.

use super::error::DecodeError;
use super::field::FieldWriter;

/// Bytes of the length prefix.
pub const LENGTH_LEN: usize = 4;
/// Bytes of the whole fixed header, length prefix included.
pub const HEADER_LEN: usize = 12;
/// The protocol version this build speaks.
pub const VERSION: u8 = 1;
/// Flag bit set on every response frame.
pub const FLAG_RESPONSE: u8 = 0x01;
const KNOWN_FLAGS: u8 = FLAG_RESPONSE;

/// The fixed part of a frame. Opcode and status stay raw bytes here so that an
/// unknown value is the dispatcher's decision (answer `unknown_opcode`), not a
/// framing error that would cost the whole connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub opcode: u8,
    pub flags: u8,
    pub status: u8,
    pub request_id: u32,
}

impl Header {
    /// A request header.
    pub fn request(opcode: u8, request_id: u32) -> Self {
        Header {
            opcode,
            flags: 0,
            status: 0,
            request_id,
        }
    }

    /// The response header answering `self` with `status`.
    pub fn response(&self, status: u8) -> Self {
        Header {
            opcode: self.opcode,
            flags: FLAG_RESPONSE,
            status,
            request_id: self.request_id,
        }
    }

    pub fn is_response(&self) -> bool {
        self.flags & FLAG_RESPONSE != 0
    }
}

/// A decoded frame whose body borrows from the input buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub header: Header,
    pub body: &'a [u8],
}

/// Decodes one frame from the front of `input`.
///
/// Returns `Ok(None)` when `input` holds only part of a frame, or
/// `Ok(Some((frame, consumed)))`. An error means the stream is no longer
/// framed correctly and the connection should be answered and closed.
pub fn decode(input: &[u8], max_frame: u32) -> Result<Option<(Frame<'_>, usize)>, DecodeError> {
    if input.len() < LENGTH_LEN {
        return Ok(None);
    }
    let len = u32::from_be_bytes([input[0], input[1], input[2], input[3]]);
    let total = LENGTH_LEN as u64 + u64::from(len);
    if total > u64::from(max_frame) {
        return Err(DecodeError::FrameTooLarge {
            len: total,
            max: max_frame,
        });
    }
    let min = (HEADER_LEN - LENGTH_LEN) as u32;
    if len < min {
        return Err(DecodeError::FrameTooShort { len, min });
    }
    // Validate the header as soon as it is here, before waiting for the body,
    // so garbage is refused at once instead of after `len` bytes.
    if input.len() >= HEADER_LEN {
        check_header(input)?;
    }
    let total = total as usize;
    if input.len() < total {
        return Ok(None);
    }
    let header = Header {
        opcode: input[5],
        flags: input[6],
        status: input[7],
        request_id: u32::from_be_bytes([input[8], input[9], input[10], input[11]]),
    };
    Ok(Some((
        Frame {
            header,
            body: &input[HEADER_LEN..total],
        },
        total,
    )))
}

fn check_header(input: &[u8]) -> Result<(), DecodeError> {
    if input[4] != VERSION {
        return Err(DecodeError::UnsupportedVersion(input[4]));
    }
    if input[6] & !KNOWN_FLAGS != 0 {
        return Err(DecodeError::ReservedFlags(input[6]));
    }
    Ok(())
}

/// Writes one frame straight into an output buffer: the header first with a
/// placeholder length, the fields through [`FrameWriter::fields`], and the
/// length patched by [`FrameWriter::finish`]. No intermediate buffer.
pub struct FrameWriter<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    max_frame: u32,
}

impl<'a> FrameWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>, header: Header, max_frame: u32) -> Self {
        let start = out.len();
        out.extend_from_slice(&[
            0,
            0,
            0,
            0,
            VERSION,
            header.opcode,
            header.flags,
            header.status,
        ]);
        out.extend_from_slice(&header.request_id.to_be_bytes());
        FrameWriter {
            out,
            start,
            max_frame,
        }
    }

    /// The field writer for the body.
    pub fn fields(&mut self) -> FieldWriter<'_> {
        FieldWriter::new(self.out)
    }

    /// Appends an already encoded field list (a worker's answer body).
    pub fn extend(&mut self, encoded_fields: &[u8]) {
        self.out.extend_from_slice(encoded_fields);
    }

    /// Patches the length. If the frame grew past the maximum it is removed
    /// from the buffer again and the error says by how much.
    pub fn finish(self) -> Result<usize, DecodeError> {
        let total = self.out.len() - self.start;
        if total as u64 > u64::from(self.max_frame) {
            self.out.truncate(self.start);
            return Err(DecodeError::FrameTooLarge {
                len: total as u64,
                max: self.max_frame,
            });
        }
        let len = (total - LENGTH_LEN) as u32;
        self.out[self.start..self.start + LENGTH_LEN].copy_from_slice(&len.to_be_bytes());
        Ok(total)
    }
}

/// Appends a frame with an empty body (pings, bare status answers).
pub fn encode_empty(out: &mut Vec<u8>, header: Header) {
    out.extend_from_slice(&((HEADER_LEN - LENGTH_LEN) as u32).to_be_bytes());
    out.extend_from_slice(&[VERSION, header.opcode, header.flags, header.status]);
    out.extend_from_slice(&header.request_id.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_frame_round_trips() {
        let mut out = Vec::new();
        let h = Header::request(1, 77);
        encode_empty(&mut out, h);
        let (frame, used) = decode(&out, 1024).unwrap().unwrap();
        assert_eq!(used, HEADER_LEN);
        assert_eq!(frame.header, h);
        assert!(frame.body.is_empty());
    }

    #[test]
    fn partial_frames_ask_for_more() {
        let mut out = Vec::new();
        let mut w = FrameWriter::new(&mut out, Header::request(2, 1), 1024);
        w.fields().str("hello");
        w.finish().unwrap();
        for cut in 0..out.len() {
            assert_eq!(decode(&out[..cut], 1024), Ok(None), "cut at {cut}");
        }
        assert!(decode(&out, 1024).unwrap().is_some());
    }

    #[test]
    fn oversized_length_is_refused_before_the_body_arrives() {
        let bytes = [0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            decode(&bytes, 1024),
            Err(DecodeError::FrameTooLarge { .. })
        ));
    }

    #[test]
    fn bad_version_is_refused_from_the_header_alone() {
        let bytes = [0, 0, 0, 100, 9, 1, 0, 0, 0, 0, 0, 1];
        assert_eq!(
            decode(&bytes, 1024),
            Err(DecodeError::UnsupportedVersion(9))
        );
    }

    #[test]
    fn writer_refuses_and_removes_a_frame_over_the_maximum() {
        let mut out = vec![7u8];
        let mut w = FrameWriter::new(&mut out, Header::request(2, 1), 32);
        w.fields().bytes(&[0u8; 64]);
        assert!(w.finish().is_err());
        assert_eq!(out, vec![7u8]);
    }
}
