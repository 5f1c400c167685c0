//! Avatar images: `webd::avatars::image::to_avatar(bytes)`, which guesses the
//! format from the bytes, decodes JPEG/PNG/GIF/WebP under size limits, crops
//! and resizes to 256x256 and re-encodes as PNG.
//!
//! Slow by nature (an image decode and a Lanczos resize per input): run it
//! with `-max_len=4096`. Invariant besides "never panics": what comes out is
//! a PNG whose header says 256x256.

#![no_main]

use libfuzzer_sys::fuzz_target;
use webd::avatars::image::{to_avatar, SIDE};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fuzz_target!(|data: &[u8]| {
    if let Ok(png) = to_avatar(data) {
        assert!(png.starts_with(PNG_SIGNATURE), "the avatar is not a PNG");
        assert!(png.len() >= 24 && &png[12..16] == b"IHDR", "no IHDR first");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((width, height), (SIDE, SIDE));
    }
});
