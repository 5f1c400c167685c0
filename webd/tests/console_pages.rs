//! `/security` and `/admin` over HTTP through the real stack: a user's
//! sessions listed and signed out one by one, a notice once after a
//! sign-in from a new device, every console page and form refused (403)
//! to an account without the permission and served to one with it, CSRF
//! on every form, and every value escaped.

mod common;

use common::browser::{ready, sign_up_and_log_in, Browser};
use common::Stack;
use std::time::Duration;
use throng_testkit::eventually;

const PW: &str = "hunter2-hunter2";

fn log_in(b: &mut Browser, username: &str) {
    let csrf = b.get("/login").csrf();
    let p = b.post(
        "/login",
        &[("csrf", &csrf), ("username", username), ("password", PW)],
    );
    assert_eq!((p.status, p.location()), (303, Some("/home")), "{}", p.body);
}

#[test]
fn sessions_are_listed_and_signed_out_one_by_one_and_a_new_device_is_noticed() {
    let stack = Stack::start("security_page");
    let mut laptop = Browser::new(stack.web);
    ready(&mut laptop);
    sign_up_and_log_in(&mut laptop, "alice");
    assert!(laptop.cookies.contains_key("throng_device"));
    assert!(
        !laptop.get("/home").body.contains("class=\"warning\""),
        "a first device warns of nothing"
    );

    // A second browser: a device the account has not used.
    let mut phone = Browser::new(stack.web);
    log_in(&mut phone, "alice");
    let home = phone.get("/home");
    assert!(
        home.body
            .contains("This sign-in was from a device this account had not used."),
        "{}",
        home.body
    );
    assert!(home.body.contains("href=\"/security\""));
    // Shown once.
    assert!(!phone.get("/home").body.contains("class=\"warning\""));

    assert!(eventually(Duration::from_secs(5), || laptop
        .get("/security")
        .body
        .matches("Sign out</button>")
        .count()
        == 2));
    let page = laptop.get("/security");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("this session"), "{}", page.body);
    // The phone's row: the one that is not this session.
    let rows: Vec<&str> = page.body.split("<tr>").skip(1).collect();
    let phone_row = rows
        .iter()
        .find(|r| r.contains("name=\"session\"") && !r.contains("this session"))
        .unwrap();
    let at = phone_row.find("name=\"session\" value=\"").unwrap() + 22;
    let id: String = phone_row[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();

    // Without its CSRF token nothing ends.
    let p = laptop.post("/security/end", &[("csrf", "x"), ("session", &id)]);
    assert_eq!(p.status, 403);
    assert_eq!(phone.get("/home").status, 200);
    let csrf = page.csrf();
    let p = laptop.post("/security/end", &[("csrf", &csrf), ("session", &id)]);
    assert_eq!((p.status, p.location()), (303, Some("/security?ended=1")));
    assert_eq!(phone.get("/home").location(), Some("/login"));
    assert_eq!(laptop.get("/home").status, 200);
    // Ending it again is no error; an id that is not one of hers (or
    // none at all) is not found, and said so.
    let p = laptop.post("/security/end", &[("csrf", &csrf), ("session", &id)]);
    assert_eq!(p.location(), Some("/security?ended=1"));
    let p = laptop.post(
        "/security/end",
        &[("csrf", &csrf), ("session", "987654321")],
    );
    assert_eq!(p.location(), Some("/security?ended=0"));
    let p = laptop.post("/security/end", &[("csrf", &csrf), ("session", "1; DROP")]);
    assert_eq!(p.status, 400);
}

/// Every console page (GET) and form (POST, with a valid CSRF token).
fn console_requests(b: &mut Browser, user: &str) -> Vec<(&'static str, String, u16)> {
    let csrf = b.get("/security").csrf();
    let mut out = Vec::new();
    for path in [
        "/admin".to_owned(),
        "/admin/users?q=al".to_owned(),
        format!("/admin/user?id={user}"),
        "/admin/audit".to_owned(),
        "/admin/insight".to_owned(),
        "/admin/insight.json".to_owned(),
    ] {
        let status = b.get(&path).status;
        out.push(("GET", path, status));
    }
    for (path, fields) in [
        ("/admin/lock", vec![("locked", "0")]),
        ("/admin/sessions/end", vec![("session", "0")]),
        (
            "/admin/role",
            vec![("role", "support"), ("change", "revoke")],
        ),
    ] {
        let mut pairs = vec![("csrf", csrf.as_str()), ("user", user)];
        pairs.extend(fields);
        let status = b.post(path, &pairs).status;
        out.push(("POST", path.to_owned(), status));
    }
    out
}

/// The uuid (hex) of `username`, from MySQL.
fn uuid_of(stack: &Stack, username: &str) -> String {
    use mysql::prelude::Queryable;
    let raw: Vec<u8> = stack
        .stores
        .mysql()
        .exec_first("SELECT uuid FROM users WHERE username = ?", (username,))
        .unwrap()
        .unwrap();
    hex::encode(raw)
}

#[test]
fn the_console_is_forbidden_without_permissions_and_escapes_what_it_shows() {
    let stack = Stack::start("console_pages");
    let mut alice = Browser::new(stack.web);
    ready(&mut alice);
    // A nickname that would be markup if a page forgot to escape it.
    let csrf = alice.get("/signup").csrf();
    let evil = "<img src=x onerror=alert(1)>";
    let p = alice.post(
        "/signup",
        &[
            ("csrf", &csrf),
            ("username", "alice"),
            ("nickname", evil),
            ("password", PW),
            ("password2", PW),
        ],
    );
    assert_eq!(p.status, 303);
    log_in(&mut alice, "alice");
    let target = uuid_of(&stack, "alice");
    assert!(!alice.get("/home").body.contains("href=\"/admin\""));

    for (method, what, status) in console_requests(&mut alice, &target) {
        assert_eq!(status, 403, "{method} {what} for a plain account");
    }

    let mut boss = Browser::new(stack.web);
    sign_up_and_log_in(&mut boss, "boss");
    stack.grant("boss", "admin");
    // The grant ended boss's session: privileges come with a new one.
    assert_eq!(boss.get("/home").location(), Some("/login"));
    log_in(&mut boss, "boss");
    assert!(boss.get("/home").body.contains("href=\"/admin\""));

    // A form with a wrong token changes nothing.
    let p = boss.post(
        "/admin/lock",
        &[("csrf", "nope"), ("user", &target), ("locked", "1")],
    );
    assert_eq!(p.status, 403);
    assert_eq!(alice.get("/home").status, 200);

    for (method, what, status) in console_requests(&mut boss, &target) {
        let want = if method == "POST" { 303 } else { 200 };
        assert_eq!(status, want, "{method} {what} for an admin");
    }
    let found = boss.get("/admin/users?q=alic");
    assert!(
        found.body.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "{}",
        found.body
    );
    assert!(!found.body.contains(evil));
    let page = boss.get(&format!("/admin/user?id={target}"));
    assert!(!page.body.contains(evil));
    // A console page opened from another site runs nothing in the
    // operator's name.
    let (status, _, _) = boss.exchange(
        "GET",
        "/admin/users?q=planted-by-another-site",
        "Sec-Fetch-Site: cross-site\r\n",
        None,
    );
    assert_eq!(status, 403);
    let (status, _, _) = boss.exchange("GET", "/admin", "Sec-Fetch-Site: same-origin\r\n", None);
    assert_eq!(status, 200);
    assert!(!boss
        .get("/admin/audit")
        .body
        .contains("planted-by-another-site"));
    // The search itself is in the audit log, escaped too.
    let searched = boss.get("/admin/users?q=%3Cb%3Ebold");
    assert_eq!(searched.status, 200);
    let audit = boss.get("/admin/audit");
    assert!(
        audit.body.contains("query: &#60;b&#62;bold"),
        "{}",
        audit.body
    );
    assert!(audit.body.contains("user.view"));
    let json = boss.get("/admin/insight.json?hours=1");
    let value: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(value["hours"], 1);
    assert!(value["usernames"].is_array());
}
