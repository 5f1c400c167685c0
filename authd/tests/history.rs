//! An account's history through a real authd: its sign-ins and open
//! sessions (`security_overview`), ending one of its own sessions and no
//! one else's (`end_session`), warnings on unusual sign-ins (a new device,
//! a new country, impossible travel — regions from a GeoIP2 database made
//! for the test) with their mail, and the analysis the record writer rolls
//! up (`admin_insight`).

mod common;

use authd_wire::ops::*;
use authd_wire::{Refusal, Status};
use common::*;
use std::time::Duration;
use throng_testkit::eventually;
use throng_testkit::geoip::{LYON, PARIS, TOKYO};

const PW: &str = "hunter2hunter2";

fn sign_in(
    c: &mut Client,
    user: &str,
    password: &str,
    ip: &str,
    device: &str,
) -> Result<SignedIn, Refusal> {
    c.call(&SignIn {
        username: user.into(),
        password: password.into(),
        ip: ip.into(),
        agent: "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0".into(),
        device: device.into(),
        referrer: "https://news.example/story?id=7".into(),
        link: Default::default(),
    })
}

fn overview(c: &mut Client, token: &str) -> History {
    c.call(&SecurityOverview {
        token: token.into(),
    })
    .unwrap()
}

#[test]
fn sessions_are_listed_and_ended_by_their_owner_only() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    c.sign_up("alice", "Alice", PW).unwrap();
    c.sign_up("bob", "Bob", PW).unwrap();
    let first = sign_in(&mut c, "alice", PW, "10.0.0.1", "dev-a")
        .unwrap()
        .token
        .0;
    let second = sign_in(&mut c, "alice", PW, "10.0.0.2", "dev-b")
        .unwrap()
        .token
        .0;
    assert_eq!(
        sign_in(&mut c, "alice", "not-her-password", "10.0.0.3", "").status(),
        Status::BadCredentials
    );
    let bob = c.token("bob", PW);

    // The index is written off the request path: it shows within a flush.
    assert!(eventually(Duration::from_secs(5), || overview(
        &mut c, &second
    )
    .sessions
    .len()
        == 2));
    let h = overview(&mut c, &second);
    assert_eq!(h.sessions.iter().filter(|s| s.current).count(), 1);
    let current = h.sessions.iter().find(|s| s.current).unwrap();
    assert_eq!(current.ip, "10.0.0.2");
    assert_eq!(
        (current.browser.as_str(), current.platform.as_str()),
        ("Firefox 121", "Linux")
    );
    let other = h.sessions.iter().find(|s| !s.current).unwrap().id;
    let results: Vec<&str> = h.sign_ins.iter().map(|s| s.result.as_str()).collect();
    assert_eq!(results, vec!["bad_password", "ok", "ok"], "newest first");

    // Bob cannot end Alice's session, nor learn that it exists.
    let bobs_try = c.call(&EndSession {
        token: bob.as_str().into(),
        session: other,
    });
    assert_eq!(bobs_try.status(), Status::NotFound);
    assert!(c.validate(&first).is_ok());
    // Alice can: that session is over, this one lives.
    c.call(&EndSession {
        token: second.as_str().into(),
        session: other,
    })
    .unwrap();
    assert_eq!(c.validate(&first).status(), Status::NoSession);
    assert!(c.validate(&second).is_ok());
    assert!(eventually(Duration::from_secs(5), || overview(
        &mut c, &second
    )
    .sessions
    .len()
        == 1));

    // Log-out everywhere closes the index too: the analysis counts the
    // sessions as ended, with their lengths.
    c.call(&LogoutEverywhere {
        token: second.as_str().into(),
    })
    .unwrap();
    let mut db = stores.mysql();
    use mysql::prelude::Queryable;
    assert!(eventually(Duration::from_secs(5), || {
        let open: u64 = db
            .query_first("SELECT COUNT(*) FROM session_index WHERE ended_at IS NULL AND user_id = (SELECT id FROM users WHERE username = 'alice')")
            .unwrap()
            .unwrap();
        open == 0
    }));
    let reasons: Vec<String> = db
        .query("SELECT end_reason FROM session_index ORDER BY id")
        .unwrap();
    assert_eq!(
        reasons,
        vec!["ended", "everywhere", ""],
        "alice's two, then bob's"
    );
    // The analysis sums are added a moment later (records.rollup_every).
    assert!(eventually(Duration::from_secs(5), || {
        let ended: Option<u64> = db
            .query_first("SELECT CAST(SUM(sessions) AS UNSIGNED) FROM insight_session_hour")
            .unwrap()
            .flatten();
        ended == Some(2)
    }));
}

#[test]
fn unusual_sign_ins_warn_and_mail_the_owner() {
    let stores = stores();
    let geoip = throng_testkit::geoip::database(stores.dir.path());
    let setting = format!("security.geoip={:?}", geoip.display().to_string());
    let authd = Authd::start(&stores, None, &["--set", &setting]);
    let mut c = authd.client();
    // An account with an address, made through a code.
    let email = "alice@example.com";
    c.call(&RequestCode {
        email: email.into(),
        ip: String::new(),
    })
    .unwrap();
    let outbox = stores.outbox();
    outbox.wait_for_mails(email, 1);
    let code = outbox.codes_to(email).pop().unwrap();
    c.call(&Register {
        username: "alice".into(),
        password: PW.into(),
        email: email.into(),
        code: code.as_str().into(),
        ip: String::new(),
    })
    .unwrap();

    // The first sign-in has nothing to compare with.
    let w = |r: Result<SignedIn, Refusal>| r.unwrap().warnings;
    assert_eq!(w(sign_in(&mut c, "alice", PW, PARIS, "laptop")), 0);
    // The same device from the same city: nothing.
    assert_eq!(w(sign_in(&mut c, "alice", PW, "192.0.2.77", "laptop")), 0);
    // A new device in a known place.
    assert_eq!(
        w(sign_in(&mut c, "alice", PW, PARIS, "phone")),
        warnings::NEW_DEVICE
    );
    // Lyon a moment later: a known country, but 390 km in a minute at most.
    assert_eq!(
        w(sign_in(&mut c, "alice", PW, LYON, "phone")),
        warnings::IMPOSSIBLE_TRAVEL
    );
    // Tokyo a moment after Lyon: a new country, and 9,700 km at once.
    assert_eq!(
        w(sign_in(&mut c, "alice", PW, TOKYO, "phone")),
        warnings::NEW_REGION | warnings::IMPOSSIBLE_TRAVEL
    );
    // Tokyo again: nothing new, and no trip.
    assert_eq!(w(sign_in(&mut c, "alice", PW, TOKYO, "phone")), 0);

    assert!(eventually(Duration::from_secs(5), || outbox
        .notices_to(email)
        .iter()
        .filter(|p| *p == "unusual sign-in")
        .count()
        == 3));
    let text = std::fs::read_to_string(stores.outbox_path()).unwrap();
    assert!(text.contains("Tokyo, JP") && text.contains(TOKYO), "{text}");
    assert!(!text.contains(PW));

    // The history carries the places and the warnings.
    let token = sign_in(&mut c, "alice", PW, TOKYO, "phone")
        .unwrap()
        .token
        .0;
    assert!(eventually(Duration::from_secs(5), || overview(
        &mut c, &token
    )
    .sign_ins
    .len()
        >= 6));
    let h = overview(&mut c, &token);
    let tokyo = h
        .sign_ins
        .iter()
        .find(|s| s.warnings != 0 && s.country == "JP")
        .unwrap();
    assert_eq!(tokyo.city, "Tokyo");
    assert!(h.sessions.iter().any(|s| s.current && s.country == "JP"));
}

#[test]
fn the_analysis_counts_attempts_addresses_and_signs_of_stuffing() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    c.sign_up("boss", "Boss", PW).unwrap();
    c.sign_up("alice", "Alice", PW).unwrap();
    admin(&stores, &["grant", "boss", "admin"]);
    let boss = c.token("boss", PW);
    // One address trying six usernames: a sign of credential stuffing.
    for name in ["ann", "ben", "cat", "dan", "eve", "fay"] {
        let _ = sign_in(&mut c, name, "guess-guess-1", "192.0.2.66", "");
    }
    // One username from six addresses.
    for i in 1..=6 {
        let _ = sign_in(&mut c, "alice", "guess-guess-2", &format!("10.9.0.{i}"), "");
    }
    sign_in(&mut c, "alice", PW, "10.9.0.1", "d").unwrap();
    let insight = |c: &mut Client| {
        c.call(&AdminInsight {
            actor: Actor {
                token: boss.as_str().into(),
                ip: "10.0.0.9".into(),
            },
            hours: 24,
            hour: 0,
        })
        .unwrap()
    };
    assert!(eventually(Duration::from_secs(5), || insight(&mut c)
        .usernames
        .iter()
        .any(|u| u.username == "alice" && u.attempts == 7)));
    let i = insight(&mut c);
    let alice = i.usernames.iter().find(|u| u.username == "alice").unwrap();
    assert_eq!((alice.successes, alice.addresses), (1, 6));
    let stuffer = &i.failing_addresses[0];
    assert_eq!(
        (stuffer.ip.as_str(), stuffer.failures, stuffer.usernames),
        ("192.0.2.66", 6, 6)
    );
    assert!(i.stuffing_addresses.iter().any(|a| a.ip == "192.0.2.66"));
    assert!(i
        .stuffed_usernames
        .iter()
        .any(|u| u.username == "alice" && u.addresses == 6));
    let firefox = i
        .dimensions
        .iter()
        .find(|d| d.dimension == "browser" && d.value == "Firefox");
    assert_eq!(firefox.map(|d| d.signins), Some(1));
    assert!(i
        .dimensions
        .iter()
        .any(|d| d.dimension == "referrer" && d.value == "https://news.example"));
    let hour = i.by_hour.last().unwrap();
    assert_eq!(
        (hour.attempts, hour.successes),
        (14, 2),
        "boss's, the guesses, alice's"
    );
}

#[test]
fn a_client_that_never_keeps_its_device_cookie_cannot_grow_the_device_list() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    let user = c.sign_up("alice", "Alice", PW).unwrap().user;
    for i in 0..40 {
        let w = sign_in(&mut c, "alice", PW, "10.0.0.1", &format!("device-{i}"))
            .unwrap()
            .warnings;
        assert_eq!(
            w,
            if i == 0 { 0 } else { warnings::NEW_DEVICE },
            "sign-in {i}"
        );
    }
    let mut r = stores.redis();
    let key = format!("{}dev:{}", stores.prefix, hex::encode(user));
    let n: u64 = redis::cmd("ZCARD").arg(&key).query(&mut r).unwrap();
    assert_eq!(n, 32);
    // The latest are the ones kept: the last device is known, the first is not.
    assert_eq!(
        sign_in(&mut c, "alice", PW, "10.0.0.1", "device-39")
            .unwrap()
            .warnings,
        0
    );
    assert_eq!(
        sign_in(&mut c, "alice", PW, "10.0.0.1", "device-0")
            .unwrap()
            .warnings,
        warnings::NEW_DEVICE
    );
}
