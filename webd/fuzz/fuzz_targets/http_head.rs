//! Request heads: `webd::http::head::parse` on arbitrary bytes, with the
//! default limits (what webd runs with) and again with tight ones, so that
//! inputs of a few hundred bytes reach the 414/431 branches too.
//!
//! Invariants besides "never panics":
//! - a parsed head is no longer than the input and ends with its blank line;
//! - the body framing agrees with `has_length`;
//! - a head accepted under the tight limits is accepted, identically, under
//!   the default ones (a limit only ever refuses more);
//! - a complete head is not complete one byte early: the input cut before
//!   its last byte is "incomplete", not a head and not a refusal that the
//!   whole head did not get (the answer must not depend on how the bytes
//!   were split into reads).

#![no_main]

use libfuzzer_sys::fuzz_target;
use webd::http::head::{parse, BodyKind, Head};
use webd::http::HttpLimits;

fn tight() -> HttpLimits {
    HttpLimits {
        max_request_line: 64,
        max_head: 256,
        max_headers: 4,
        ..HttpLimits::default()
    }
}

fn check(input: &[u8], limits: &HttpLimits) -> Option<String> {
    let head: Head<'_> = parse(input, limits).ok()??;
    assert!(
        head.len <= input.len(),
        "head of {} in {} bytes",
        head.len,
        input.len()
    );
    assert!(head.len <= limits.max_head, "head over max_head");
    assert!(
        input[..head.len].ends_with(b"\n"),
        "a head ends with its blank line"
    );
    assert!(!head.path.contains('?'), "the query is split off");
    match head.body {
        BodyKind::None => {}
        BodyKind::Length(n) => assert!(n > 0 && head.has_length),
        BodyKind::Chunked => assert!(head.has_length),
    }
    let early = parse(&input[..head.len - 1], limits);
    assert!(
        matches!(early, Ok(None)),
        "the head cut one byte short gives {early:?}, the whole head parses"
    );
    Some(format!("{head:?}"))
}

fuzz_target!(|data: &[u8]| {
    let default = check(data, &HttpLimits::default());
    if let Some(tight) = check(data, &tight()) {
        assert_eq!(
            Some(tight),
            default,
            "accepted under tight limits but not the same under the defaults"
        );
    }
});
