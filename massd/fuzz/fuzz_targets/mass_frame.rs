//! A stream of massd frames (`massd/PROTOCOL.md`): `massd::proto::decode` in
//! a loop, as a counter server reads a connection.
//!
//! The first byte picks the frame maximum; the rest is the stream. Besides
//! "never panics": a decoded frame takes at least its header, at most the
//! input and the maximum, is not complete one byte early, and re-encodes to
//! exactly the bytes it came from.

#![no_main]

use libfuzzer_sys::fuzz_target;
use massd::proto::{counter, decode, encode, Op, Status, DEFAULT_MAX_FRAME, HEADER, RESPONSE};

const MAXES: [usize; 4] = [DEFAULT_MAX_FRAME, HEADER, 16, usize::MAX];

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let max = MAXES[usize::from(first & 3)];
    let mut rest = stream;
    loop {
        match decode(rest, max) {
            Ok(None) | Err(_) => break,
            Ok(Some((frame, consumed))) => {
                assert!(consumed >= HEADER, "a frame is at least its header");
                assert!(
                    consumed <= rest.len(),
                    "consumed {consumed} of {}",
                    rest.len()
                );
                assert!(consumed <= max, "frame over the maximum");
                assert_eq!(frame.body, &rest[HEADER..consumed]);
                assert_eq!(
                    decode(&rest[..consumed - 1], max),
                    Ok(None),
                    "complete one byte early"
                );
                assert!(frame.response || frame.status == Status::Ok);
                if frame.response
                    && frame.status == Status::Ok
                    && matches!(frame.op, Op::Update | Op::Get)
                {
                    assert!(
                        counter(&frame).is_some(),
                        "an ok counter answer has its u64"
                    );
                }
                let op = frame.op as u8 | if frame.response { RESPONSE } else { 0 };
                let mut again = Vec::new();
                encode(&mut again, op, frame.status, frame.body);
                assert_eq!(
                    again,
                    &rest[..consumed],
                    "frame does not re-encode to itself"
                );
                rest = &rest[consumed..];
            }
        }
    }
});
