//! Cookie headers as the pages read them: `webd::pages::RequestCookies`,
//! parsed once per request (the `cookie` crate's `split_parse` over
//! `Head::cookie`).
//!
//! The fuzz bytes are the value of a `Cookie` header in a GET head parsed
//! with `head::parse`; inputs that do not make a head (a CR or LF in them,
//! say) are skipped. Invariant besides "never panics": a cookie value found
//! is a piece of the header as sent, and holds no `;`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use webd::http::head::parse;
use webd::http::HttpLimits;
use webd::pages::RequestCookies;

fuzz_target!(|data: &[u8]| {
    let mut raw = b"GET / HTTP/1.1\r\nHost: a\r\nCookie: ".to_vec();
    raw.extend_from_slice(data);
    raw.extend_from_slice(b"\r\n\r\n");
    let Ok(Some(head)) = parse(&raw, &HttpLimits::default()) else {
        return;
    };
    let header = head.cookie.map(String::from_utf8_lossy).unwrap_or_default();
    let plain = RequestCookies::parse(&head, false);
    let prefixed = RequestCookies::parse(&head, true);
    let values = [plain.session, plain.pre_session, prefixed.session, prefixed.pre_session];
    for value in values.into_iter().flatten() {
        assert!(!value.contains(';'), "cookie value {value:?} holds a ';'");
        assert!(
            header.contains(&value),
            "cookie value {value:?} is not in {header:?}"
        );
    }
});
