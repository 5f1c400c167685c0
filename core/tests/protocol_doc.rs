//! Keeps `PROTOCOL.md` and the code in step: every opcode, status code and
//! field type in the code is in the page's tables with the same value and
//! name, and the page lists nothing the code lacks.

use throng_core::proto::{FieldType, Opcode, Status};

/// Rows `(value, name)` of the markdown table under `heading`: the first
/// two cells, with backticks removed and hex or decimal values parsed.
fn table(heading: &str) -> Vec<(u8, String)> {
    let doc = include_str!("../PROTOCOL.md");
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in PROTOCOL.md"));
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in doc[start + heading.len()..].lines() {
        let line = line.trim();
        if line.starts_with("## ") {
            break;
        }
        if !line.starts_with('|') {
            if in_table {
                break;
            }
            continue;
        }
        in_table = true;
        let cells: Vec<&str> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`'))
            .collect();
        let raw = cells[0];
        let value = if let Some(hex) = raw.strip_prefix("0x") {
            u8::from_str_radix(hex, 16).ok()
        } else {
            raw.parse::<u8>().ok()
        };
        if let Some(value) = value {
            rows.push((value, cells[1].to_owned()));
        }
    }
    rows
}

#[test]
fn the_opcode_table_matches_the_code() {
    let doc = table("## Opcodes");
    let code: Vec<(u8, String)> = Opcode::ALL
        .iter()
        .map(|o| (*o as u8, o.name().to_owned()))
        .collect();
    assert_eq!(doc, code);
}

#[test]
fn the_status_table_matches_the_code() {
    let doc = table("## Status codes");
    let code: Vec<(u8, String)> = Status::ALL
        .iter()
        .map(|s| (*s as u8, s.name().to_owned()))
        .collect();
    assert_eq!(doc, code);
}

#[test]
fn the_field_table_matches_the_code() {
    let doc = table("## Fields");
    let code: Vec<(u8, String)> = FieldType::ALL
        .iter()
        .map(|t| (*t as u8, t.name().to_owned()))
        .collect();
    assert_eq!(doc, code);
}
