//! Account security through a real authd on the real stores: what an
//! attacker learns or changes by trying.

mod common;

use authd_wire::Status;
use common::{stores, Authd, Ended};
use std::time::Duration;

const PW: &str = "hunter2-hunter2";

/// Guesses sent at once cannot all slip past the account's limit: each is
/// counted before argon2 verifies it, so no more than the limit are ever
/// verified in a window.
#[test]
fn concurrent_guesses_are_counted_before_they_are_verified() {
    let stores = stores();
    let authd = Authd::start(
        &stores,
        None,
        &[
            "--set",
            "limits.account_failures=5",
            "--set",
            "limits.ip_failures=1000",
        ],
    );
    authd.client().sign_up("target", "T", PW).unwrap();
    let addr = authd.addr;
    let guesses: Vec<_> = (0..24)
        .map(|i| {
            std::thread::spawn(move || {
                common::Client::connect(addr)
                    .sign_in("target", &format!("guess-number-{i}"))
                    .status()
            })
        })
        .collect();
    let statuses: Vec<Status> = guesses.into_iter().map(|t| t.join().unwrap()).collect();
    let refused = statuses
        .iter()
        .filter(|s| **s == Status::TooManyAttempts)
        .count();
    assert!(refused >= 19, "only {refused} of 24 refused: {statuses:?}");
    assert!(authd.stop().success());
    use mysql::prelude::Queryable;
    let verified: Option<u64> = stores
        .mysql()
        .query_first("SELECT COUNT(*) FROM login_records WHERE result = 'bad_password'")
        .unwrap();
    assert!(
        verified.unwrap() <= 5,
        "{verified:?} guesses reached argon2, the limit is 5"
    );
}

fn sign_in_from(c: &mut common::Client, username: &str, password: &str, ip: &str) -> Status {
    c.call(&authd_wire::ops::SignIn {
        username: username.into(),
        password: password.into(),
        ip: ip.into(),
        agent: "test-agent/1.0".into(),
        device: String::new(),
        referrer: String::new(),
        link: Default::default(),
    })
    .status()
}

/// Guesses from anywhere lock an account against the rest of the world,
/// never against an address its owner signed in from: the owner's right
/// password from there still works (warm or after the fast verifier is
/// gone), a new address gets `too_many_attempts`, and the known address's
/// own limit still holds. (A success clears the account's failures, as
/// before.)
#[test]
fn guesses_from_elsewhere_do_not_lock_the_owner_out() {
    let stores = stores();
    let authd = Authd::start(
        &stores,
        None,
        &[
            "--set",
            "limits.account_failures=3",
            "--set",
            "limits.ip_failures=6",
        ],
    );
    let mut c = authd.client();
    c.sign_up("owner", "O", PW).unwrap();
    let home = "192.0.2.44";
    assert_eq!(sign_in_from(&mut c, "owner", PW, home), Status::Ok);
    for i in 0..5 {
        let guess = sign_in_from(
            &mut c,
            "owner",
            "not-the-password",
            &format!("198.51.100.{i}"),
        );
        assert!(
            matches!(guess, Status::BadCredentials | Status::TooManyAttempts),
            "{guess:?}"
        );
    }
    assert_eq!(
        sign_in_from(&mut c, "owner", PW, "203.0.113.9"),
        Status::TooManyAttempts,
        "locked for a new address"
    );
    assert_eq!(
        sign_in_from(&mut c, "owner", PW, home),
        Status::Ok,
        "warm, from home"
    );
    let mut r = stores.redis();
    let _: () = redis::cmd("DEL")
        .arg(format!("{}fv:owner", stores.prefix))
        .query(&mut r)
        .unwrap();
    // The owner's sign-in cleared the account's failures: lock it again.
    for i in 0..4 {
        sign_in_from(
            &mut c,
            "owner",
            "not-the-password",
            &format!("198.51.100.{}", 20 + i),
        );
    }
    assert_eq!(
        sign_in_from(&mut c, "owner", PW, "203.0.113.10"),
        Status::TooManyAttempts
    );
    assert_eq!(
        sign_in_from(&mut c, "owner", PW, home),
        Status::Ok,
        "cold, from home"
    );
    // From the owner's own address a guesser (behind the same NAT, say)
    // still gets only the account's limit (3), not the address's (6).
    for _ in 0..4 {
        sign_in_from(&mut c, "owner", "not-the-password", home);
    }
    assert_eq!(
        sign_in_from(&mut c, "owner", PW, home),
        Status::TooManyAttempts,
        "the home address's failures on this account"
    );
}

/// With Redis unreachable the limits hold in the process: the fourth wrong
/// password of an account with a limit of three is refused as
/// `too_many_attempts`, not verified.
#[test]
fn the_limits_hold_while_redis_is_down() {
    let stores = stores();
    let authd = Authd::start(
        &stores,
        Some("redis://127.0.0.1:1/"),
        &["--set", "limits.account_failures=3"],
    );
    let mut c = authd.client();
    assert_eq!(c.sign_up("offline", "O", PW).status(), Status::Ok);
    for _ in 0..3 {
        assert_eq!(
            c.sign_in("offline", "wrong-password").status(),
            Status::BadCredentials
        );
    }
    let limited = c.sign_in("offline", "wrong-password").unwrap_err();
    assert_eq!(limited.status, Status::TooManyAttempts);
    assert!(limited.retry_after_secs().is_some_and(|s| s > 0));
}

/// A session has an absolute end: sliding it (every validation does) does
/// not keep it alive past `sessions.max_age`.
#[test]
fn a_session_ends_at_its_max_age_however_often_it_slides() {
    let stores = stores();
    let authd = Authd::start(
        &stores,
        None,
        &[
            "--set",
            "sessions.max_age=\"2s\"",
            "--set",
            "sessions.ttl=\"1h\"",
        ],
    );
    let mut c = authd.client();
    c.sign_up("slider", "S", PW).unwrap();
    let token = c.token("slider", PW);
    for _ in 0..3 {
        assert_eq!(c.validate(&token).status(), Status::Ok);
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(c.validate(&token).status(), Status::NoSession);
}

/// The outbox holds codes: only authd's own user may read it.
#[test]
fn the_outbox_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let asked = authd.client().call(&authd_wire::ops::RequestCode {
        email: "mode@example.com".into(),
        ip: String::new(),
    });
    assert_eq!(asked.status(), Status::Ok);
    stores.outbox().wait_for_mails("mode@example.com", 1);
    let mode = std::fs::metadata(stores.outbox_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "outbox mode {:o}", mode & 0o777);
}

/// A copy of Redis (a dump, a replica, its password) yields no argon2
/// hash, no e-mail address and no pending code: the user cache keeps a
/// fingerprint of the hash and no address, and codes are kept under a
/// keyed hash of the address, as a keyed hash of the code. Before, the
/// cached user carried both, and codes sat in clear under the address.
#[test]
fn redis_keeps_no_password_hash_address_or_code() {
    use authd_wire::ops::{Register, RequestCode};
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    let email = "carla.secret@example.com";
    c.call(&RequestCode {
        email: email.into(),
        ip: String::new(),
    })
    .unwrap();
    let outbox = stores.outbox();
    let code = outbox.last_code(email);
    c.call(&Register {
        username: "carla".into(),
        password: PW.into(),
        email: email.into(),
        code: code.as_str().into(),
        ip: String::new(),
    })
    .unwrap();
    // A pending code of another address, and a cold then a warm sign-in
    // (which cache the user and its fast verifier).
    c.call(&RequestCode {
        email: "pending.one@example.com".into(),
        ip: String::new(),
    })
    .unwrap();
    let pending = outbox.last_code("pending.one@example.com");
    let token = c.token("carla", PW);
    c.token("carla", PW);
    c.validate(&token).unwrap();

    let mut r = stores.redis();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", stores.prefix))
        .query(&mut r)
        .unwrap();
    assert!(
        keys.iter().any(|k| k.contains("u:n:")),
        "the user is cached: {keys:?}"
    );
    let mut seen = String::new();
    for key in &keys {
        let kind: String = redis::cmd("TYPE").arg(key).query(&mut r).unwrap();
        let values: Vec<String> = match kind.as_str() {
            "string" => vec![redis::cmd("GET").arg(key).query(&mut r).unwrap()],
            "hash" => redis::cmd("HGETALL").arg(key).query(&mut r).unwrap(),
            "set" => redis::cmd("SMEMBERS").arg(key).query(&mut r).unwrap(),
            _ => Vec::new(),
        };
        seen.push_str(&format!("{key} = {values:?}\n"));
    }
    for secret in [
        "$argon2",
        "carla.secret",
        "example.com",
        "pending.one",
        &pending,
    ] {
        assert!(!seen.contains(secret), "Redis holds {secret:?}:\n{seen}");
    }
}

/// A session is bound to the password it was made with: once the account
/// has another one, the session ends, even without the reset's mark. This
/// is what ends a session that a sign-in with the old password made while
/// a reset was running (queued for argon2 during it, say), which the mark,
/// set before that session existed, cannot see.
#[test]
fn a_session_made_with_a_replaced_password_ends() {
    use mysql::prelude::Queryable;
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    let user = c.sign_up("racer", "R", PW).unwrap().user;
    let token = c.token("racer", PW);
    assert!(c.validate(&token).is_ok());
    // The password changes underneath, as a reset's write does, with the
    // cache cleared as the reset clears it, but no session mark.
    stores
        .mysql()
        .exec_drop(
            "UPDATE users SET pwhash = '$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$aGFzaA' WHERE username = 'racer'",
            (),
        )
        .unwrap();
    let mut r = stores.redis();
    let _: () = redis::cmd("DEL")
        .arg(format!("{}u:n:racer", stores.prefix))
        .arg(format!("{}u:i:{}", stores.prefix, hex::encode(user)))
        .query(&mut r)
        .unwrap();
    assert_eq!(
        c.validate(&token).status(),
        Status::NoSession,
        "a session of the old password"
    );
}

/// A burst of right passwords from one address (a NAT, a front without
/// proxy support) may meet the address limit while they are being
/// verified, but the ones refused are not left counted: once the burst is
/// verified the address signs in again at once, instead of staying locked
/// for the whole window as if every refused attempt had been a failure.
#[test]
fn a_burst_of_right_passwords_does_not_lock_its_address() {
    let stores = stores();
    let authd = Authd::start(
        &stores,
        None,
        &[
            "--set",
            "limits.ip_failures=5",
            "--set",
            "argon2.verifier_ttl=\"0s\"",
        ],
    );
    let mut c = authd.client();
    for i in 0..30 {
        c.sign_up(&format!("burst{i}"), "B", PW).unwrap();
    }
    let addr = authd.addr;
    let burst: Vec<_> = (0..30)
        .map(|i| {
            std::thread::spawn(move || {
                sign_in_from(
                    &mut common::Client::connect(addr),
                    &format!("burst{i}"),
                    PW,
                    "192.0.2.80",
                )
            })
        })
        .collect();
    let statuses: Vec<Status> = burst.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        statuses
            .iter()
            .all(|s| matches!(s, Status::Ok | Status::TooManyAttempts)),
        "{statuses:?}"
    );
    for i in 0..3 {
        assert_eq!(
            sign_in_from(&mut c, &format!("burst{i}"), PW, "192.0.2.80"),
            Status::Ok,
            "after the burst: {statuses:?}"
        );
    }
}
