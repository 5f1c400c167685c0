//! authd's operations end to end over the protocol, on real MariaDB and
//! Redis: success and failure paths, concurrency, the cache, the code flow
//! through the outbox, rate limits, and TryLogin's node choice.

mod common;

use common::{Authd, Stores, SECRET};
use throng_core::proto::{Field, Opcode, Status};

const PW: &str = "hunter2-hunter2";

#[test]
fn sign_up_sign_in_profile_and_log_out() {
    let stores = Stores::new();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();

    let made = c.sign_up("Alice", "小明 🐱", PW);
    assert_eq!(made.status(), Status::Ok);
    let uuid = made.uuid(0);
    assert_eq!(
        c.sign_up("alice", "other", PW).status(),
        Status::Taken,
        "names are unique regardless of case"
    );

    let signed = c.sign_in("alice", PW);
    assert_eq!(signed.status(), Status::Ok);
    let token = signed.str(0);
    assert!(token.starts_with("r."), "a Redis session");
    assert_eq!(signed.uuid(1), uuid);
    assert_eq!(signed.str(3), "小明 🐱");
    let again = c.sign_in("alice", PW).str(0);
    assert_ne!(token, again, "every sign-in gets a new token");

    let v = c.validate(&token);
    assert_eq!(v.status(), Status::Ok);
    assert_eq!(
        (v.uuid(0), v.str(1), v.str(2)),
        (uuid, "Alice".to_string(), "小明 🐱".to_string())
    );
    assert_eq!(v.fields()[3], Field::Null, "no avatar yet");

    let looked = c.call(Opcode::Lookup, |w| {
        w.uuid(uuid);
    });
    assert_eq!(looked.status(), Status::Ok);
    assert_eq!(looked.str(0), "Alice");
    assert_eq!(
        c.call(Opcode::Lookup, |w| {
            w.uuid([9; 16]);
        })
        .status(),
        Status::NotFound
    );

    let nick = "Ünïcødé 漢字 🚀";
    assert_eq!(
        c.call(Opcode::ChangeNickname, |w| {
            w.str(&token).str(nick);
        })
        .status(),
        Status::Ok
    );
    assert_eq!(
        c.sign_in("alice", PW).str(3),
        nick,
        "the cache was invalidated"
    );
    let photo = "ab".repeat(32);
    assert_eq!(
        c.call(Opcode::ChangeAvatar, |w| {
            w.str(&token).str(&photo);
        })
        .status(),
        Status::Ok
    );
    assert_eq!(c.validate(&token).str(3), photo);
    assert_eq!(
        c.call(Opcode::ChangeAvatar, |w| {
            w.str(&token).str("../../etc/passwd");
        })
        .status(),
        Status::InvalidPhotoId
    );

    assert_eq!(
        c.call(Opcode::Logout, |w| {
            w.str(&token);
        })
        .status(),
        Status::Ok
    );
    assert_eq!(c.validate(&token).status(), Status::NoSession);
    assert_eq!(
        c.validate("r.0123456789abcdef0123456789abcdef").status(),
        Status::NoSession
    );
    assert_eq!(c.validate("garbage").status(), Status::NoSession);
    assert_eq!(
        c.call(Opcode::ChangeNickname, |w| {
            w.str(&token).str("x");
        })
        .status(),
        Status::NoSession
    );
}

#[test]
fn bad_input_gets_its_own_status() {
    let stores = Stores::new();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    assert_eq!(
        c.sign_up("bad name", "n", PW).status(),
        Status::InvalidUsername
    );
    assert_eq!(
        c.sign_up("ok", "bell\u{7}", PW).status(),
        Status::InvalidNickname
    );
    assert_eq!(
        c.sign_up("ok", "n", "short").status(),
        Status::InvalidPassword
    );
    assert_eq!(
        c.sign_up("ok", &"猫".repeat(65), PW).status(),
        Status::InvalidNickname
    );
    let wrong_type = c.call(Opcode::SignUp, |w| {
        w.u32(1);
    });
    assert_eq!(wrong_type.status(), Status::Malformed);
    assert_eq!(c.sign_in("ok", PW).status(), Status::BadCredentials);
    assert_eq!(c.sign_up("ok", "n", PW).status(), Status::Ok);
    assert_eq!(
        c.sign_in("ok", "wrong-password").status(),
        Status::BadCredentials
    );
    assert_eq!(c.sign_in("ok", PW).status(), Status::Ok);
}

#[test]
fn concurrent_sign_ups_of_one_name_make_exactly_one_account() {
    let stores = Stores::new();
    let authd = Authd::start(&stores, None, &[]);
    let addr = authd.addr;
    let threads: Vec<_> = (0..16)
        .map(|i| {
            std::thread::spawn(move || {
                common::Client::connect(addr)
                    .sign_up("race", &format!("n{i}"), PW)
                    .status()
            })
        })
        .collect();
    let results: Vec<Status> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|s| **s == Status::Ok).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .all(|s| matches!(s, Status::Ok | Status::Taken)),
        "{results:?}"
    );
    use mysql::prelude::Queryable;
    let rows: Option<u64> = stores
        .mysql()
        .query_first("SELECT COUNT(*) FROM users WHERE username = 'race'")
        .unwrap();
    assert_eq!(rows, Some(1));
}

#[test]
fn codes_register_and_reset_through_the_outbox() {
    let stores = Stores::new();
    let authd = Authd::start(&stores, None, &["--set", "codes.max_tries=5"]);
    let mut c = authd.client();
    let email = "bob@example.com";
    let asked = c.call(Opcode::RequestCode, |w| {
        w.str(email);
    });
    assert_eq!(asked.status(), Status::Ok);
    assert_eq!(asked.fields()[0], Field::U32(300));
    let code = stores.last_code(email);
    let register = |c: &mut common::Client, code: &str| {
        c.call(Opcode::Register, |w| {
            w.str("bob").str(PW).str(email).str(code);
        })
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = register(&mut c, wrong);
    assert_eq!(r.status(), Status::InvalidCode);
    assert!(r.str(0).contains("4 tries left"), "{}", r.str(0));
    assert_eq!(register(&mut c, &code).status(), Status::Ok);
    assert_eq!(
        register(&mut c, &code).status(),
        Status::InvalidCode,
        "single use"
    );
    assert_eq!(c.sign_in("bob", PW).status(), Status::Ok);

    // Reset: a username and an e-mail are never enough without the code.
    assert_eq!(
        c.call(Opcode::ResetPassword, |w| {
            w.str(email).str("123456").str("new-password-1");
        })
        .status(),
        Status::InvalidCode
    );
    // CheckAccount answers the same whether or not the pair exists, and
    // mails a code only when it does.
    let before = stores.mails_to(email);
    let yes = c.call(Opcode::CheckAccount, |w| {
        w.str("bob").str(email);
    });
    let no = c.call(Opcode::CheckAccount, |w| {
        w.str("bob").str("eve@example.com");
    });
    assert_eq!((yes.status(), yes.body.len()), (no.status(), no.body.len()));
    stores.wait_for_mails(email, before + 1);
    let reset_code = stores.last_code(email);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(stores.mails_to(email), before + 1);
    assert_eq!(stores.mails_to("eve@example.com"), 0);
    assert_eq!(
        c.call(Opcode::ResetPassword, |w| {
            w.str(email).str(&reset_code).str("new-password-1");
        })
        .status(),
        Status::Ok
    );
    assert_eq!(
        c.sign_in("bob", PW).status(),
        Status::BadCredentials,
        "the old password is gone, fast verifier too"
    );
    assert_eq!(c.sign_in("bob", "new-password-1").status(), Status::Ok);
}

#[test]
fn wrong_tries_burn_a_code_and_codes_expire_and_are_rationed() {
    let stores = Stores::new();
    let authd = Authd::start(
        &stores,
        None,
        &["--set", "codes.ttl=\"1s\"", "--set", "codes.per_hour=3"],
    );
    let mut c = authd.client();
    let email = "carol@example.com";
    let ask = |c: &mut common::Client| {
        c.call(Opcode::RequestCode, |w| {
            w.str(email);
        })
    };
    assert_eq!(ask(&mut c).status(), Status::Ok);
    let code = stores.last_code(email);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        c.call(Opcode::Register, |w| {
            w.str("carol").str(PW).str(email).str(wrong);
        });
    }
    let burned = c.call(Opcode::Register, |w| {
        w.str("carol").str(PW).str(email).str(&code);
    });
    assert_eq!(
        burned.status(),
        Status::InvalidCode,
        "five wrong tries burned the right code"
    );

    assert_eq!(ask(&mut c).status(), Status::Ok);
    stores.wait_for_mails(email, 2);
    let code = stores.last_code(email);
    std::thread::sleep(std::time::Duration::from_millis(1600));
    let expired = c.call(Opcode::Register, |w| {
        w.str("carol").str(PW).str(email).str(&code);
    });
    assert_eq!(expired.status(), Status::InvalidCode, "expired");

    assert_eq!(ask(&mut c).status(), Status::Ok);
    let rationed = ask(&mut c);
    assert_eq!(rationed.status(), Status::TooManyCodes);
    assert!(matches!(rationed.fields()[0], Field::U32(s) if s > 0 && s <= 3600));
}

#[test]
fn failures_trip_the_rate_limit_and_it_recovers() {
    let stores = Stores::new();
    let authd = Authd::start(
        &stores,
        None,
        &[
            "--set",
            "limits.account_failures=3",
            "--set",
            "limits.window=\"2s\"",
        ],
    );
    let mut c = authd.client();
    assert_eq!(c.sign_up("dave", "Dave", PW).status(), Status::Ok);
    for _ in 0..3 {
        assert_eq!(
            c.sign_in("dave", "wrong-password").status(),
            Status::BadCredentials
        );
    }
    let limited = c.sign_in("dave", PW);
    assert_eq!(
        limited.status(),
        Status::TooManyAttempts,
        "even the right password waits"
    );
    assert!(matches!(limited.fields()[0], Field::U32(s) if (1..=2).contains(&s)));
    std::thread::sleep(std::time::Duration::from_millis(2200));
    assert_eq!(c.sign_in("dave", PW).status(), Status::Ok);
}

#[test]
fn try_login_picks_the_least_loaded_live_node() {
    let stores = Stores::new();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    let uuid = c.sign_up("erin", "Erin", PW).uuid(0);
    let try_login = |c: &mut common::Client| {
        c.call(Opcode::TryLogin, |w| {
            w.str("erin").str(PW);
        })
    };
    assert_eq!(try_login(&mut c).status(), Status::NoNode);
    let mut r = stores.redis();
    let key = |id: &str| format!("{}massd:node:{id}", stores.prefix);
    let set = format!("{}massd:nodes", stores.prefix);
    let _: () = redis::pipe()
        .sadd(&set, "busy")
        .set_ex(key("busy"), "127.0.0.1 38677 900", 3)
        .sadd(&set, "idle")
        .set_ex(key("idle"), "127.0.0.1 38678 12", 3)
        .sadd(&set, "gone")
        .query(&mut r)
        .unwrap();
    let a = try_login(&mut c);
    assert_eq!(a.status(), Status::Ok);
    assert_eq!(
        (a.str(0), a.fields()[1].clone()),
        ("127.0.0.1".to_string(), Field::U32(38678))
    );
    let expires = match a.fields()[3] {
        Field::U64(e) => e,
        ref other => panic!("{other:?}"),
    };
    let checked = authd::nodes::check_token(SECRET.as_bytes(), &a.str(2), "idle", expires);
    assert_eq!(checked, Some(hex::encode(uuid)));
    let members: Vec<String> = redis::cmd("SMEMBERS").arg(&set).query(&mut r).unwrap();
    assert!(
        !members.contains(&"gone".to_string()),
        "a node without heartbeat is dropped"
    );
    let _: () = redis::cmd("DEL").arg(key("idle")).query(&mut r).unwrap();
    assert_eq!(try_login(&mut c).str(0), "127.0.0.1");
    assert_eq!(
        try_login(&mut c).fields()[1],
        Field::U32(38677),
        "the expired node is never chosen"
    );
    let wrong = c.call(Opcode::TryLogin, |w| {
        w.str("erin").str("wrong-password");
    });
    assert_eq!(wrong.status(), Status::BadCredentials);
}

#[test]
fn the_code_flows_refuse_taken_names_bad_addresses_and_unknown_accounts() {
    let stores = Stores::new();
    let authd = Authd::start(&stores, None, &[]);
    let mut c = authd.client();
    assert_eq!(
        c.call(Opcode::RequestCode, |w| {
            w.str("not an address");
        })
        .status(),
        Status::InvalidEmail
    );
    let register = |c: &mut common::Client, name: &str, email: &str| {
        let before = stores.mails_to(email);
        assert_eq!(
            c.call(Opcode::RequestCode, |w| {
                w.str(email);
            })
            .status(),
            Status::Ok
        );
        stores.wait_for_mails(email, before + 1);
        let code = stores.last_code(email);
        c.call(Opcode::Register, |w| {
            w.str(name).str(PW).str(email).str(&code);
        })
    };
    assert_eq!(c.sign_up("gina", "G", PW).status(), Status::Ok);
    assert_eq!(
        register(&mut c, "gina", "gina@example.com").status(),
        Status::Taken
    );
    assert_eq!(
        register(&mut c, "gina2", "gina@example.com").status(),
        Status::Ok
    );
    assert_eq!(
        register(&mut c, "gina3", "gina@example.com").status(),
        Status::EmailTaken
    );
    // A code for an address no account has: the reset finds nobody.
    assert_eq!(
        c.call(Opcode::RequestCode, |w| {
            w.str("nobody@example.com");
        })
        .status(),
        Status::Ok
    );
    let code = stores.last_code("nobody@example.com");
    assert_eq!(
        c.call(Opcode::ResetPassword, |w| {
            w.str("nobody@example.com").str(&code).str("new-password-1");
        })
        .status(),
        Status::NotFound
    );
}
