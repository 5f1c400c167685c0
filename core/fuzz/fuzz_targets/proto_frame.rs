//! A stream of Throng frames (`core/PROTOCOL.md`): `proto::decode` in a loop
//! the way the reactor's RPC layer reads a connection, then every frame's body
//! through `decode_fields`.
//!
//! The first byte picks the frame maximum; the rest is the stream. Besides
//! "never panics", each decoded frame must re-encode to exactly the bytes it
//! came from, a frame must not be complete one byte early, and a body that
//! decodes into fields must re-encode to itself (the encoding is canonical).

#![no_main]

use libfuzzer_sys::fuzz_target;
use throng_core::proto::{
    decode, decode_fields, FieldWriter, FrameWriter, DEFAULT_MAX_FRAME, HEADER_LEN,
};

const MAXES: [u32; 4] = [DEFAULT_MAX_FRAME, HEADER_LEN as u32, 64, u32::MAX];

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let max = MAXES[usize::from(first & 3)];
    let mut rest = stream;
    loop {
        match decode(rest, max) {
            Ok(None) => break,
            Err(e) => {
                // Garbage is refused from the header alone, before the body
                // arrives: the first HEADER_LEN bytes give the same error.
                if rest.len() >= HEADER_LEN {
                    assert_eq!(decode(&rest[..HEADER_LEN], max), Err(e));
                }
                break;
            }
            Ok(Some((frame, consumed))) => {
                assert!(consumed >= HEADER_LEN, "a frame is at least its header");
                assert!(
                    consumed <= rest.len(),
                    "consumed {consumed} of {}",
                    rest.len()
                );
                assert!(consumed as u64 <= u64::from(max), "frame over the maximum");
                assert_eq!(frame.body, &rest[HEADER_LEN..consumed]);
                assert_eq!(
                    decode(&rest[..consumed - 1], max),
                    Ok(None),
                    "complete one byte early"
                );

                let mut again = Vec::new();
                let mut w = FrameWriter::new(&mut again, frame.header, max);
                w.extend(frame.body);
                assert_eq!(w.finish(), Ok(consumed));
                assert_eq!(
                    again,
                    &rest[..consumed],
                    "frame does not re-encode to itself"
                );

                if let Ok(fields) = decode_fields(frame.body) {
                    let mut body = Vec::new();
                    let mut fw = FieldWriter::new(&mut body);
                    for f in &fields {
                        fw.field(f);
                    }
                    assert_eq!(body, frame.body, "fields do not re-encode to the body");
                }
                rest = &rest[consumed..];
            }
        }
    }
});
