//! authd when things go wrong: Redis dies mid-test (sign-ins of known users
//! go on from MySQL; what needs Redis answers `unavailable`; it recovers
//! when Redis returns), and a clean shutdown under load loses no login
//! record.

mod common;

use authd_wire::ops::{ChangeNickname, RequestCode};
use authd_wire::Status;
use common::{stores, Authd, Client, Ended};

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_testkit::spawn::free_port;

const PW: &str = "hunter2-hunter2";

fn redis_on(port: u16, dir: &std::path::Path) -> Child {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (make test installs it)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn redis_dying_mid_test_leaves_sign_in_working_from_mysql() {
    let stores = stores();
    let port = free_port();
    let mut redis = redis_on(port, stores.dir.path());
    let url = format!("redis://127.0.0.1:{port}/");
    let authd = Authd::start(&stores, Some(&url), &[]);
    let mut c = authd.client();
    assert_eq!(c.sign_up("frank", "Frank", PW).status(), Status::Ok);
    let redis_token = c.token("frank", PW);
    assert!(redis_token.starts_with("r."));

    redis.kill().unwrap();
    redis.wait().unwrap();

    let during = c.sign_in("frank", PW);
    assert_eq!(during.status(), Status::Ok, "known users still sign in");
    let token = during.unwrap().token.0;
    assert!(token.starts_with("m."), "a MySQL fallback session: {token}");
    assert_eq!(c.validate(&token).status(), Status::Ok);
    assert_eq!(
        c.validate(&redis_token).status(),
        Status::Unavailable,
        "Redis sessions cannot be checked"
    );
    assert_eq!(
        c.sign_in("frank", "wrong-password").status(),
        Status::BadCredentials
    );
    assert_eq!(
        c.call(&RequestCode {
            email: "frank@example.com".into(),
            ip: String::new(),
        })
        .status(),
        Status::Unavailable,
        "codes need Redis"
    );
    assert_eq!(
        c.call(&ChangeNickname {
            token: token.as_str().into(),
            nickname: "new".into()
        })
        .status(),
        Status::Unavailable,
        "a write that cannot invalidate the cache is refused"
    );
    assert_eq!(
        c.sign_in("frank", PW).unwrap().profile.nickname,
        "Frank",
        "nothing was half-written"
    );

    let mut redis = redis_on(port, stores.dir.path());
    std::thread::sleep(Duration::from_millis(1200));
    let after = c.token("frank", PW);
    assert!(after.starts_with("r."), "back on Redis once it answers");
    assert_eq!(
        c.validate(&token).status(),
        Status::Ok,
        "fallback sessions stay valid"
    );
    redis.kill().unwrap();
    redis.wait().unwrap();
}

#[test]
fn a_clean_stop_under_load_loses_no_login_record() {
    let stores = stores();
    // Nothing is flushed on time: every record still queued must be written
    // by the shutdown.
    let authd = Authd::start(
        &stores,
        None,
        &[
            "--set",
            "records.flush_every=\"60s\"",
            "--set",
            "records.batch=100000",
            // The load's wrong passwords must not reach the per-address
            // limit: this test counts records, not refusals.
            "--set",
            "limits.ip_failures=1000000",
        ],
    );
    let mut c = authd.client();
    for i in 0..4 {
        assert_eq!(c.sign_up(&format!("load{i}"), "L", PW).status(), Status::Ok);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let addr = authd.addr;
    let load: Vec<_> = (0..4)
        .map(|i| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                let mut answered = 0u64;
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let pw = if n % 3 == 0 { "wrong-password" } else { PW };
                    let status = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        c.sign_in(&format!("load{i}"), pw).status()
                    }));
                    match status.ok() {
                        Some(Status::Ok) | Some(Status::BadCredentials) => answered += 1,
                        _ => break,
                    }
                }
                answered
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let status = authd.stop();
    stop.store(true, Ordering::Relaxed);
    assert!(status.success(), "{status:?}");
    let answered: u64 = load.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(answered > 20, "the load ran: {answered}");
    use mysql::prelude::Queryable;
    let rows: Option<u64> = stores
        .mysql()
        .query_first("SELECT COUNT(*) FROM login_records")
        .unwrap();
    assert_eq!(
        rows,
        Some(answered),
        "one record per answered sign-in, all written at shutdown"
    );
    let bad: Option<u64> = stores
        .mysql()
        .query_first("SELECT COUNT(*) FROM login_records WHERE result = 'bad_password'")
        .unwrap();
    assert!(bad.unwrap() > 0);
}
