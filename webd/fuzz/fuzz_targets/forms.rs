//! Form bodies (`application/x-www-form-urlencoded`) as the pages read them.
//!
//! `webd::pages::forms` is a private module, so the typed forms are reached
//! the way a request reaches them: through `Pages::start` on a POST to
//! /signup, /login or /edit (the first byte picks which), which parses the
//! body once into its form struct and checks its CSRF token. The body is
//! `csrf=<the right token>&` (the pre-session's for /signup and /login,
//! the session's for /edit) followed by the fuzz bytes, so most inputs
//! pass the CSRF check and reach the other fields (a later `csrf=` in the
//! input still wins).
//!
//! Invariants besides "never panics":
//! - round trip: the body decoded into pairs and re-encoded with
//!   `form_urlencoded::Serializer` gives the pages exactly the same answer;
//! - escaping: with every `<` and `"` in the decoded values replaced by `x`,
//!   a rendered page has exactly as many `<` and `"` as before, so no value
//!   opens a tag or leaves an attribute.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::SocketAddr;
use webd::http::head::{parse, Head};
use webd::http::HttpLimits;
use webd::pages::csrf::{CsrfKey, Holder};
use webd::pages::{Pages, RequestCookies, Step};
use webd::route::Route;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const SESSION: &str = "s3ss10n";
const KEY: &str = "fuzz-csrf-key-fuzz-csrf-key-fuzz-csrf";
const PATHS: [&str; 3] = ["/signup", "/login", "/edit"];

fn head(path: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: a\r\nUser-Agent: fuzz\r\n\
         Cookie: throng_csrf={TOKEN}; throng_session={SESSION}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1\r\n\r\n"
    )
    .into_bytes()
}

/// What the pages answer, as something comparable.
/// The page, or the authd request with what the page then waits for.
type Answer = Result<webd::http::Response, (authd_wire::Request, String)>;

fn answer(pages: &Pages, head: &Head<'_>, body: &[u8]) -> Answer {
    let peer: SocketAddr = ([127, 0, 0, 1], 4000).into();
    let route = Route::resolve(head.path).expect("a page route");
    match pages.start(route, head, peer, body, &RequestCookies::parse(head, false)) {
        Step::Now(r) => Ok(r),
        Step::Call { request, then } => Err((request, format!("{then:?}"))),
    }
}

fn encode(pairs: &[(String, String)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

fn count(r: &webd::http::Response, b: u8) -> usize {
    r.body.iter().filter(|&&c| c == b).count()
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, form)) = data.split_first() else {
        return;
    };
    let path = PATHS[usize::from(first) % PATHS.len()];
    let raw = head(path);
    let head = parse(&raw, &HttpLimits::default())
        .expect("the fixed head parses")
        .expect("the fixed head is complete");
    let csrf = CsrfKey::new(KEY).expect("a long enough key");
    let holder = match path {
        "/edit" => Holder::Session(SESSION),
        _ => Holder::PreSession(TOKEN),
    };
    let mut body = format!("csrf={}&", csrf.token(holder)).into_bytes();
    body.extend_from_slice(form);
    let pages = Pages {
        secure_cookies: false,
        csrf,
        sign_in_with: Vec::new(),
    };

    let direct = answer(&pages, &head, &body);

    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let again = answer(&pages, &head, &encode(&pairs));
    assert_eq!(direct, again, "the re-encoded form is read differently");

    if let Ok(page) = &direct {
        let defanged: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.clone(), v.replace(['<', '"'], "x")))
            .collect();
        if let Ok(plain) = answer(&pages, &head, &encode(&defanged)) {
            for b in [b'<', b'"'] {
                assert_eq!(
                    count(page, b),
                    count(&plain, b),
                    "a form value's {:?} reached the page unescaped",
                    b as char
                );
            }
        }
    }
});
