//! Request bodies: by Content-Length (borrowed straight from the input) or
//! by chunked transfer coding (decoded into one buffer, trailers skipped),
//! both bounded by the route's limit so an oversized body is refused with
//! 413 as soon as its size is known.

use super::head::{BodyKind, HttpError};
use std::borrow::Cow;

/// A body read from the front of the bytes after the head.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyRead<'a> {
    /// More bytes are needed.
    Incomplete,
    /// The body and how many input bytes it took.
    Complete {
        body: Cow<'a, [u8]>,
        consumed: usize,
    },
}

/// Reads a body of `kind` from `input`, refusing one over `limit` bytes.
pub fn read(kind: BodyKind, input: &[u8], limit: usize) -> Result<BodyRead<'_>, HttpError> {
    match kind {
        BodyKind::None => Ok(BodyRead::Complete {
            body: Cow::Borrowed(&[]),
            consumed: 0,
        }),
        BodyKind::Length(n) => {
            if n > limit as u64 {
                return Err(HttpError::PayloadTooLarge);
            }
            let n = n as usize;
            if input.len() < n {
                return Ok(BodyRead::Incomplete);
            }
            Ok(BodyRead::Complete {
                body: Cow::Borrowed(&input[..n]),
                consumed: n,
            })
        }
        BodyKind::Chunked => chunked(input, limit),
    }
}

fn chunked(input: &[u8], limit: usize) -> Result<BodyRead<'_>, HttpError> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let (size_len, size) = match httparse::parse_chunk_size(&input[pos..]) {
            Ok(httparse::Status::Complete(v)) => v,
            Ok(httparse::Status::Partial) => return Ok(BodyRead::Incomplete),
            Err(_) => return Err(HttpError::BadRequest),
        };
        pos += size_len;
        if size == 0 {
            // Trailer fields, then the blank line that ends the message.
            loop {
                let Some(end) = input[pos..].windows(2).position(|w| w == b"\r\n") else {
                    return Ok(BodyRead::Incomplete);
                };
                pos += end + 2;
                if end == 0 {
                    return Ok(BodyRead::Complete {
                        body: Cow::Owned(body),
                        consumed: pos,
                    });
                }
            }
        }
        if body.len() as u64 + size > limit as u64 {
            return Err(HttpError::PayloadTooLarge);
        }
        let size = size as usize;
        if input.len() < pos + size + 2 {
            return Ok(BodyRead::Incomplete);
        }
        body.extend_from_slice(&input[pos..pos + size]);
        pos += size;
        if &input[pos..pos + 2] != b"\r\n" {
            return Err(HttpError::BadRequest);
        }
        pos += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_bodies_are_borrowed() {
        assert_eq!(
            read(BodyKind::Length(3), b"ab", 10),
            Ok(BodyRead::Incomplete)
        );
        match read(BodyKind::Length(3), b"abcNEXT", 10).unwrap() {
            BodyRead::Complete { body, consumed } => {
                assert!(matches!(body, Cow::Borrowed(b"abc")));
                assert_eq!(consumed, 3);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            read(BodyKind::Length(11), b"", 10),
            Err(HttpError::PayloadTooLarge)
        );
    }

    #[test]
    fn chunked_bodies_decode_at_any_split() {
        let raw = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        for cut in 0..raw.len() - 4 {
            assert_eq!(
                read(BodyKind::Chunked, &raw[..cut], 100),
                Ok(BodyRead::Incomplete),
                "cut {cut}"
            );
        }
        match read(BodyKind::Chunked, raw, 100).unwrap() {
            BodyRead::Complete { body, consumed } => {
                assert_eq!(&body[..], b"Wikipedia");
                assert_eq!(consumed, raw.len() - 4);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            read(BodyKind::Chunked, raw, 5),
            Err(HttpError::PayloadTooLarge)
        );
        assert_eq!(
            read(BodyKind::Chunked, b"zz\r\n", 5),
            Err(HttpError::BadRequest)
        );
        assert_eq!(
            read(BodyKind::Chunked, b"1\r\nabc", 5),
            Err(HttpError::BadRequest)
        );
    }
}
