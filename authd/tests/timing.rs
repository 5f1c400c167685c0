//! What timing tells an attacker, through a real authd on the real stores.
//! A test binary of its own, so that no other test's argon2 load runs
//! beside the measurement (the tests of one binary run in parallel).

mod common;

use authd_wire::Status;
use common::{stores, Authd, Ended};
use std::time::{Duration, Instant};

const PW: &str = "hunter2-hunter2";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A wrong password for a real account and any password for an unknown
/// username take the same time: both are one argon2 verification (the
/// unknown one against a decoy), so timing tells nobody which usernames
/// exist. With the default argon2 parameters, as in production.
#[test]
fn unknown_users_take_as_long_as_wrong_passwords() {
    let stores = stores();
    let authd = Authd::start(
        &stores,
        None,
        &[
            "--set",
            "argon2.memory_kib=19456",
            "--set",
            "argon2.iterations=2",
            "--set",
            "limits.account_failures=1000",
            "--set",
            "limits.ip_failures=1000",
        ],
    );
    let mut c = authd.client();
    assert_eq!(c.sign_up("realuser", "Real", PW).status(), Status::Ok);
    let mut timed = |username: &str| {
        let started = Instant::now();
        let status = c.sign_in(username, "not-the-password").status();
        assert_eq!(status, Status::BadCredentials, "{username}");
        started.elapsed()
    };
    // Warm both paths once (the user's cache entry, the pool's threads).
    timed("realuser");
    timed("ghost0");
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for i in 1..=15 {
        wrong.push(timed("realuser"));
        unknown.push(timed(&format!("ghost{i}")));
    }
    let (wrong, unknown) = (median(wrong), median(unknown));
    eprintln!("median refusal: wrong password {wrong:?}, unknown username {unknown:?}");
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (0.5..=2.0).contains(&ratio),
        "an unknown username is refused in {unknown:?}, a wrong password in {wrong:?}"
    );
}
