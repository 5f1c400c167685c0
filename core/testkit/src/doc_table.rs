//! The rows of a markdown table under a heading, for the tests that keep a
//! page (`PROTOCOL.md`, `API.md`) and the code equal.

/// The body rows of the first table after `heading` in `doc`: each row's
/// cells, trimmed, with backticks removed. Panics when there is no such
/// heading (the page changed shape: the test should say so).
pub fn rows(doc: &str, heading: &str) -> Vec<Vec<String>> {
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in the page"));
    doc[start + heading.len()..]
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("## "))
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().replace('`', ""))
                .collect()
        })
        .collect()
}

/// `(code, name)` of each row: the first cell as a decimal or `0x` hex
/// byte, the second as is.
pub fn codes(doc: &str, heading: &str) -> Vec<(u8, String)> {
    rows(doc, heading)
        .into_iter()
        .map(|r| {
            let raw = &r[0];
            let code = match raw.strip_prefix("0x") {
                Some(hex) => u8::from_str_radix(hex, 16),
                None => raw.parse::<u8>(),
            }
            .unwrap_or_else(|_| panic!("{raw:?} is no code"));
            (code, r[1].clone())
        })
        .collect()
}
