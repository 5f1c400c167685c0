//! Avatar uploads: `webd::avatars::upload::parse(content_type, body)`, the
//! `multipart/form-data` form driven through `multer`.
//!
//! The input up to the first LF is the Content-Type (lossy UTF-8, as a
//! header value the pages would pass on), the rest is the body. Invariant
//! besides "never panics" (and never hanging, which libFuzzer reports as a
//! timeout): the fields taken out are no larger than the body they came from
//! (the csrf text counted in characters).

#![no_main]

use libfuzzer_sys::fuzz_target;
use webd::avatars::upload::parse;

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let content_type = String::from_utf8_lossy(content_type);
    let len = body.len();
    if let Some(upload) = parse(&content_type, body.to_vec()) {
        // The csrf field is text, decoded lossily: an invalid byte becomes
        // one U+FFFD (three bytes), so it is counted in characters.
        let csrf = upload.csrf.chars().count();
        assert!(
            csrf + upload.file.len() <= len,
            "fields of {csrf} characters + {} bytes out of a body of {len}",
            upload.file.len()
        );
    }
});
