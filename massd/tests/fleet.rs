//! The launcher and the heartbeat: `massd launch` starts every server of
//! the host and then the clients, `ctl` finds them through the state file,
//! `massd stop` ends them all; nodes announce their load in Redis and
//! disappear from it when they stop or die.

mod common;

use common::*;
use redis::Commands;
use std::time::Duration;

fn redis_url() -> String {
    std::env::var("THRONG_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("THRONG_TEST_REDIS_URL is not set: run the tests with `make test`, which starts the private Redis")
    })
}

/// The private Redis as its `massd` ACL user (`deploy/redis.sh`): only
/// keys under `throng:massd:`, only the heartbeat's commands.
fn massd_redis_url() -> String {
    std::env::var("THRONG_TEST_REDIS_MASSD_URL").unwrap_or_else(|_| {
        panic!("THRONG_TEST_REDIS_MASSD_URL is not set: run the tests with `make test`")
    })
}

#[test]
fn launch_starts_servers_then_clients_and_stop_ends_them() {
    let fleet = Fleet::new(
        2,
        "client_num_per_host = 10\nupdate_intervals = 50\n[server]\nprocesses_per_port = 2\n[client]\nprocesses = 2",
    );
    let out = fleet.run("launch", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("started 4 server and 2 client process(es)"),
        "{said}"
    );
    assert!(said.contains("logs in"), "{said}");
    let state: serde_json::Value =
        serde_json::from_str(&read(&fleet.path("run/state.json"))).unwrap();
    let pids: Vec<u64> = state["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 6);
    assert!(fleet.path("run/pids/client-1.pid").exists());

    // Every client reaches every port: 10 clients × 2 ports, over 4 servers.
    let connections = || -> u64 {
        let out = fleet.run("ctl", &["stats"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with(' ') && !l.starts_with("total"))
            .map(|l| l.split_whitespace().nth(3).unwrap().parse::<u64>().unwrap())
            .sum()
    };
    assert!(eventually(Duration::from_secs(10), || connections() == 20));

    let again = fleet.run("launch", &[]);
    assert!(!again.status.success(), "a second launch must refuse");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already running"));

    let out = fleet.run("stop", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for pid in pids {
        assert!(
            eventually(Duration::from_secs(5), || !std::path::Path::new(&format!(
                "/proc/{pid}"
            ))
            .exists()
                || read(std::path::Path::new(&format!("/proc/{pid}/stat")))
                    .contains(") Z")),
            "process {pid} still runs"
        );
    }
    assert!(!fleet.path("run/state.json").exists());
    let client_log = read(&fleet.path("run/logs/client-0.log"));
    assert!(client_log.contains("lost 0  doubled 0"), "{client_log}");
}

#[test]
fn heartbeats_appear_in_redis_and_go_when_the_node_stops_or_dies() {
    // As make up runs it: massd's own Redis user, which may write only
    // under throng:massd: (so the test prefix lives there too).
    let prefix = format!("throng:massd:test{}:", std::process::id());
    let extra = format!(
        "[heartbeat]\nredis_url = \"{}\"\nprefix = \"{prefix}\"\ninterval = \"200ms\"\nttl = \"1s\"",
        massd_redis_url()
    );
    let mut fleet = Fleet::new(1, &extra);
    let mut redis = redis::Client::open(redis_url())
        .unwrap()
        .get_connection()
        .unwrap();
    let port = fleet.ports[0];
    let node = format!("127_0_0_1-{port}");
    let key = format!("{prefix}massd:node:{node}");

    let server = fleet.serve(&[]);
    let value = |r: &mut redis::Connection| r.get::<_, Option<String>>(&key).unwrap();
    assert!(eventually(Duration::from_secs(3), || value(&mut redis)
        .as_deref()
        == Some(&format!("127.0.0.1 {port} 0")[..])));
    let members: Vec<String> = redis.smembers(format!("{prefix}massd:nodes")).unwrap();
    assert!(members.contains(&node));
    let _open: Vec<_> = (0..3)
        .map(|_| std::net::TcpStream::connect(fleet.addr(0)).unwrap())
        .collect();
    assert!(eventually(Duration::from_secs(3), || value(&mut redis)
        .as_deref()
        == Some(&format!("127.0.0.1 {port} 3")[..])));
    let ttl: i64 = redis.ttl(&key).unwrap();
    assert!((0..=1).contains(&ttl), "ttl {ttl}");

    // A graceful stop deletes the key at once.
    fleet.ctl(0, &["shutdown"]);
    fleet.child(server).wait().unwrap();
    assert_eq!(value(&mut redis), None);

    // A killed node's key expires with its TTL.
    drop(_open);
    let server = fleet.serve(&[]);
    assert!(eventually(Duration::from_secs(3), || value(&mut redis).is_some()));
    fleet.child(server).kill().unwrap();
    fleet.child(server).wait().unwrap();
    assert!(
        value(&mut redis).is_some(),
        "still there right after the kill"
    );
    assert!(eventually(Duration::from_secs(3), || value(&mut redis).is_none()));
    let _: () = redis.del(format!("{prefix}massd:nodes")).unwrap();
}

#[test]
fn a_launch_whose_admin_port_another_fleet_answers_fails_and_says_so() {
    let first = Fleet::new(1, "");
    let out = first.run("launch", &["--no-clients"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second fleet on counter ports of its own but the first's admin
    // port: its server dies on "Address already in use" while the first
    // fleet's server answers that port.
    let second = Fleet::new(1, "");
    let text = read(&second.config()).replace(
        &format!("127.0.0.1:{}", second.admin),
        &format!("127.0.0.1:{}", first.admin),
    );
    std::fs::write(second.config(), text).unwrap();
    let out = second.run("launch", &["--no-clients"]);
    let said = String::from_utf8_lossy(&out.stderr);
    let _ = first.run("stop", &[]);
    assert!(!out.status.success(), "the launch must fail: {said}");
    assert!(
        said.contains("not by the server just started") || said.contains("exited"),
        "{said}"
    );
}
