//! Keeps `massd/PROTOCOL.md` and `massd/src/proto.rs` in step: every op and
//! status in the page's tables exists in the code with that number and
//! name, and every one in the code is in the page.

use massd::proto::{Op, Status};

use throng_testkit::doc_table::rows as table_rows;

#[test]
fn the_op_table_matches_the_code() {
    let doc = include_str!("../PROTOCOL.md");
    let rows = table_rows(doc, "## Operations");
    assert_eq!(rows.len(), 4);
    for row in rows {
        let code = u8::from_str_radix(row[0].trim_start_matches("0x"), 16).unwrap();
        let op = Op::from_u8(code).unwrap_or_else(|| panic!("op {code:#x} missing in code"));
        assert_eq!(format!("{op:?}").to_lowercase(), row[1], "op {code:#x}");
    }
}

#[test]
fn the_status_table_matches_the_code() {
    let doc = include_str!("../PROTOCOL.md");
    let rows = table_rows(doc, "## Statuses");
    let mut seen = 0;
    for row in rows {
        let code: u8 = row[0].parse().unwrap();
        let status = Status::from_u8(code).unwrap_or_else(|| panic!("status {code} missing"));
        assert_eq!(status.name(), row[1]);
        seen += 1;
    }
    assert_eq!(seen, 7);
    assert!(
        Status::from_u8(7).is_none(),
        "a status in code but not on the page"
    );
    assert_eq!(
        massd::proto::DEFAULT_MAX_FRAME,
        512,
        "the page names the default"
    );
}
