//! Avatar images: `webd::avatars::image::to_avatar(bytes)`, which guesses the
//! format from the bytes, decodes JPEG/PNG/GIF/WebP under size limits, crops
//! to the centre square, scales it to 256x256 and re-encodes it as PNG.
//!
//! Slow by nature (an image decode, a resize and a PNG encode per input):
//! run it with `-max_len=4096 -timeout=30`. Invariant besides "never
//! panics": what comes out is a PNG whose header says 256x256.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::panic::{self, catch_unwind};
use std::sync::Once;
use webd::avatars::image::{to_avatar, SIDE};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// KNOWN (webd/tests/fuzz_regressions.rs; `to_avatar` contains it now):
/// zune-jpeg 0.5.15 panics in its IDCT (`idct/avx2.rs`, `idct/scalar.rs`)
/// on some JPEGs, writing past an MCU row. libFuzzer's panic hook aborts at once, so the panic is excused in
/// a hook of our own, and only that one; any other panic still goes to
/// libFuzzer's hook. `to_avatar`'s own `catch_unwind` runs
/// too late for that hook. Delete this once zune-jpeg is fixed.
fn excuse_known_decoder_panic() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let known = info
                .location()
                .is_some_and(|l| l.file().contains("zune-jpeg-0.5.15/src/idct/"));
            if !known {
                fuzzer_hook(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    excuse_known_decoder_panic();
    let Ok(result) = catch_unwind(|| to_avatar(data)) else {
        return; // the excused panic: no other reaches here
    };
    if let Ok(png) = result {
        assert!(png.starts_with(PNG_SIGNATURE), "the avatar is not a PNG");
        assert!(png.len() >= 24 && &png[12..16] == b"IHDR", "no IHDR first");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((width, height), (SIDE, SIDE));
    }
});
