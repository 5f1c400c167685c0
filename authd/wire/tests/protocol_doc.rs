//! Keeps `authd/wire/PROTOCOL.md` and the code in step: every authd
//! opcode and status is on the page with the same value and name, the page
//! lists nothing the code lacks, every operation has its row of statuses,
//! and the protocol's own statuses are those of `throng-core`.

use authd_wire::{Opcode, Status};
use throng_testkit::doc_table::{codes, rows};

const DOC: &str = include_str!("../PROTOCOL.md");

#[test]
fn the_opcode_table_matches_the_code() {
    assert_eq!(codes(DOC, "## Opcodes"), Opcode::rows());
}

#[test]
fn the_status_table_matches_the_code() {
    let code: Vec<(u8, String)> = Status::ALL
        .iter()
        .filter(|s| !s.is_protocol())
        .map(|s| (u8::from(*s), s.name().to_owned()))
        .collect();
    assert_eq!(codes(DOC, "## Status codes"), code);
}

#[test]
fn every_operation_lists_its_statuses() {
    let listed: Vec<String> = rows(DOC, "## Statuses of each operation")
        .into_iter()
        .map(|r| {
            for name in r[1].split(',').map(str::trim) {
                assert!(
                    Status::ALL.iter().any(|s| s.name() == name),
                    "{}: no status {name:?}",
                    r[0]
                );
            }
            r[0].clone()
        })
        .collect();
    let code: Vec<String> = Opcode::ALL.iter().map(|o| o.name().to_owned()).collect();
    assert_eq!(listed, code);
}

#[test]
fn the_protocol_statuses_are_the_cores() {
    for s in throng_core::proto::Status::ALL {
        let ours = Status::from_protocol(*s);
        assert_eq!((u8::from(ours), ours.name()), (*s as u8, s.name()));
    }
    let ours = Status::ALL.iter().filter(|s| s.is_protocol()).count();
    assert_eq!(ours, throng_core::proto::Status::ALL.len());
}
