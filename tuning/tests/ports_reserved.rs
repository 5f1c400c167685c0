//! Every port a shipped Throng config, script or default listens on lies in
//! the mass profile's reserved blocks (`tuning/src/ports.rs`). The class of
//! mistake this stops: a new listener added to a config or a bench script
//! whose port the widened ephemeral range can hand to a client socket.
//!
//! Two sources of ports: each massd config (its counter ports and the admin
//! port of every server process, `admin.listen` + index), and every
//! `127.0.0.1:PORT`, `${…PORT:-N}`, `…PORT=N` or `--port N` written in the repository's configs,
//! scripts and sources outside tests.

use std::path::{Path, PathBuf};
use tuning::ports;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            // Tests bind ports of their own choosing (often 0); build output
            // and run state are not shipped.
            if !matches!(name.as_str(), "tests" | "target" | "var" | "testkit") {
                files(&path, out);
            }
        } else if [".toml", ".sh", ".rs", ".cfg", ".conf", ".py", ".yml"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}

/// Ports in `text` written as `127.0.0.1:N`, as a shell default
/// `PORT:-N}`, a shell assignment `…PORT=N` or an option `--port N`.
fn ports_in(text: &str) -> Vec<u16> {
    let mut found = Vec::new();
    for marker in ["127.0.0.1:", "PORT:-", "PORT=", "--port "] {
        let mut rest = text;
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(port) = digits.parse::<u16>() {
                // Below 1024 is never ephemeral; 0 is "any port".
                if port >= 1024 {
                    found.push(port);
                }
            }
        }
    }
    found
}

#[test]
fn every_port_written_in_the_repository_is_reserved() {
    let root = root();
    let mut all = Vec::new();
    for dir in [
        "deploy", "bench", "core", "webd", "authd", "massd", "Makefile",
    ] {
        let path = root.join(dir);
        if path.is_file() {
            all.push(path);
        } else {
            files(&path, &mut all);
        }
    }
    assert!(
        all.len() > 50,
        "found only {} files under {}",
        all.len(),
        root.display()
    );
    let mut outside = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for path in &all {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for port in ports_in(&text) {
            seen.insert(port);
            if !ports::reserved(port) {
                outside.push(format!(
                    "{}: {port}",
                    path.strip_prefix(&root).unwrap_or(path).display()
                ));
            }
        }
    }
    // The scan sees the listeners it is meant to see (webd, MariaDB, make
    // up's massd, the cluster's Galera, a bench anchor).
    for port in [9090, 13306, 38677, 24561, 17080, 19999] {
        assert!(seen.contains(&port), "the scan missed {port}: {seen:?}");
    }
    assert!(
        outside.is_empty(),
        "ports outside tuning/src/ports.rs's blocks (add a block or move the port):\n{}",
        outside.join("\n")
    );
}

#[test]
fn every_massd_config_s_counter_and_admin_ports_are_reserved() {
    let root = root();
    let mut configs = Vec::new();
    for dir in ["deploy/config", "deploy/config/cluster", "bench/mass"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if name.ends_with(".toml") && text.contains("server_port_list") {
                configs.push(e.path());
            }
        }
    }
    assert!(configs.len() >= 4, "{configs:?}");
    for path in configs {
        let config: massd::config::Config =
            throng_core::config::load("massd", Some(&path), &[]).unwrap();
        let processes =
            config.server_port_list.len() as u16 * config.server.processes_per_port as u16;
        let admin = (0..processes).map(|i| massd::topology::admin_addr(&config, i).unwrap().port());
        for port in config.server_port_list.iter().copied().chain(admin) {
            assert!(
                ports::reserved(port),
                "{}: port {port} is not in tuning/src/ports.rs's blocks",
                path.display()
            );
        }
    }
}
