//! Request bodies: `webd::http::body::BodyDecoder`, the incremental
//! Content-Length / chunked decoder.
//!
//! The first byte chooses the body kind, `max_body`, `max_framing` and how
//! the rest is split into reads (for `Length`, one more byte gives the
//! length). The rest is decoded twice: whole, and fed in pieces the way a
//! connection receives it (each feed gets what the last one left unconsumed
//! plus the next piece). Both must give the same outcome: the same error, or
//! the same body, the same bytes consumed and the same "done". Every feed
//! consumes at most what it was given, and the body never exceeds `max_body`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use webd::http::body::BodyDecoder;
use webd::http::head::BodyKind;
use webd::http::HttpError;

const MAX_BODY: [usize; 4] = [0, 7, 100, 64 * 1024];
const MAX_FRAMING: [usize; 4] = [0, 12, 100, 64 * 1024];

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Failed(HttpError),
    Decoded {
        body: Vec<u8>,
        consumed: usize,
        done: bool,
    },
}

/// Feeds `pieces` in turn, each after what the previous feed left.
fn decode<'a>(
    mut d: BodyDecoder,
    max_body: usize,
    pieces: impl Iterator<Item = &'a [u8]>,
) -> Outcome {
    let mut body = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut consumed = 0;
    let mut done = false;
    for piece in pieces {
        pending.extend_from_slice(piece);
        // Feed until the decoder stops taking bytes: one feed may stop
        // early (say, at the end of a chunk) without that being the end.
        loop {
            let before = body.len();
            let f = match d.feed(&pending, &mut body) {
                Ok(f) => f,
                Err(e) => return Outcome::Failed(e),
            };
            assert!(
                f.consumed <= pending.len(),
                "consumed {} of {}",
                f.consumed,
                pending.len()
            );
            assert!(
                body.len() - before <= f.consumed,
                "more body bytes than input taken"
            );
            assert!(
                body.len() <= max_body,
                "body of {} over max_body {max_body}",
                body.len()
            );
            pending.drain(..f.consumed);
            consumed += f.consumed;
            if f.done {
                done = true;
                break;
            }
            if f.consumed == 0 || pending.is_empty() {
                break;
            }
        }
        if done {
            break;
        }
    }
    Outcome::Decoded {
        body,
        consumed,
        done,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let kind = match first & 3 {
        0 => BodyKind::None,
        1 => {
            let Some((&n, r)) = rest.split_first() else {
                return;
            };
            rest = r;
            BodyKind::Length(if n == 0xff { u64::MAX } else { u64::from(n) })
        }
        _ => BodyKind::Chunked,
    };
    let max_body = MAX_BODY[usize::from(first >> 2 & 3)];
    let max_framing = MAX_FRAMING[usize::from(first >> 4 & 3)];
    let step = [1, 2, 5, 13][usize::from(first >> 6)];

    let new = || BodyDecoder::new(kind, max_body, max_framing);
    let whole_decoder = match new() {
        Ok(d) => d,
        Err(e) => {
            assert_eq!(new().err(), Some(e));
            if let BodyKind::Length(n) = kind {
                assert!(
                    n > max_body as u64,
                    "a Length within max_body refused: {e:?}"
                );
            }
            return;
        }
    };
    let whole = decode(whole_decoder, max_body, std::iter::once(rest));
    // Pieces of varying size: `step`, then a byte more each time, wrapping.
    let mut cuts = Vec::new();
    let (mut at, mut n) = (0, step);
    while at < rest.len() {
        let end = (at + n).min(rest.len());
        cuts.push(&rest[at..end]);
        at = end;
        n = n % 17 + 1;
    }
    if cuts.is_empty() {
        cuts.push(rest); // one feed of nothing, as the whole case has
    }
    let pieces = decode(new().expect("accepted once"), max_body, cuts.into_iter());
    assert_eq!(whole, pieces, "whole and piecewise decoding differ");

    if let Outcome::Decoded {
        body,
        consumed,
        done,
    } = &whole
    {
        assert!(*consumed <= rest.len());
        if let (BodyKind::Length(n), true) = (kind, *done) {
            assert_eq!(
                body.len() as u64,
                n,
                "a finished Length body has its length"
            );
            assert_eq!(*consumed as u64, n);
        }
        if kind == BodyKind::None {
            assert!(*done && body.is_empty() && *consumed == 0);
        }
    }
});
