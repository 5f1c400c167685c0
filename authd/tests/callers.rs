//! Who may call authd: only a caller that showed the caller key first
//! (`hello`, core PROTOCOL.md "Callers"). Anyone else who reaches the
//! port gets `ping` answered and nothing more: every other request,
//! `stats` included, is `unauthenticated` and ends the connection.

mod common;

use authd_wire::ops::SignUp;
use authd_wire::{encode_body, Opcode, Status};
use common::{stores, Authd, CALLER_KEY};
use std::io::Read;
use std::time::Duration;
use throng_testkit::BlockingClient;

fn sign_up_body() -> Vec<u8> {
    encode_body(&SignUp {
        username: "intruder".into(),
        nickname: "I".into(),
        password: "hunter2-hunter2".into(),
        ip: "203.0.113.1".into(),
    })
}

/// The server closed the connection within `within` (the answer before
/// was the last): end of stream or a reset, not a read timeout.
fn closed_within(c: &mut BlockingClient, within: Duration) -> bool {
    let stream = c.stream();
    stream.set_read_timeout(Some(within)).unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

fn closed(c: &mut BlockingClient) -> bool {
    closed_within(c, Duration::from_secs(5))
}

#[test]
fn only_callers_with_the_key_are_served() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);

    let mut stranger = BlockingClient::connect(authd.addr);
    assert_eq!(stranger.ping(), Status::Ok, "ping needs no key");
    let refused = stranger.call_raw(Opcode::SignUp.into(), &sign_up_body());
    assert_eq!(refused.status(), Status::Unauthenticated);
    assert!(closed(&mut stranger));

    let mut metrics = BlockingClient::connect(authd.addr);
    let stats = metrics.call_raw(throng_core::proto::Opcode::Stats.into(), &[]);
    assert_eq!(stats.status(), Status::Unauthenticated, "stats too");
    assert!(closed(&mut metrics));

    for wrong in [
        "",
        "test-caller-key",
        "test-caller-key-test-caller-key-tesT",
    ] {
        let mut guesser = BlockingClient::connect(authd.addr);
        assert_eq!(guesser.hello(wrong), Status::Unauthenticated, "{wrong:?}");
        assert!(closed(&mut guesser));
    }

    let mut webd = BlockingClient::connect_with_key(authd.addr, CALLER_KEY);
    let made = webd.call_raw(Opcode::SignUp.into(), &sign_up_body());
    assert_eq!(made.status(), Status::Ok);
    let stats = webd.call_raw(throng_core::proto::Opcode::Stats.into(), &[]);
    assert_eq!(stats.status(), Status::Ok);
    let count: Option<u64> = {
        use mysql::prelude::Queryable;
        stores
            .mysql()
            .query_first("SELECT COUNT(*) FROM users")
            .unwrap()
    };
    assert_eq!(
        count,
        Some(1),
        "only the caller with the key made an account"
    );
}

/// A stranger cannot sit on a connection slot: silent or pinging, a
/// connection that has not said `hello` is closed a few seconds after it
/// was accepted; one that has keeps its connection.
#[test]
fn connections_without_hello_are_closed_soon() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let started = std::time::Instant::now();
    let mut silent = BlockingClient::connect(authd.addr);
    let mut pinging = BlockingClient::connect(authd.addr);
    let mut ours = BlockingClient::connect_with_key(authd.addr, CALLER_KEY);
    let mut pinged = 0;
    while started.elapsed() < Duration::from_secs(3) {
        assert_eq!(pinging.ping(), Status::Ok);
        pinged += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(pinged > 5);
    assert!(
        closed_within(&mut silent, Duration::from_secs(8)),
        "the silent one"
    );
    assert!(
        closed_within(&mut pinging, Duration::from_secs(8)),
        "the pinging one"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(ours.ping(), Status::Ok, "the caller with the key stays");
}

/// In production authd does not start without a caller key.
#[test]
fn production_needs_a_caller_key() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_authd"))
        .args([
            "--set",
            "production=true",
            "--set",
            "mail.smtp_relay=\"127.0.0.1:25\"",
        ])
        .env(
            "THRONG_AUTHD_SECRET",
            "a-production-secret-of-32-bytes-or-more",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("caller_key"), "{text}");
}
