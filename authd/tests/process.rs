//! authd as a real process: it starts, answers the core protocol, and on
//! SIGTERM drains and exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use throng_core::proto::{self, Header, Opcode, Status};

/// Starts authd on an ephemeral port with `extra` flags; returns it with the
/// bound address (read from its log) and the log lines before that.
fn start_with(extra: &[&str]) -> (Child, SocketAddr, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args(["--listen", "127.0.0.1:0", "--threads", "2"])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut log = Vec::new();
    let addr = loop {
        let line = lines
            .next()
            .expect("authd exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split(' ').next().unwrap().parse().unwrap();
        }
        log.push(line);
    };
    std::thread::spawn(move || for _ in lines {});
    (child, addr, log)
}

fn start() -> (Child, SocketAddr) {
    let (child, addr, _) = start_with(&[]);
    (child, addr)
}

#[test]
fn the_self_check_names_the_fix_when_the_fd_limit_is_short() {
    let hard = throng_core::rlimit::nofile().unwrap().hard;
    let wanted = hard + 10_000;
    let (mut child, _, log) = start_with(&["--set", &format!("reactor.max_connections={wanted}")]);
    child.kill().unwrap();
    child.wait().unwrap();
    let warnings: Vec<&String> = log.iter().filter(|l| l.contains("self-check:")).collect();
    assert_eq!(warnings.len(), 1, "{log:?}");
    let w = warnings[0];
    assert!(w.contains("WARN") && w.contains("RLIMIT_NOFILE"), "{w}");
    assert!(w.contains("tune apply --profile auth"), "{w}");
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn answers_ping_and_exits_zero_on_sigterm() {
    let (mut child, addr) = start();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = Vec::new();
    proto::encode_empty(&mut req, Header::request(Opcode::Ping as u8, 11));
    proto::encode_empty(&mut req, Header::request(0x10, 12));
    s.write_all(&req).unwrap();
    let mut buf = [0u8; 2 * proto::HEADER_LEN];
    s.read_exact(&mut buf).unwrap();
    let (first, used) = proto::decode(&buf, 1024).unwrap().unwrap();
    assert_eq!(
        (first.header.request_id, first.header.status),
        (11, Status::Ok as u8)
    );
    let (second, _) = proto::decode(&buf[used..], 1024).unwrap().unwrap();
    assert_eq!(
        second.header.status,
        Status::UnknownOpcode as u8,
        "no account operation yet"
    );

    let started = Instant::now();
    sigterm(&child);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "authd did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
    let mut rest = [0u8; 1];
    assert_eq!(
        s.read(&mut rest).unwrap_or(0),
        0,
        "connection closed on shutdown"
    );
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
