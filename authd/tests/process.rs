//! authd as a real process: it starts on the real stores, answers, logs one
//! self-check warning when its fd limit is short, refuses a bad config
//! clearly, and on SIGTERM drains and exits 0.

mod common;

use authd_wire::Status;
use common::{stores, Authd, Ended};
use std::io::Read;
use std::process::Command;

#[test]
fn answers_and_exits_zero_on_sigterm() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    assert_eq!(c.ping(), Status::Ok);
    assert_eq!(
        c.sign_in("nobody", "whatever-pw").status(),
        Status::BadCredentials
    );
    let mut raw = std::net::TcpStream::connect(authd.addr).unwrap();
    let status = authd.stop();
    assert!(status.success(), "exit status {status:?}");
    let mut rest = [0u8; 1];
    assert_eq!(
        raw.read(&mut rest).unwrap_or(0),
        0,
        "connection closed on shutdown"
    );
}

#[test]
fn the_self_check_names_the_fix_when_the_fd_limit_is_short() {
    let stores = stores();
    let hard = throng_core::rlimit::nofile().unwrap().hard;
    let set = format!("reactor.max_connections={}", hard + 10_000);
    let out = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--set",
            &set,
            "--set",
            "mysql.url=\"mysql://nobody@127.0.0.1:1/x\"",
        ])
        .env("THRONG_AUTHD_MAIL__OUTBOX", stores.outbox_path())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("self-check:")).collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(
        warnings[0].contains("WARN") && warnings[0].contains("RLIMIT_NOFILE"),
        "{log}"
    );
    assert!(warnings[0].contains("tune apply --profile auth"), "{log}");
    assert!(
        !out.status.success(),
        "no MySQL at that address: a clear failure"
    );
    assert!(log.contains("authd: mysql"), "{log}");
}

#[test]
fn a_bad_config_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args(["--set", "reactor.thredas=2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("thredas"), "{text}");
}

#[test]
fn a_redis_prefix_with_a_brace_is_refused() {
    // Keys after the prefix carry Redis Cluster hash tags.
    for prefix in ["a{b:", "x}:", "{t}:"] {
        let out = Command::new(env!("CARGO_BIN_EXE_authd"))
            .args(["--set", &format!("redis.prefix=\"{prefix}\"")])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{prefix}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("redis.prefix"), "{prefix}: {text}");
    }
}

#[test]
fn production_without_a_secret_refuses_to_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args(["--set", "production=true"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("THRONG_AUTHD_SECRET"), "{text}");
}

#[test]
fn production_refuses_the_outbox() {
    let out = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args(["--set", "production=true"])
        .env(
            "THRONG_AUTHD_SECRET",
            "a-production-secret-of-32-bytes-or-more",
        )
        .env(
            "THRONG_AUTHD_CALLER_KEY",
            "a-production-caller-key-of-32-bytes-or-more",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("mail.smtp_relay"), "{text}");
}

#[test]
fn print_config_shows_the_effective_values() {
    let out = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args(["--print-config", "--threads", "3"])
        .env("THRONG_AUTHD_REACTOR__BACKLOG", "77")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("threads = 3"), "{text}");
    assert!(text.contains("backlog = 77"), "{text}");
    assert!(text.contains("127.0.0.1:9999"), "{text}");
}

/// The config `make up` starts authd with loads.
#[test]
fn the_deploy_config_loads() {
    let out = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args(["--config", "../deploy/config/authd.toml", "--print-config"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
