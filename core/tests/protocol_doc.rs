//! Keeps `PROTOCOL.md` and the code in step: every opcode, status code and
//! field type of the protocol itself is in the page's tables with the same
//! value and name, and the page lists nothing the code lacks. (authd's own
//! are on `authd/wire/PROTOCOL.md`, checked by that crate.)

use throng_core::proto::{FieldType, Opcode, Status};
use throng_testkit::doc_table::codes;

const DOC: &str = include_str!("../PROTOCOL.md");

#[test]
fn the_opcode_table_matches_the_code() {
    assert_eq!(codes(DOC, "## Opcodes"), Opcode::rows());
}

#[test]
fn the_status_table_matches_the_code() {
    assert_eq!(codes(DOC, "## Status codes"), Status::rows());
}

#[test]
fn the_field_table_matches_the_code() {
    let code: Vec<(u8, String)> = FieldType::ALL
        .iter()
        .map(|t| (*t as u8, t.name().to_owned()))
        .collect();
    assert_eq!(codes(DOC, "## Fields"), code);
}
