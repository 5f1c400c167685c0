//! The fleet under failure and at its limits: a server killed mid-run (the
//! clients count the losses, reconnect when it is back and carry on with
//! the others meanwhile), processes whose share of connections exceeds
//! their open-file limit (they refuse, naming the fix), and the memory an
//! idle connection costs the server.

mod common;

use common::*;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn a_killed_server_costs_reconnects_and_nothing_else() {
    let mut fleet = Fleet::new(3, "client_num_per_host = 20\nupdate_intervals = 20");
    let ports: Vec<String> = fleet.ports.iter().map(|p| p.to_string()).collect();
    let victim = fleet.serve(&["--port", &ports[0], "--index", "0"]);
    fleet.serve(&["--port", &ports[1], "--index", "1"]);
    fleet.serve(&["--port", &ports[2], "--index", "2"]);
    let client = fleet
        .cmd("client", &["--duration", "5", "--json", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    fleet.child(victim).kill().unwrap();
    fleet.child(victim).wait().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    fleet.serve(&["--port", &ports[0], "--index", "0"]);
    let out = client.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(&out);
    assert_eq!(s["connections"], 60);
    assert_eq!(
        (s["lost"].as_u64(), s["doubled"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    assert_eq!(s["disconnects"], 20, "every link to the killed server: {s}");
    assert_eq!(s["reconnects"], 20, "all came back: {s}");
    // 40 links kept updating every 20 ms through the outage.
    assert!(s["updates"].as_u64().unwrap() > 40 * 50 * 4, "{s}");
}

fn with_nofile(fleet: &Fleet, limit: u32, args: &str) -> std::process::Output {
    let exe = env!("CARGO_BIN_EXE_massd");
    let script = format!(
        "ulimit -n {limit} && exec {exe} {args} --config {}",
        fleet.config().display()
    );
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap()
}

#[test]
fn a_share_beyond_the_fd_limit_is_refused_with_the_fix() {
    let fleet = Fleet::new(2, "client_num_per_host = 1000\n[client]\nprocesses = 1");
    let out = with_nofile(&fleet, 1024, "serve");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("share of 2000 connections"), "{text}");
    assert!(text.contains("RLIMIT_NOFILE is 1024"), "{text}");
    assert!(
        text.contains("server.processes_per_port to at least 3"),
        "{text}"
    );
    assert!(text.contains("tune apply --profile mass"), "{text}");

    let out = with_nofile(&fleet, 1024, "client --share 0/1 --duration 1");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("client.processes to at least 3"), "{text}");
}

/// RSS of the server, from its stats line.
fn server_rss(fleet: &Fleet) -> (u64, f64) {
    let stats = fleet.ctl(0, &["stats"]);
    let row: Vec<&str> = stats.lines().nth(1).unwrap().split_whitespace().collect();
    (row[3].parse().unwrap(), row[5].parse().unwrap())
}

#[test]
fn an_idle_connection_costs_the_server_under_a_kibibyte() {
    // One hour between updates: the connections sit idle once open.
    let mut fleet = Fleet::new(1, "client_num_per_host = 10000\nupdate_intervals = 3600000");
    fleet.serve(&[]);
    let (_, before) = server_rss(&fleet);
    let mut client = fleet
        .cmd("client", &["--duration", "60", "--quiet"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let all_up = eventually(Duration::from_secs(30), || server_rss(&fleet).0 == 10_000);
    let (conns, after) = server_rss(&fleet);
    client.kill().unwrap();
    client.wait().unwrap();
    assert!(all_up, "only {conns} connections came up");
    let per_connection = (after - before) * 1_048_576.0 / 10_000.0;
    eprintln!("server RSS {before:.1} MiB -> {after:.1} MiB: {per_connection:.0} bytes per idle connection");
    assert!(
        per_connection < 1024.0,
        "{per_connection:.0} bytes per idle connection"
    );
}
