//! Keeps `webd/API.md` true: its endpoint table is the code's
//! `api::ENDPOINTS`, and its error table lists every authd status with the
//! HTTP status `api::http_status` gives it.

use throng_core::proto::Status;
use webd::api;

fn rows(heading: &str) -> Vec<Vec<String>> {
    let doc = include_str!("../API.md");
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?}"));
    doc[start + heading.len()..]
        .lines()
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
