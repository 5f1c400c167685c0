//! Inputs the fuzz targets of `webd/fuzz` (see `core/fuzz/README.md`) found,
//! kept as tests: each one is fed to the code it broke and must not panic,
//! and where the code was fixed, must give the right answer.

use std::io::Cursor;
use webd::avatars::image::{to_avatar, Refused};
use webd::avatars::upload;
use webd::http::head::parse;
use webd::http::{HttpError, HttpLimits};

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

/// `avatar` target, a timeout (33 s for one input at -timeout=30): a
/// 270-byte GIF of 3592x1 pixels. `resize_to_fill` scaled the picture to
/// cover 256x256 before cropping, so its way to a 256x256 avatar went
/// through a 919,552x256 picture; an 8192x1 one (a 240-byte PNG) took 20 s
/// and 1.6 GB in release. Fixed in `to_avatar` by cropping first.
const GIF_3592X1: &[u8] =
    b"GIF89a\x08\x0e\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x08\x00\x00\x00\
      \x00,\x00\x00\x00\x00\x08\x00\x05\x00\x85\x00\x00c\x001c\x00dc\x00\x96c\x00\xc8c\x1e\
      \x00c\x1e2c\x1edc\x1e\x96c\x1e\xc8c<\x00c<3c<GIF89a\x04\x00\x04\x00\x80\x00\x00\x00\
      \x00\x00\x00\x00\x00!\xf9\x04\x09\x03\x00\x00\x00,\x00\x00\x00\x00\x04\x00\x04\x00\
      \x83\x00\x00\x00<\x00<<\x00x<\x00\xb4x\x00<x\x00xx\x00\xb4\xb4\x00<\xb4\x00x\xb4\x00\
      \xb4\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xfe\xf6\x00\x00\x00\x00\x00\x04\x0a\
      \x10\xa6H\x19\xc8\x01\xaa 0L\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
      \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
      \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
      \x00\x00\x06%@@A\xf1\xa0d<\xa3\x80a\x01\xa9h>$\xc1\x81\x01\x00\x00\x00\x00\x00\x00t\
      \xb9pB&B\xc20\xc1tD\xa7 \x00;";

#[test]
fn a_long_thin_picture_is_cropped_before_it_is_scaled() {
    assert_eq!(GIF_3592X1.len(), 270, "the literal is the fuzzer's input");
    let png = |w: u32, h: u32| {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([0, 7, 9]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    for (what, input) in [
        ("the fuzzer's GIF", GIF_3592X1.to_vec()),
        ("8192x1", png(8192, 1)),
        ("1x8192", png(1, 8192)),
    ] {
        let started = std::time::Instant::now();
        let out = to_avatar(&input).unwrap();
        // Milliseconds now, even unoptimised; 20 s in release before.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{what}"
        );
        let back = image::load_from_memory(&out).unwrap();
        assert_eq!((back.width(), back.height()), (256, 256), "{what}");
    }
}

/// `avatar` target, panics in a dependency, not fixed: zune-jpeg 0.5.15
/// (the newest the lock allows) writes past an MCU row in its IDCT on
/// baseline JPEGs whose second component has sampling factors 2x4 against
/// the first's 1x1. There are two sites:
/// - `idct/avx2.rs:246`, `Option::unwrap()` on `None` (of its two stores
///   per row, the first falls back to a scratch buffer, the second
///   unwraps): a 411-byte JPEG of 2048x5;
/// - `idct/scalar.rs:36` (`idct_int_1x1`), "range start index 264 out of
///   range for slice of length 256": a 468-byte JPEG of 264x256.
///
/// In webd the avatar pool's `catch_unwind` contains them: the upload is
/// answered 500 and the worker goes on.
const JPEGS_TRIP_ZUNE_IDCT: [(&str, usize, &[u8]); 2] = [
    (
        "avx2",
        411,
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\xff\xff\xff\xff\xff\xff\x03\x00\x00\xff\xc0\x00\x11\
      \x08\x00\x05\x08\x00\x03\x01\x11\x00\x02$\x01\x03\x11\x01\xff\xdb\x00C\x00\x08\x06\
      \x06\x07\x06\x05\x08\x07\x07\x07\x09\x09\x08\x0a\x0c\x14\x0d\x0c\x0b\x0b\x0c\x19\x12\
      \x13\x0f\x14\x1d\x1a\x1e\x1d\x1c\x1c\x20$.'\x20\x22,#\x1c\x1c(7),0144II*\x1f'9=82<.3\
      42\xff\xdb\x00C\x01\x09\x09\x09\x0c\x0b\x0c\x18\x0d\x0d\x182!\x1c!2222222222222222\
      \x1f\x00\x00\x00222222222222222222222222222222\xff\xc4\x00\x1f\x00\x00\x01\x05\x01\
      \x01\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\
      \x09\x0a\x0b\xff\xc4\x00\xb5\x10\x00\x02\x01\x03\x03\x02\x04\x03\x05\x05\x04\x04\x00\
      \x00\x01}56\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xc2\xc3\xc4\xc5\
      \xc6\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\x00\x01\xe9\xea\xf1\xf2\xf3\xff\xff\
      \xff\xf0<\x7f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\
      \xff\xffb\x8b\xe5\xfa\xff\xda\x00\x08\x01\x01\x00\x00?\x00\xc3\xb2\xf0<\x7fb\x8b\xff\
      \xff\xff\xff\xff\x00\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\
      \xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\x00\x01\xe9\xea\xf1\
      \xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xff\xda\x00\x08\x01\x01\x00\x00?\x00\xc3\xb2\
      \xf0<\x7f\xff\xff\xff\xff\xff\xf6\xf7\xf8\xf9\xfa\xff\xda\x00\x08\x01\x01\x00\x00?\
      \x00\xc3\xb2\xf0<\x7f\xff\xff\xff",
    ),
    (
        "scalar",
        468,
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\xff\xff\x04\x00\x00\x00\xff\x03\x00\x00\xff\xc0\x00\
      \x11\x08\x01\x00\x01\x08\x03\x01\x11\x00\x02$\x01\x03\x11\x01\xff\xdb\x00C\x00\x08\
      \x06\x06\x07\x06\x05\x08\x07\x07\x07\x0a\x0c\x14\x0d\x0c\x0b\x0b\x0c\x19\x12\x13\x0f\
      \x14\x1d\x1a\x1f\x1e\x1d\x1a\x1c\x1c\x20$.'\x20\x22,#\x1c\x1c(7,0144II*\x004\x1f'9=8\
      2<.342\xff\xdb\x00C\x01\x09\x09\x09\x0c\x0b\x0c\x18\x0d\x0d\x182!8L\xbc\x00\x00\x00/\
      222222222222222222222222222222222222222222222\xff\xc4\x00\x1f\x00\x00\x01\x05\x01\
      \x01\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\
      \x09\x0a\x0b\xff\xc4\x00\xb5\x10\x00\x02\x01\x03\x03\x02\x04\x03\x05\x05\x04\x04\x00\
      \x00\x01}00650:CDEFGHIJSTUVWXYvwxyz\x83\x84\x85\x86\x87\x88\x89\x8a\x92\x93\x94\x95\
      \x96\x97\x98\x99\x9a\xff\xc4\x00\xb5\x11\xc1\x15R\xd1\xf0$3br\x82\x09\x0a\x16\x17\
      \x18\x19\x1a%\x00\x00\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x09\x0a\x16\
      \x15br\xd1\x0a\x16$4\xe1%\xf1\x17\x18\x19\x1a&'()*56\x01\x00\x00\x00\x00\x00\x01\x00\
      GHIJSTUVWX\xba\xc2\xc3\xc4\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\x00\x01\x00\
      \x00\xd9\xda\xe1\xe2\xe3\xe4\xe5\xe6\xe9\xea\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\
      \xff\xda\x00\x08\x01\x01\x00\x00\x00\x02\x11\x03\x11\x00?\x00\x8fD\xf0N\x99\xf2\xcdU\
      \x20\x22\x02\x1eH\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
      \x09\x0a\x16\x17\x1a%&'()*4567\x00\x0f$\x00\x00\x00\x00\x00\x8e\xd7\x1e+3\x03",
    ),
];

#[test]
fn jpegs_that_trip_the_decoder_are_refused_or_contained() {
    // Today they panic; catch_unwind, as the pool does, with the panic
    // message silenced (and the hook back before any assertion).
    let loud = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let results: Vec<_> = JPEGS_TRIP_ZUNE_IDCT
        .iter()
        .map(|(_, _, jpeg)| std::panic::catch_unwind(|| to_avatar(jpeg)))
        .collect();
    std::panic::set_hook(loud);
    for ((site, len, jpeg), result) in JPEGS_TRIP_ZUNE_IDCT.iter().zip(results) {
        assert_eq!(
            jpeg.len(),
            *len,
            "{site}: the literal is the fuzzer's input"
        );
        assert!(!matches!(result, Ok(Ok(_))), "{site}: not an avatar");
    }
}

/// `to_avatar` contains a decoder's panic itself: the upload is refused as
/// not an image, not answered 500.
#[test]
fn jpegs_that_trip_the_decoder_are_not_images() {
    for (site, _, jpeg) in JPEGS_TRIP_ZUNE_IDCT {
        assert_eq!(to_avatar(jpeg), Err(Refused::NotAnImage), "{site}");
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

/// Whether `head` cut one byte short is "incomplete" (as it must be: the
/// whole of it parses), rather than a head or a refusal.
fn incomplete_one_byte_short(head: &[u8], limits: &HttpLimits) -> Result<(), String> {
    assert!(
        parse(head, limits).unwrap().is_some(),
        "the whole head parses"
    );
    match parse(&head[..head.len() - 1], limits) {
        Ok(None) => Ok(()),
        Ok(Some(_)) => Err("a head one byte early".into()),
        Err(e) => Err(format!("refused one byte early: {e:?}")),
    }
}

/// `http_head` target, found with tight limits (64-byte request line): a
/// head with bare-LF line ends (which httparse accepts) longer than the
/// request-line limit parsed whole, but cut one byte short was refused
/// with 414, the incomplete check looking for a CRLF only. Fixed in
/// c707bf9 (webd/src/http/head.rs); here at the default limits.
#[test]
fn a_long_bare_lf_head_cut_short_is_incomplete() {
    let limits = HttpLimits::default();
    let head = format!(
        "GET / HTTP/1.1\nHost: a\nX-Pad: {}\n\n",
        "a".repeat(limits.max_request_line)
    );
    assert_eq!(incomplete_one_byte_short(head.as_bytes(), &limits), Ok(()));
}

/// The same class: an incomplete head was refused with 414 when its
/// request line (measured up to its LF, CR included) was longer than
/// `max_request_line`, a complete head only when its target was, so a
/// client whose head arrived in two reads got 414 and in one read 200.
/// Now both measure the line without its end: a line of exactly the limit
/// is fine however it arrives, one byte more is 414 however it arrives.
fn request_line_of(len: usize) -> Vec<u8> {
    let pad = len - "GET / HTTP/1.1".len();
    format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(pad)).into_bytes()
}

#[test]
fn a_request_line_over_the_limit_is_refused_however_it_arrives() {
    let limits = HttpLimits::default();
    let head = request_line_of(limits.max_request_line + 1);
    assert_eq!(parse(&head, &limits).unwrap_err(), HttpError::UriTooLong);
    for cut in [
        head.len() - 1,
        limits.max_request_line + 1,
        limits.max_request_line + 2,
    ] {
        assert_eq!(
            parse(&head[..cut], &limits).unwrap_err(),
            HttpError::UriTooLong,
            "cut {cut}"
        );
    }
    // At the limit, even with its CR already here, it is only incomplete.
    let head = request_line_of(limits.max_request_line);
    assert!(parse(&head[..limits.max_request_line + 1], &limits)
        .unwrap()
        .is_none());
}

#[test]
fn long_request_lines_cut_short_do_not_panic() {
    let limits = HttpLimits::default();
    for head in [request_line_of(limits.max_request_line)] {
        assert!(parse(&head, &limits).unwrap().is_some());
        for cut in [head.len() - 1, head.len() / 2, 20] {
            let _ = parse(&head[..cut], &limits);
        }
    }
}

/// head.rs measures the request line of a whole and of an incomplete head
/// the same way (`request_line_len`).
#[test]
fn a_long_request_line_cut_short_is_incomplete() {
    let limits = HttpLimits::default();
    let failures: Vec<_> = [request_line_of(limits.max_request_line)]
        .iter()
        .enumerate()
        .filter_map(|(i, head)| {
            incomplete_one_byte_short(head, &limits)
                .err()
                .map(|e| format!("head {i}: {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
}
