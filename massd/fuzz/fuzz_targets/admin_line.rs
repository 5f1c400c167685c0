//! One line of massd's admin endpoint: `massd::server::admin::parse_request`,
//! everything a client's bytes reach before the admin token is checked
//! (the line limit and the JSON decode of an `AdminRequest`).
//!
//! `serve` reads lines with `read_line`, which refuses bytes that are not
//! UTF-8 before they get here, so such inputs are skipped. Invariants: a line
//! over `MAX_REQUEST_LINE` is always refused; a request that parses
//! serialises back to JSON that parses to the same request.

#![no_main]

use libfuzzer_sys::fuzz_target;
use massd::admin_wire::{AdminRequest, MAX_REQUEST_LINE};
use massd::server::admin::parse_request;

fn same(a: &AdminRequest, b: &AdminRequest) -> bool {
    (a.token.as_str(), a.cmd.as_str(), a.offset, a.limit)
        == (b.token.as_str(), b.cmd.as_str(), b.offset, b.limit)
}

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    match parse_request(line) {
        Err(error) => assert!(!error.is_empty()),
        Ok(request) => {
            assert!(
                line.len() <= MAX_REQUEST_LINE,
                "an over-long line was accepted"
            );
            let json = serde_json::to_string(&request).expect("a request serialises");
            if json.len() <= MAX_REQUEST_LINE {
                let back = parse_request(&json).expect("its own JSON parses");
                assert!(same(&request, &back), "{request:?} came back as {back:?}");
            }
        }
    }
});
