//! The counting contract over real processes and sockets: 1,000
//! connections × 100 UPDATEs lose nothing, and the server's dump holds
//! exactly what the clients counted.

mod common;

use common::*;

#[test]
fn a_thousand_connections_times_a_hundred_updates_lose_nothing() {
    // 334 clients × 3 ports = 1,002 connections.
    let mut fleet = Fleet::new(3, "client_num_per_host = 334\nupdate_intervals = 0");
    fleet.serve(&[]);
    let record = fleet.path("record.txt");
    let out = fleet.run(
        "client",
        &[
            "--updates",
            "100",
            "--json",
            "--quiet",
            "--record",
            record.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(&out);
    assert_eq!(s["connections"], 1002);
    assert_eq!(s["updates"], 100_200);
    assert_eq!(
        (s["lost"].as_u64(), s["doubled"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(s["errors"], 0);

    let dump = fleet.path("dump.txt");
    let said = fleet.ctl(0, &["dump", "--out", dump.to_str().unwrap()]);
    assert!(said.contains("wrote 1002 entries"), "{said}");
    let mut from_server: Vec<String> = read(&dump)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            format!("{} {} {}", f[0], f[1], f[2])
        })
        .collect();
    from_server.sort();
    let mut from_clients: Vec<String> = read(&record).lines().map(str::to_owned).collect();
    from_clients.sort();
    assert_eq!(from_clients.len(), 1002);
    assert!(from_clients.iter().all(|l| l.ends_with(" 100")));
    assert_eq!(from_server, from_clients);
}
