//! Keeps `webd/API.md` true: its endpoint table is the code's
//! `api::ENDPOINTS`, and its error table lists every authd status with the
//! HTTP status `api::http_status` gives it.

use authd_wire::Status;
use webd::api;

fn rows(heading: &str) -> Vec<Vec<String>> {
    throng_testkit::doc_table::rows(include_str!("../API.md"), heading)
}

fn list(cell: &str) -> Vec<String> {
    cell.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn the_endpoint_table_is_the_code() {
    let doc: Vec<(String, String, Vec<String>, Vec<String>)> = rows("## Endpoints")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), list(&r[2]), list(&r[3])))
        .collect();
    let code: Vec<(String, String, Vec<String>, Vec<String>)> = api::ENDPOINTS
        .iter()
        .map(|e| {
            (
                e.path.to_owned(),
                e.opcode.name().to_owned(),
                e.fields.iter().map(|f| f.to_string()).collect(),
                e.answer.iter().map(|f| f.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(doc, code);
}

#[test]
fn the_error_table_is_the_code() {
    let doc: Vec<(u8, String, u16)> = rows("## Error codes")
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone(), r[2].parse().unwrap()))
        .collect();
    let code: Vec<(u8, String, u16)> = Status::ALL
        .iter()
        .map(|s| (*s as u8, s.name().to_owned(), api::http_status(*s)))
        .collect();
    assert_eq!(doc, code);
}
