//! Account security through the real stack (webd and authd in this
//! process, on the private MariaDB and Redis): what an attacker over HTTP
//! can do to other people's accounts. Clients speak from addresses of their
//! own on the loopback network (127.0.0.2, 127.0.0.3), as distinct hosts.

mod common;

use common::Stack;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

const PW: &str = "hunter2-hunter2";

/// POSTs JSON to `path` from source address `from`: the status and body.
fn post_from(from: IpAddr, web: SocketAddr, path: &str, body: Value) -> (u16, Value) {
    common::post_json_from(from, web, path, "", body)
}

/// One address failing TryLogin again and again, with invented usernames,
/// is limited itself, and locks nobody else out: a user at another address
/// still gets in with the right password. (TryLogin used to carry no
/// client address, so every failure landed in one bucket for all.)
#[test]
fn one_address_cannot_lock_everyone_out_of_trylogin() {
    let stack = Stack::start("lockout");
    let authd = stack.authd.as_ref().unwrap().addrs()[0];
    let mut c = throng_testkit::BlockingClient::connect_with_key(authd, common::CALLER_KEY);
    c.call(&authd_wire::ops::SignUp {
        username: "victim".into(),
        nickname: "V".into(),
        password: PW.into(),
        ip: String::new(),
    })
    .unwrap();
    let mut r = stack.stores.redis();
    // A node that accepts connections: authd checks before handing it out.
    let node = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let _: () = redis::pipe()
        .sadd(format!("{}massd:nodes", stack.stores.prefix), "n1")
        .set_ex(
            format!("{}massd:node:n1", stack.stores.prefix),
            format!("127.0.0.1 {} 5", node.local_addr().unwrap().port()),
            60,
        )
        .query(&mut r)
        .unwrap();
    let attacker: IpAddr = "127.0.0.2".parse().unwrap();
    let victim: IpAddr = "127.0.0.3".parse().unwrap();
    let web = stack.web;
    let mut limited = 0;
    for i in 0..150 {
        let body = json!({ "username": format!("invented{i}"), "password": "guess-guess" });
        let (status, v) = post_from(attacker, web, "/trylogin_server", body);
        match status {
            401 => {}
            429 => limited += 1,
            other => panic!("attempt {i}: {other} {v}"),
        }
    }
    assert!(
        limited >= 40,
        "the attacking address is limited itself (ip_failures 100): {limited} of 150"
    );
    let (status, v) = post_from(
        victim,
        web,
        "/trylogin_server",
        json!({ "username": "victim", "password": PW }),
    );
    assert_eq!(status, 200, "the victim at another address: {v}");
    let (status, _) = post_from(
        attacker,
        web,
        "/trylogin_server",
        json!({ "username": "victim", "password": PW }),
    );
    assert_eq!(status, 429, "the attacking address stays limited");
}

/// Registers `username` with `email` through the API (code from the outbox).
fn register(stack: &Stack, username: &str, email: &str) {
    let me: IpAddr = "127.0.0.4".parse().unwrap();
    let mails = stack.stores.outbox().mails_to(email);
    let (status, v) = post_from(
        me,
        stack.web,
        "/get_verification",
        json!({ "email": email }),
    );
    assert_eq!(status, 200, "{v}");
    let code = stack.last_code(email, mails + 1);
    let body = json!({ "username": username, "password": PW, "email": email, "code": code });
    let (status, v) = post_from(me, stack.web, "/post_registration", body);
    assert_eq!(status, 200, "{v}");
}

/// A password reset can only change the account whose stored address
/// received the reset code. An attacker owning an address that MariaDB's
/// collation holds equal to the victim's (an accent, `ß` for `ss`) gets a
/// sign-up code mailed to it and tries to reset the victim's password with
/// it: refused, and the victim's password still works.
#[test]
fn a_reset_code_for_a_look_alike_address_takes_over_nothing() {
    let stack = Stack::start("takeover");
    let attacker: IpAddr = "127.0.0.5".parse().unwrap();
    let authd = stack.authd.as_ref().unwrap().addrs()[0];
    for (victim, look_alike) in [
        ("victim@example.com", "victím@example.com"),
        ("strasse@example.com", "straße@example.com"),
    ] {
        let name = victim.split('@').next().unwrap();
        register(&stack, name, victim);
        let (status, v) = post_from(
            attacker,
            stack.web,
            "/get_verification",
            json!({ "email": look_alike }),
        );
        assert_eq!(status, 200, "{v}");
        // The attacker reads the mailbox of the look-alike address.
        let code = stack.last_code(look_alike, 1);
        let (status, v) = post_from(
            attacker,
            stack.web,
            "/reset_password",
            json!({ "email": look_alike, "code": code, "password": "attacker-owns-it" }),
        );
        assert_ne!(status, 200, "{look_alike} reset {victim}'s password: {v}");
        // Asking for a reset of the victim's account by the look-alike
        // mails nothing to the look-alike.
        let before = stack.stores.outbox().mails_to(look_alike);
        let (status, _) = post_from(
            attacker,
            stack.web,
            "/check_accountexists",
            json!({ "username": name, "email": look_alike }),
        );
        assert_eq!(status, 200);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(stack.stores.outbox().mails_to(look_alike), before);
        let mut c = throng_testkit::BlockingClient::connect_with_key(authd, common::CALLER_KEY);
        let signed_in = c.call(&authd_wire::ops::SignIn {
            username: name.into(),
            password: PW.into(),
            ip: "127.0.0.4".into(),
            agent: "test".into(),
            device: String::new(),
            referrer: String::new(),
            link: Default::default(),
        });
        assert!(signed_in.is_ok(), "{victim}'s own password: {signed_in:?}");
    }
}

/// GET `path` with the session cookie `token`: the status and Location.
fn get_with_session(web: SocketAddr, path: &str, token: &str) -> (u16, Option<String>) {
    let mut s = TcpStream::connect(web).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\nCookie: throng_session={token}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let location = text
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .map(str::to_owned);
    (text[9..12].parse().unwrap(), location)
}

/// A password reset ends every session of the account: a session a thief
/// holds (a stolen cookie) stops working the moment the owner resets.
#[test]
fn a_password_reset_ends_a_stolen_session() {
    let stack = Stack::start("stolen");
    let email = "owner@example.com";
    register(&stack, "owner", email);
    let authd = stack.authd.as_ref().unwrap().addrs()[0];
    let mut c = throng_testkit::BlockingClient::connect_with_key(authd, common::CALLER_KEY);
    let sign_in = authd_wire::ops::SignIn {
        username: "owner".into(),
        password: PW.into(),
        ip: "127.0.0.6".into(),
        agent: "thief".into(),
        device: String::new(),
        referrer: String::new(),
        link: Default::default(),
    };
    let stolen = c.call(&sign_in).unwrap().token.0;
    let own = c.call(&sign_in).unwrap().token.0;
    assert_eq!(get_with_session(stack.web, "/home", &stolen).0, 200);

    let owner: IpAddr = "127.0.0.7".parse().unwrap();
    let mails = stack.stores.outbox().mails_to(email);
    let body = json!({ "username": "owner", "email": email });
    assert_eq!(
        post_from(owner, stack.web, "/check_accountexists", body).0,
        200
    );
    let code = stack.last_code(email, mails + 1);
    let body = json!({ "email": email, "code": code, "password": "a-new-password-1" });
    let (status, v) = post_from(owner, stack.web, "/reset_password", body);
    assert_eq!(status, 200, "{v}");

    for token in [&stolen, &own] {
        assert_eq!(
            get_with_session(stack.web, "/home", token),
            (303, Some("/login".to_owned())),
            "a session from before the reset"
        );
    }
}

/// A PNG of `side` × `side` pixels.
fn png(side: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(side, side, image::Rgb([200, 40, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Files under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                1
            }
        })
        .sum()
}

/// An upload with an invented session cookie is refused before the
/// picture is decoded or stored, even with the CSRF token that session
/// would have (made here with the test key, which an attacker does not
/// have; so only the session check stands in the way): nothing reaches
/// the disk without an account.
#[test]
fn an_upload_without_an_account_stores_nothing() {
    let stack = Stack::start("upload");
    let session = "r.0123456789abcdef0123456789abcdef";
    let csrf = webd::pages::csrf::CsrfKey::new(common::CSRF_KEY)
        .unwrap()
        .token(webd::pages::csrf::Holder::Session(session));
    let boundary = "----throngattack";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"x.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png(300));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    for _ in 0..3 {
        let mut s = TcpStream::connect(stack.web).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let head = format!(
            "POST /edit/avatar HTTP/1.1\r\nHost: t\r\n\
             Cookie: throng_session={session}\r\n\
             Content-Type: multipart/form-data; boundary={boundary}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with("HTTP/1.1 303") && text.contains("Location: /login"),
            "{text}"
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let stored = files_under(&stack.stores.dir.path().join("avatars"));
    assert_eq!(stored, 0, "files written for a session authd does not know");
}

/// Log-out clears the session cookie only once authd has ended the
/// session: with Redis (where `r.` sessions live) unreachable, authd cannot,
/// and the page says so instead of pretending the person is signed out.
#[test]
fn logout_keeps_the_cookie_when_the_session_could_not_be_ended() {
    let stack = Stack::start_with_redis("logout", Some("redis://127.0.0.1:1/"));
    let session = "r.0123456789abcdef0123456789abcdef";
    // The token webd gives this session's pages.
    let csrf = webd::pages::csrf::CsrfKey::new(common::CSRF_KEY)
        .unwrap()
        .token(webd::pages::csrf::Holder::Session(session));
    let form = format!("csrf={csrf}");
    let mut s = TcpStream::connect(stack.web).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST /logout HTTP/1.1\r\nHost: t\r\n\
         Cookie: throng_session={session}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{form}",
        form.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(
        !text.contains("Set-Cookie: throng_session="),
        "the cookie was cleared over a session still alive: {text}"
    );
}
