//! authd as `make up` runs it against Redis: as the `authd` ACL user of
//! `deploy/redis.sh` (keys under `throng:` only, no admin or dangerous
//! command). Every path that touches Redis must work within those rights;
//! and the `massd` user must not reach authd's keys.

mod common;

use authd_wire::ops::{CheckAccount, Register, RequestCode, ResetPassword};
use authd_wire::Status;
use common::{stores, Authd, Ended};

const PW: &str = "hunter2-hunter2";

fn acl_url(user: &str) -> String {
    let name = format!("THRONG_TEST_REDIS_{}_URL", user.to_uppercase());
    std::env::var(&name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests with `make test`"))
}

#[test]
fn authd_works_as_its_own_redis_user_and_massd_cannot_read_its_keys() {
    let stores = stores();
    let prefix = format!("throng:acltest{}:", std::process::id());
    let url = acl_url("authd");
    let authd = Authd::start(
        &stores,
        Some(&url),
        &["--set", &format!("redis.prefix=\"{prefix}\"")],
    );
    let mut c = authd.client();
    let email = "acl@example.com";
    c.call(&RequestCode {
        email: email.into(),
        ip: "192.0.2.1".into(),
    })
    .unwrap();
    let outbox = stores.outbox();
    let code = outbox.last_code(email);
    c.call(&Register {
        username: "acl".into(),
        password: PW.into(),
        email: email.into(),
        code: code.as_str().into(),
        ip: "192.0.2.1".into(),
    })
    .unwrap();
    let token = c.token("acl", PW);
    assert!(token.starts_with("r."), "a Redis session: {token}");
    c.token("acl", PW);
    c.validate(&token).unwrap();
    assert_eq!(
        c.sign_in("acl", "wrong-password").status(),
        Status::BadCredentials
    );
    c.call(&CheckAccount {
        username: "acl".into(),
        email: email.into(),
        ip: "192.0.2.1".into(),
    })
    .unwrap();
    outbox.wait_for_mails(email, 2);
    let reset_code = outbox.last_code(email);
    c.call(&ResetPassword {
        email: email.into(),
        code: reset_code.as_str().into(),
        password: "another-password-1".into(),
        ip: "192.0.2.1".into(),
    })
    .unwrap();
    assert_eq!(c.validate(&token).status(), Status::NoSession);
    assert_eq!(c.sign_in("acl", "another-password-1").status(), Status::Ok);

    // massd's user reaches none of it.
    let mut massd = redis::Client::open(acl_url("massd"))
        .unwrap()
        .get_connection()
        .unwrap();
    let read: redis::RedisResult<Option<String>> = redis::cmd("GET")
        .arg(format!("{prefix}u:n:acl"))
        .query(&mut massd);
    assert!(read.is_err(), "massd read a cached user: {read:?}");
    let forged: redis::RedisResult<()> = redis::cmd("SET")
        .arg(format!("{prefix}s:forged"))
        .arg("1:00:0")
        .query(&mut massd);
    assert!(forged.is_err(), "massd wrote a session key");

    // Clean up what the test wrote outside its stores' prefix.
    let mut admin = stores.redis();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut admin)
        .unwrap();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL").arg(&keys).query(&mut admin).unwrap();
    }
}
