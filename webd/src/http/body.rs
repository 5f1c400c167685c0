//! Request bodies, decoded incrementally: a [`BodyDecoder`] takes whatever
//! bytes have arrived, appends the body bytes they carry to a buffer, and
//! keeps its place between reads, so nothing is ever parsed twice (a
//! chunked body that arrives one byte per read costs one pass, not a pass
//! per read).
//!
//! Every size read from the wire goes through checked arithmetic: a chunk
//! size is accumulated digit by digit with `checked_mul`/`checked_add` and
//! compared with what is left of the limit before a single byte is taken.
//! The decoded bytes are bounded by the route's body limit; everything the
//! chunked coding adds around them (size lines, extensions, trailers) is
//! bounded by `max_framing`, so neither can grow without end.

use super::head::{BodyKind, HttpError};

/// How far [`BodyDecoder::feed`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feed {
    /// Bytes taken from the front of the input.
    pub consumed: usize,
    /// The body is complete; bytes after `consumed` belong to the next request.
    pub done: bool,
}

/// Where a chunked decoder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunked {
    /// Reading the hex digits of a chunk size (`digits` so far).
    Size {
        size: u64,
        digits: u32,
    },
    /// After the size: optional whitespace and extensions up to CR.
    Extension {
        size: u64,
        quoted: bool,
        escaped: bool,
    },
    /// The LF of a size line.
    SizeLf {
        size: u64,
    },
    /// Chunk data, `left` bytes to go.
    Data {
        left: u64,
    },
    /// The CR, then the LF, after chunk data.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer field line, up to CR.
    Trailer,
    TrailerLf,
    /// The LF of the final empty line.
    FinalLf,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A body of a known length, `left` bytes to go.
    Length {
        left: u64,
    },
    Chunked(Chunked),
}

/// Decodes one request body across as many reads as it takes.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    mode: Mode,
    /// Body bytes still allowed.
    body_left: usize,
    /// Framing bytes (size lines, extensions, trailers) still allowed.
    framing_left: usize,
}

/// Longest chunk size accepted, in hex digits: 16 digits fill a `u64`.
const MAX_SIZE_DIGITS: u32 = 16;

impl BodyDecoder {
    /// A decoder for a body of `kind`: at most `max_body` decoded bytes and,
    /// for chunked bodies, at most `max_framing` bytes of framing. A
    /// Content-Length over `max_body` is refused here, before any byte.
    pub fn new(kind: BodyKind, max_body: usize, max_framing: usize) -> Result<Self, HttpError> {
        let mode = match kind {
            BodyKind::None => Mode::Length { left: 0 },
            BodyKind::Length(n) => {
                if n > max_body as u64 {
                    return Err(HttpError::PayloadTooLarge);
                }
                Mode::Length { left: n }
            }
            BodyKind::Chunked => Mode::Chunked(Chunked::Size { size: 0, digits: 0 }),
        };
        Ok(BodyDecoder {
            mode,
            body_left: max_body,
            framing_left: max_framing,
        })
    }

    /// Whether the body is complete.
    pub fn is_done(&self) -> bool {
        matches!(
            self.mode,
            Mode::Length { left: 0 } | Mode::Chunked(Chunked::Done)
        )
    }

    /// Takes bytes from the front of `input` and appends the body bytes
    /// among them to `out`. Stops at the end of the body: what follows is
    /// the next request's.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Feed, HttpError> {
        match &mut self.mode {
            Mode::Length { left } => {
                let take = usize::try_from(*left).map_or(input.len(), |l| l.min(input.len()));
                out.extend_from_slice(&input[..take]);
                *left -= take as u64;
                Ok(Feed {
                    consumed: take,
                    done: *left == 0,
                })
            }
            Mode::Chunked(_) => self.chunked(input, out),
        }
    }

    fn chunked(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Feed, HttpError> {
        let Mode::Chunked(mut state) = self.mode else {
            unreachable!("called for chunked bodies only");
        };
        let mut pos = 0;
        while pos < input.len() && state != Chunked::Done {
            if let Chunked::Data { left } = state {
                let take =
                    usize::try_from(left).map_or(input.len() - pos, |l| l.min(input.len() - pos));
                out.extend_from_slice(&input[pos..pos + take]);
                pos += take;
                let left = left - take as u64;
                state = if left == 0 {
                    Chunked::DataCr
                } else {
                    Chunked::Data { left }
                };
                continue;
            }
            let byte = input[pos];
            pos += 1;
            self.framing_left = self
                .framing_left
                .checked_sub(1)
                .ok_or(HttpError::PayloadTooLarge)?;
            state = self.step(state, byte)?;
        }
        self.mode = Mode::Chunked(state);
        Ok(Feed {
            consumed: pos,
            done: state == Chunked::Done,
        })
    }

    /// One framing byte.
    fn step(&mut self, state: Chunked, byte: u8) -> Result<Chunked, HttpError> {
        Ok(match state {
            Chunked::Size { size, digits } => match hex_digit(byte) {
                Some(d) => {
                    if digits >= MAX_SIZE_DIGITS {
                        return Err(HttpError::PayloadTooLarge);
                    }
                    let size = size
                        .checked_mul(16)
                        .and_then(|s| s.checked_add(u64::from(d)))
                        .ok_or(HttpError::PayloadTooLarge)?;
                    Chunked::Size {
                        size,
                        digits: digits + 1,
                    }
                }
                None if digits == 0 => return Err(HttpError::BadRequest),
                None => {
                    self.admit(size)?;
                    match byte {
                        b'\r' => Chunked::SizeLf { size },
                        b';' | b' ' | b'\t' => Chunked::Extension {
                            size,
                            quoted: false,
                            escaped: false,
                        },
                        _ => return Err(HttpError::BadRequest),
                    }
                }
            },
            Chunked::Extension {
                size,
                quoted,
                escaped,
            } => match byte {
                _ if escaped => {
                    if !is_field_byte(byte) {
                        return Err(HttpError::BadRequest);
                    }
                    Chunked::Extension {
                        size,
                        quoted,
                        escaped: false,
                    }
                }
                b'\\' if quoted => Chunked::Extension {
                    size,
                    quoted,
                    escaped: true,
                },
                b'"' => Chunked::Extension {
                    size,
                    quoted: !quoted,
                    escaped: false,
                },
                b'\r' if !quoted => Chunked::SizeLf { size },
                _ if is_field_byte(byte) => state,
                _ => return Err(HttpError::BadRequest),
            },
            Chunked::SizeLf { size } => {
                if byte != b'\n' {
                    return Err(HttpError::BadRequest);
                }
                if size == 0 {
                    Chunked::TrailerStart
                } else {
                    Chunked::Data { left: size }
                }
            }
            Chunked::DataCr => expect(byte, b'\r', Chunked::DataLf)?,
            Chunked::DataLf => expect(byte, b'\n', Chunked::Size { size: 0, digits: 0 })?,
            Chunked::TrailerStart => match byte {
                b'\r' => Chunked::FinalLf,
                // A trailer line may not start with whitespace (obs-fold).
                b' ' | b'\t' => return Err(HttpError::BadRequest),
                _ if is_field_byte(byte) => Chunked::Trailer,
                _ => return Err(HttpError::BadRequest),
            },
            Chunked::Trailer => match byte {
                b'\r' => Chunked::TrailerLf,
                _ if is_field_byte(byte) => Chunked::Trailer,
                _ => return Err(HttpError::BadRequest),
            },
            Chunked::TrailerLf => expect(byte, b'\n', Chunked::TrailerStart)?,
            Chunked::FinalLf => expect(byte, b'\n', Chunked::Done)?,
            Chunked::Data { .. } | Chunked::Done => unreachable!("handled by the caller"),
        })
    }

    /// A chunk of `size` bytes is announced: refuse it before reading it if
    /// it would take the body over its limit.
    fn admit(&mut self, size: u64) -> Result<(), HttpError> {
        let size = usize::try_from(size).map_err(|_| HttpError::PayloadTooLarge)?;
        self.body_left = self
            .body_left
            .checked_sub(size)
            .ok_or(HttpError::PayloadTooLarge)?;
        Ok(())
    }
}

fn expect(byte: u8, want: u8, next: Chunked) -> Result<Chunked, HttpError> {
    if byte == want {
        Ok(next)
    } else {
        Err(HttpError::BadRequest)
    }
}

fn hex_digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// A byte allowed inside a field line (RFC 9110 field-vchar, SP, HTAB,
/// obs-text): no CR, LF, NUL or other controls.
fn is_field_byte(byte: u8) -> bool {
    byte == b'\t' || byte == b' ' || (0x21..=0x7e).contains(&byte) || byte >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `input` in pieces of `step` bytes, the way reads deliver it:
    /// the unconsumed rest of one piece is offered again with the next.
    fn decode_in_steps(
        kind: BodyKind,
        input: &[u8],
        step: usize,
        limit: usize,
    ) -> Result<(Vec<u8>, usize), HttpError> {
        let mut decoder = BodyDecoder::new(kind, limit, 1024)?;
        let mut body = Vec::new();
        let mut used = 0;
        let mut end = 0;
        while !decoder.is_done() {
            if end == input.len() && used == end {
                return Err(HttpError::BadRequest); // incomplete, for the test's sake
            }
            end = (end + step).min(input.len());
            let feed = decoder.feed(&input[used..end], &mut body)?;
            used += feed.consumed;
        }
        Ok((body, used))
    }

    #[test]
    fn content_length_bodies_stop_at_their_length() {
        let mut d = BodyDecoder::new(BodyKind::Length(3), 10, 0).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            d.feed(b"ab", &mut out),
            Ok(Feed {
                consumed: 2,
                done: false
            })
        );
        assert_eq!(
            d.feed(b"cNEXT", &mut out),
            Ok(Feed {
                consumed: 1,
                done: true
            })
        );
        assert_eq!(out, b"abc");
        assert_eq!(
            BodyDecoder::new(BodyKind::Length(11), 10, 0).unwrap_err(),
            HttpError::PayloadTooLarge
        );
        assert_eq!(
            BodyDecoder::new(BodyKind::Length(u64::MAX), 5 << 20, 0).unwrap_err(),
            HttpError::PayloadTooLarge
        );
    }

    #[test]
    fn chunked_bodies_decode_the_same_at_any_split() {
        let raw = b"4\r\nWiki\r\n5;ext=\"a;\\\"b\"\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        for step in 1..raw.len() {
            let (body, used) = decode_in_steps(BodyKind::Chunked, raw, step, 100).unwrap();
            assert_eq!(&body[..], b"Wikipedia", "step {step}");
            assert_eq!(used, raw.len() - 4, "step {step}");
        }
        assert_eq!(
            decode_in_steps(BodyKind::Chunked, raw, 7, 5),
            Err(HttpError::PayloadTooLarge)
        );
    }

    #[test]
    fn chunk_sizes_that_overflow_or_exceed_the_limit_are_refused_before_reading() {
        // The 30-byte request that used to wrap the size in release builds.
        for raw in [
            &b"ffffffffffffffff\r\nx"[..],
            b"fffffffffffffffff0\r\n",
            b"10000000000000000\r\n",
            b"ffffffffffffffff;x\r\n",
        ] {
            let mut d = BodyDecoder::new(BodyKind::Chunked, 64 * 1024, 1024).unwrap();
            assert_eq!(
                d.feed(raw, &mut Vec::new()),
                Err(HttpError::PayloadTooLarge),
                "{raw:?}"
            );
        }
        // Two chunks, each under the limit, together over it.
        let raw = b"8\r\n12345678\r\n8\r\n";
        let mut d = BodyDecoder::new(BodyKind::Chunked, 10, 1024).unwrap();
        assert_eq!(
            d.feed(raw, &mut Vec::new()),
            Err(HttpError::PayloadTooLarge)
        );
    }

    #[test]
    fn extensions_and_trailers_count_against_the_framing_limit() {
        let long_ext = format!("1;{}\r\na\r\n0\r\n\r\n", "e".repeat(200));
        let mut d = BodyDecoder::new(BodyKind::Chunked, 100, 100).unwrap();
        assert_eq!(
            d.feed(long_ext.as_bytes(), &mut Vec::new()),
            Err(HttpError::PayloadTooLarge)
        );
        let trailers = format!("0\r\n{}\r\n", "T: v\r\n".repeat(50));
        let mut d = BodyDecoder::new(BodyKind::Chunked, 100, 100).unwrap();
        assert_eq!(
            d.feed(trailers.as_bytes(), &mut Vec::new()),
            Err(HttpError::PayloadTooLarge)
        );
        // Zero-size chunks cost framing too: no endless stream of them.
        let zeros = "00;x\r\n".repeat(1000);
        let mut d = BodyDecoder::new(BodyKind::Chunked, 100, 100).unwrap();
        assert!(d.feed(zeros.as_bytes(), &mut Vec::new()).is_err());
    }

    #[test]
    fn malformed_framing_is_bad_request() {
        for raw in [
            &b"zz\r\n"[..],
            b"\r\n",
            b" 1\r\na\r\n",
            b"1\r\nabc",
            b"1\na\r\n",
            b"1\r\na\n0\r\n\r\n",
            b"1\r\na\r\n0\r\n\n",
            b"1;\x00\r\n",
            b"1\r\na\r\n0\r\n X: y\r\n\r\n",
            b"1\r\na\r\n0\r\nX: \x01\r\n\r\n",
        ] {
            let mut d = BodyDecoder::new(BodyKind::Chunked, 100, 100).unwrap();
            assert_eq!(
                d.feed(raw, &mut Vec::new()),
                Err(HttpError::BadRequest),
                "{raw:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_bytes_decode_the_same_whole_or_in_pieces(
            input in proptest::collection::vec(any::<u8>(), 0..300),
            step in 1usize..40,
        ) {
            let whole = decode_in_steps(BodyKind::Chunked, &input, input.len().max(1), 64);
            let pieces = decode_in_steps(BodyKind::Chunked, &input, step, 64);
            prop_assert_eq!(&whole, &pieces);
            if let Ok((body, used)) = whole {
                prop_assert!(body.len() <= 64 && used <= input.len());
            }
        }

        #[test]
        fn encoded_bodies_round_trip(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..50), 0..8),
            step in 1usize..60,
        ) {
            let mut raw = Vec::new();
            for c in &chunks {
                raw.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                raw.extend_from_slice(c);
                raw.extend_from_slice(b"\r\n");
            }
            raw.extend_from_slice(b"0\r\n\r\n");
            let (body, used) = decode_in_steps(BodyKind::Chunked, &raw, step, 1 << 20).unwrap();
            prop_assert_eq!(body, chunks.concat());
            prop_assert_eq!(used, raw.len());
        }
    }
}
