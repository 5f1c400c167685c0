//! The ops console against a real server process: stats, paginated dumps,
//! the effective config (secrets redacted), a wrong token, and a graceful
//! shutdown that ends the process with status 0.

mod common;

use common::*;
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn stats_dump_config_and_shutdown() {
    let mut fleet = Fleet::new(
        1,
        "client_num_per_host = 40\nupdate_intervals = 0\n[server]\nsecret = \"a-secret-that-must-never-be-printed-000\"",
    );
    let server = fleet.serve(&[]);
    let out = fleet.run("client", &["--updates", "5", "--json", "--quiet"]);
    assert!(out.status.success());

    let stats = fleet.ctl(0, &["stats"]);
    assert!(stats.contains("thread 0"), "{stats}");
    let updates: u64 = stats
        .lines()
        .filter(|l| l.trim_start().starts_with("thread"))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "updates").unwrap();
            words[at + 1].parse::<u64>().unwrap()
        })
        .sum();
    assert_eq!(updates, 200, "{stats}");
    assert!(stats.contains("rss MiB"), "{stats}");

    let page = fleet.ctl(0, &["dump", "--offset", "10", "--limit", "7"]);
    let entries: Vec<&str> = page.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(entries.len(), 7, "{page}");
    assert!(entries.iter().all(|l| l.contains(" 5 ")), "{page}");
    assert!(page.contains("# 7 of 40 entries from offset 10"), "{page}");
    let everything = fleet.ctl(0, &["dump", "--limit", "1000"]);
    let all: Vec<&str> = everything.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        &all[10..17],
        &entries[..],
        "pages are slices of one key order"
    );

    let config = fleet.ctl(0, &["config"]);
    assert!(config.contains("client_num_per_host = 40"), "{config}");
    assert!(!config.contains("must-never-be-printed"), "{config}");
    assert!(!config.contains(TOKEN), "{config}");

    let admin = fleet.admin_addr(0).to_string();
    let wrong = fleet
        .cmd(
            "ctl",
            &["--admin", &admin, "--set", "admin.token=\"wrong\"", "stats"],
        )
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("bad admin token"));

    let said = fleet.ctl(0, &["shutdown"]);
    assert!(said.contains("stopping"), "{said}");
    let child = fleet.child(server);
    assert!(eventually(Duration::from_secs(15), || matches!(
        child.try_wait(),
        Ok(Some(_))
    )));
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_interactive_prompt_answers_help_and_stats() {
    let mut fleet = Fleet::new(1, "");
    fleet.serve(&[]);
    let admin = fleet.admin_addr(0).to_string();
    let mut console = fleet
        .cmd("ctl", &["--admin", &admin])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    console
        .stdin
        .take()
        .unwrap()
        .write_all(b"help\nstats\nbogus\nquit\n")
        .unwrap();
    let out = console.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("dump --out FILE"), "{text}");
    assert!(text.contains("thread 0"), "{text}");
    assert!(text.contains("unrecognized subcommand"), "{text}");
}

/// Connections that never show the admin token hold no session: with
/// twenty silent connections and one trickling its first line a byte at a
/// time, the console still answers, and the trickler is cut off once its
/// two seconds are over. (Before, eight silent connections took all eight
/// session slots for 300 s each.)
#[test]
fn silent_connections_cannot_lock_the_console_out() {
    use std::io::Read;
    use std::net::TcpStream;
    let mut fleet = Fleet::new(1, "");
    fleet.serve(&[]);
    let admin = fleet.admin_addr(0);
    let silent: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(admin).unwrap())
        .collect();
    let mut trickler = TcpStream::connect(admin).unwrap();
    let started = std::time::Instant::now();
    let stats = fleet.ctl(0, &["stats"]);
    assert!(stats.contains("thread 0"), "{stats}");
    let mut cut = false;
    for _ in 0..40 {
        if trickler.write_all(b" ").is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !cut {
        trickler
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut rest = Vec::new();
        cut = trickler.read_to_end(&mut rest).is_ok();
    }
    assert!(cut, "a connection trickling its first line was kept");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
}

#[test]
fn without_the_token_an_endpoint_tells_its_pid_and_nothing_else() {
    use std::io::{BufRead, BufReader};
    use std::net::TcpStream;
    let mut fleet = Fleet::new(1, "");
    let i = fleet.serve(&[]);
    let pid = fleet.child(i).id();
    let ask = |cmd: &str| -> serde_json::Value {
        let mut s = TcpStream::connect(fleet.admin_addr(0)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        writeln!(s, "{{\"token\":\"\",\"cmd\":\"{cmd}\"}}").unwrap();
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    };
    let who = ask("pid");
    assert_eq!(who["ok"], true, "{who}");
    assert_eq!(who["pid"].as_u64(), Some(u64::from(pid)));
    assert_eq!(who.as_object().unwrap().len(), 2, "only ok and pid: {who}");
    for cmd in ["stats", "config", "dump", "shutdown"] {
        let refused = ask(cmd);
        assert_eq!(refused["error"], "bad admin token", "{cmd}: {refused}");
    }
}

/// The configs `make up` and the shipped scenarios start massd with load.
#[test]
fn the_deploy_and_scenario_configs_load() {
    let mut configs = vec![std::path::PathBuf::from("../deploy/config/mass.toml")];
    for entry in std::fs::read_dir("../bench/mass").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            configs.push(path);
        }
    }
    for config in configs {
        let out = massd()
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--print-config")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            config.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
