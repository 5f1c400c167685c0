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

/// A fleet of two client processes, the second started two seconds after
/// the first: with `--fleet-dir` the first holds from when both are up, not
/// from its own ramp, and with `--updates-after-ramp` it sends nothing
/// while it waits.
#[test]
fn the_hold_counts_from_when_the_whole_fleet_is_up() {
    let mut fleet = Fleet::new(1, "client_num_per_host = 20\nupdate_intervals = 100");
    fleet.serve(&[]);
    let dir = fleet.path("fleet");
    std::fs::create_dir_all(&dir).unwrap();
    let args = |share: &'static str| {
        vec![
            "--share".to_owned(),
            share.to_owned(),
            "--hold".to_owned(),
            "1".to_owned(),
            "--duration".to_owned(),
            "30".to_owned(),
            "--fleet-dir".to_owned(),
            dir.to_str().unwrap().to_owned(),
            "--updates-after-ramp".to_owned(),
            "--json".to_owned(),
            "--quiet".to_owned(),
        ]
    };
    let first = fleet
        .cmd("client", &[])
        .args(args("0/2"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let second = fleet.cmd("client", &[]).args(args("1/2")).output().unwrap();
    let first = first.wait_with_output().unwrap();
    for out in [&first, &second] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (a, b) = (summary(&first), summary(&second));
    // The first was up at once but saw the fleet up only with the second.
    assert!(a["ramp_s"].as_f64().unwrap() < 1.5, "{a}");
    assert!(a["fleet_up_s"].as_f64().unwrap() >= 1.5, "{a}");
    for s in [&a, &b] {
        assert!(s["held_together_s"].as_f64().unwrap() >= 1.0, "{s}");
        assert_eq!(s["held_min"], 10, "{s}");
        assert_eq!(
            (s["lost"].as_u64(), s["doubled"].as_u64()),
            (Some(0), Some(0))
        );
    }
    // Ten connections at one UPDATE a tenth of a second for about a second
    // after the fleet was up: about 100, not the 300 of updating while the
    // first waited too.
    let updates = a["updates"].as_u64().unwrap();
    assert!((20..200).contains(&updates), "{a}");
}
