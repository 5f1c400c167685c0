//! Inputs the fuzz targets of `webd/fuzz` (see `core/fuzz/README.md`) found,
//! kept as tests: each one is fed to the code it broke and must not panic,
//! and where the code was fixed, must give the right answer.

use std::io::Cursor;
use webd::avatars::image::{to_avatar, Refused};
use webd::avatars::upload;
use webd::http::head::parse;
use webd::http::HttpLimits;

/// `avatar` target, minimised: a GIF whose logical screen is 14x0. The GIF
/// decoder returns a 14x0 picture, and `to_avatar` used to turn it into a
/// 256x1 PNG instead of refusing it.
const GIF_ZERO_HEIGHT: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x08, 0x00, 0x05, 0x00, 0xb9, 0x70, 0x42, 0x42, 0xc2, 0x30, 0xc1, 0x74, 0x44, 0xa7,
    0x20, 0x00, 0x3b, 0x06, 0x25, 0x40, 0x40, 0x41, 0xf1, 0xa0, 0x64, 0x3c, 0xa3, 0x80, 0x61, 0x01,
    0xa9, 0x68, 0x3e, 0x24, 0xc1, 0x81, 0x11, 0xb1, 0x40, 0xa5, 0x01, 0xa2, 0x21, 0xb9, 0x70, 0xc1,
    0x74, 0x44, 0xa7, 0x00,
];

#[test]
fn a_picture_with_a_side_of_zero_is_not_an_avatar() {
    assert_eq!(to_avatar(GIF_ZERO_HEIGHT), Err(Refused::NotAnImage));
    // The same from a valid 8x5 GIF with its screen width, then its
    // height, patched to 0 (the width-0 one used to give a 1x256 PNG).
    let img = image::RgbImage::from_fn(8, 5, |x, y| image::Rgb([x as u8 * 30, y as u8 * 50, 9]));
    let mut gif = Vec::new();
    img.write_to(&mut Cursor::new(&mut gif), image::ImageFormat::Gif)
        .unwrap();
    assert!(to_avatar(&gif).is_ok());
    for side in [6..8, 8..10] {
        let mut patched = gif.clone();
        patched[side].fill(0);
        assert_eq!(to_avatar(&patched), Err(Refused::NotAnImage));
    }
}

/// `multipart` target: the csrf field is decoded as text, lossily, so a
/// body of invalid UTF-8 gives a csrf string longer in bytes than the body
/// (each invalid byte is a three-byte U+FFFD). Not a bug, but the input
/// that showed it.
#[test]
fn a_csrf_field_of_invalid_utf8_is_replaced_not_refused() {
    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nab".to_vec();
    body.extend_from_slice(&[0xff; 40]);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    let len = body.len();
    let u = upload::parse("multipart/form-data; boundary=XyZ", body).unwrap();
    assert_eq!(u.csrf, format!("ab{}", "\u{fffd}".repeat(40)));
    assert!(u.csrf.len() > len && u.csrf.chars().count() <= len);
}

/// `http_head` target, first found with tight limits (64-byte request line):
/// a complete head parses, but the same head one byte short, still
/// incomplete, is refused with 414. The incomplete check measures the
/// request line up to its first CRLF (or the whole input when there is
/// none), the complete one only the target.
fn split_dependent_heads() -> Vec<Vec<u8>> {
    let limits = HttpLimits::default();
    // Bare-LF line ends (which httparse accepts), a head past 8 KiB.
    let lf = format!(
        "GET / HTTP/1.1\nHost: a\nX-Pad: {}\n\n",
        "a".repeat(limits.max_request_line)
    );
    // A request line over 8 KiB whose target alone is under it.
    let line = format!(
        "GET /{} HTTP/1.1\r\nHost: a\r\n\r\n",
        "a".repeat(limits.max_request_line - 1)
    );
    vec![lf.into_bytes(), line.into_bytes()]
}

#[test]
fn heads_cut_short_do_not_panic() {
    let limits = HttpLimits::default();
    for head in split_dependent_heads() {
        let whole = parse(&head, &limits).unwrap().unwrap();
        assert_eq!(whole.len, head.len());
        for cut in [head.len() - 1, head.len() / 2, 20] {
            let _ = parse(&head[..cut], &limits);
        }
    }
}

/// The answer must not depend on how the head was split into reads: a
/// client whose head arrives in two reads gets 414, in one read 200.
/// Ignored until `webd/src/http/head.rs` measures both cases the same way;
/// then drop the `#[ignore]` and the excuse in `webd/fuzz/fuzz_targets/http_head.rs`.
#[test]
#[ignore = "known: head::parse refuses an incomplete head with 414 that it accepts complete"]
fn a_head_cut_short_is_incomplete_not_refused() {
    let limits = HttpLimits::default();
    for head in split_dependent_heads() {
        assert!(parse(&head, &limits).unwrap().is_some());
        let early = parse(&head[..head.len() - 1], &limits).map(|h| h.is_some());
        assert_eq!(early, Ok(false), "Ok(true) is a head, Err a refusal");
    }
}
