//! Property tests of the HTTP parsing: any bytes give a head, "need more"
//! or a typed error, never a panic; a valid request parses the same however
//! it is split.

use proptest::prelude::*;
use webd::http::body::BodyDecoder;
use webd::http::head::{self, BodyKind};
use webd::http::HttpLimits;

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let limits = HttpLimits::default();
        let _ = head::parse(&bytes, &limits);
        for kind in [BodyKind::Chunked, BodyKind::Length(10)] {
            let mut decoder = BodyDecoder::new(kind, 4096, 1024).unwrap();
            let mut out = Vec::new();
            if let Ok(feed) = decoder.feed(&bytes, &mut out) {
                prop_assert!(feed.consumed <= bytes.len() && out.len() <= 4096);
            }
        }
    }

    #[test]
    fn random_text_heads_never_panic(text in "[A-Za-z0-9 :/\\r\\n.-]{0,400}") {
        let _ = head::parse(text.as_bytes(), &HttpLimits::default());
    }

    #[test]
    fn a_request_parses_the_same_at_any_split(
        path in "/[a-z0-9/]{0,30}",
        body in proptest::collection::vec(any::<u8>(), 0..200),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut raw = format!("POST {path} HTTP/1.1\r\nHost: h\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        raw.extend_from_slice(&body);
        let limits = HttpLimits::default();
        let cut = cut.index(raw.len() + 1);
        let whole = head::parse(&raw, &limits).unwrap().unwrap();
        prop_assert_eq!(whole.path, path.as_str());
        match head::parse(&raw[..cut], &limits).unwrap() {
            None => prop_assert!(cut < whole.len),
            Some(h) => {
                prop_assert_eq!(h.len, whole.len);
                let mut decoder = BodyDecoder::new(h.body, 4096, 1024).unwrap();
                let mut got = Vec::new();
                let feed = decoder.feed(&raw[h.len..cut], &mut got).unwrap();
                prop_assert_eq!(feed.consumed, cut - h.len);
                if cut == raw.len() {
                    prop_assert!(feed.done, "whole body incomplete");
                    prop_assert_eq!(&got[..], &body[..]);
                } else if !body.is_empty() {
                    prop_assert!(!feed.done);
                }
            }
        }
    }
}
