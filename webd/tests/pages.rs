//! The pages through the real stack, as a browser without JavaScript uses
//! them: sign-up → log-in → home → nickname with emoji and CJK → log-out →
//! home sends back to log-in; wrong password keeps the username; a taken
//! username; a form without its CSRF token; HTML escaping.

mod common;

use common::Stack;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A tiny browser: a cookie jar and form posts.
struct Browser {
    addr: SocketAddr,
    cookies: HashMap<String, String>,
}

struct Page {
    status: u16,
    headers: String,
    body: String,
}

impl Page {
    fn location(&self) -> Option<&str> {
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix("Location: "))
    }

    /// The value of the hidden CSRF field.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a CSRF field")
            + 19;
        self.body[at..at + 32].to_owned()
    }
}

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (k, v) in pairs {
        if !s.is_empty() {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        for b in v.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => s.push(b as char),
                _ => s.push_str(&format!("%{b:02X}")),
            }
        }
    }
    s
}

impl Browser {
    fn new(addr: SocketAddr) -> Self {
        Browser {
            addr,
            cookies: HashMap::new(),
        }
    }

    /// One request with the cookie jar; the jar takes the answer's cookies.
    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        extra: &str,
        body: Option<(&str, &[u8])>,
    ) -> (u16, String, Vec<u8>) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nUser-Agent: test-browser\r\nConnection: close\r\n{extra}");
        if !self.cookies.is_empty() {
            let cookie: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req.push_str(&format!("Cookie: {}\r\n", cookie.join("; ")));
        }
        if let Some((content_type, body)) = body {
            req.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        if let Some((_, body)) = body {
            s.write_all(body).unwrap();
        }
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let headers = String::from_utf8_lossy(&out[..end]).to_string();
        for line in headers
            .lines()
            .filter_map(|l| l.strip_prefix("Set-Cookie: "))
        {
            let (pair, attrs) = line.split_once(';').unwrap_or((line, ""));
            let (k, v) = pair.split_once('=').unwrap();
            assert!(attrs.contains("HttpOnly"), "{line}");
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        (
            headers[9..12].parse().unwrap(),
            headers,
            out[end + 4..].to_vec(),
        )
    }

    fn send(&mut self, method: &str, path: &str, form: Option<String>) -> Page {
        let form = form.unwrap_or_default();
        let body =
            (method == "POST").then_some(("application/x-www-form-urlencoded", form.as_bytes()));
        let (status, headers, body) = self.exchange(method, path, "", body);
        Page {
            status,
            headers,
            body: String::from_utf8(body).unwrap(),
        }
    }

    fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, None)
    }

    fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Page {
        self.send("POST", path, Some(encode(pairs)))
    }
}

/// Signs `username` up and logs `b` in.
fn sign_up_and_log_in(b: &mut Browser, username: &str) {
    let csrf = b.get("/signup").csrf();
    let pw = "hunter2-hunter2";
    let p = b.post(
        "/signup",
        &[
            ("csrf", &csrf),
            ("username", username),
            ("nickname", username),
            ("password", pw),
            ("password2", pw),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let csrf = b.get("/login").csrf();
    let p = b.post(
        "/login",
        &[("csrf", &csrf), ("username", username), ("password", pw)],
    );
    assert_eq!((p.status, p.location()), (303, Some("/home")));
}

/// Waits until webd reaches authd (it connects in the background).
fn ready(b: &mut Browser) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        b.cookies.insert(
            "throng_session".into(),
            "r.00000000000000000000000000000000".into(),
        );
        let p = b.get("/home");
        b.cookies.remove("throng_session");
        if p.status == 303 || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sign_up_log_in_edit_log_out() {
    let stack = Stack::start("pages");
    let mut b = Browser::new(stack.web);
    ready(&mut b);
    assert_eq!(b.get("/").location(), Some("/login"));

    let form = b.get("/signup");
    assert_eq!(form.status, 200);
    assert!(form.headers.contains("Content-Security-Policy"));
    let csrf = form.csrf();
    let p = b.post(
        "/signup",
        &[
            ("csrf", &csrf),
            ("username", "ines"),
            ("nickname", "Inês"),
            ("password", "hunter2-hunter2"),
            ("password2", "different!"),
        ],
    );
    assert_eq!(p.status, 400);
    assert!(p.body.contains("The two passwords differ") && p.body.contains("value=\"ines\""));
    let p = b.post(
        "/signup",
        &[
            ("csrf", &csrf),
            ("username", "ines"),
            ("nickname", "Inês"),
            ("password", "hunter2-hunter2"),
            ("password2", "hunter2-hunter2"),
        ],
    );
    assert_eq!(
        (p.status, p.location()),
        (303, Some("/login?notice=created"))
    );
    let p = b.post(
        "/signup",
        &[
            ("csrf", &csrf),
            ("username", "ines"),
            ("nickname", "x"),
            ("password", "hunter2-hunter2"),
            ("password2", "hunter2-hunter2"),
        ],
    );
    assert_eq!(p.status, 409);
    assert!(p.body.contains("taken"));

    let login = b.get("/login?notice=created");
    assert!(login.body.contains("Your account is ready"));
    let p = b.post(
        "/login",
        &[
            ("csrf", &login.csrf()),
            ("username", "ines"),
            ("password", "wrong-password"),
        ],
    );
    assert_eq!(p.status, 401);
    assert!(
        p.body.contains("Wrong username or password") && p.body.contains("value=\"ines\""),
        "the username is kept"
    );
    let p = b.post(
        "/login",
        &[
            ("csrf", &login.csrf()),
            ("username", "ines"),
            ("password", "hunter2-hunter2"),
        ],
    );
    assert_eq!((p.status, p.location()), (303, Some("/home")));
    assert!(p.headers.contains("SameSite=Lax"));
    assert!(b.cookies.contains_key("throng_session"));

    let home = b.get("/home");
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Inês") && home.body.contains("@ines"));
    let edit = b.get("/edit");
    let nick = "小明 🐱 <script>alert(1)</script>";
    let p = b.post("/edit", &[("csrf", &edit.csrf()), ("nickname", nick)]);
    assert_eq!((p.status, p.location()), (303, Some("/home")));
    let home = b.get("/home");
    assert!(
        home.body.contains("小明 🐱 &#60;script&#62;")
            || home.body.contains("小明 🐱 &lt;script&gt;"),
        "escaped: {}",
        home.body
    );
    assert!(!home.body.contains("<script>"));

    let p = b.post("/logout", &[("csrf", &home.csrf())]);
    assert_eq!((p.status, p.location()), (303, Some("/login")));
    assert!(!b.cookies.contains_key("throng_session"));
    assert_eq!(b.get("/home").location(), Some("/login"));
}

#[test]
fn forms_without_their_csrf_token_are_refused() {
    let stack = Stack::start("csrf");
    let mut b = Browser::new(stack.web);
    ready(&mut b);
    b.get("/login");
    let p = b.post("/login", &[("username", "x"), ("password", "y")]);
    assert_eq!(p.status, 403);
    let p = b.post(
        "/login",
        &[
            ("csrf", "00000000000000000000000000000000"),
            ("username", "x"),
            ("password", "y"),
        ],
    );
    assert_eq!(p.status, 403, "a token that is not this browser's cookie");
    let mut stranger = Browser::new(stack.web);
    let p = stranger.post("/logout", &[("csrf", "whatever")]);
    assert_eq!(
        (p.status, p.location()),
        (303, Some("/login")),
        "no session: nothing to end"
    );
    // A field given twice counts once, the last: the CSRF check sees it.
    sign_up_and_log_in(&mut b, "twice");
    let real = b.get("/home").csrf();
    let wrong = "00000000000000000000000000000000";
    let p = b.post(
        "/edit",
        &[("csrf", &real), ("csrf", wrong), ("nickname", "n")],
    );
    assert_eq!(p.status, 403, "the last csrf is not this session's");
    let p = b.post(
        "/edit",
        &[("csrf", wrong), ("csrf", &real), ("nickname", "n")],
    );
    assert_eq!(
        (p.status, p.location()),
        (303, Some("/home")),
        "the last csrf is this session's"
    );
    assert_eq!(b.get("/style.css").status, 200);
    assert_eq!(b.get("/metrics").status, 404, "not on the public listener");
    let metrics = Browser::new(stack.metrics).get("/metrics");
    assert!(
        metrics.body.contains("throng_connections_accepted_total"),
        "{}",
        metrics.body
    );
    assert!(
        metrics
            .body
            .contains("webd_http_requests_total{route=\"/login\",status=\"403\"} 2"),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains("webd_http_request_seconds_count"),
        "{}",
        metrics.body
    );
    let health = b.get("/healthz");
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let p = b.send("GET", "/logout", None);
    assert!(p.status == 405 && p.headers.contains("Allow: POST"));
}

fn multipart(csrf: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----throngtestboundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Browser {
    fn upload(&mut self, csrf: &str, file: &[u8]) -> Page {
        let (content_type, body) = multipart(csrf, file);
        let (status, headers, body) =
            self.exchange("POST", "/edit/avatar", "", Some((&content_type, &body)));
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&body).to_string(),
        }
    }

    /// GET returning raw bytes and headers.
    fn raw(&mut self, path: &str, extra: &str) -> (u16, String, Vec<u8>) {
        self.exchange("GET", path, extra, None)
    }
}

#[test]
fn avatars_are_re_encoded_stored_by_content_and_served_cached() {
    let stack = Stack::start("avatar");
    let mut b = Browser::new(stack.web);
    ready(&mut b);
    let form = b.get("/signup");
    let csrf = form.csrf();
    b.post(
        "/signup",
        &[
            ("csrf", &csrf),
            ("username", "jo"),
            ("nickname", "Jo"),
            ("password", "hunter2-hunter2"),
            ("password2", "hunter2-hunter2"),
        ],
    );
    let p = b.post(
        "/login",
        &[
            ("csrf", &csrf),
            ("username", "jo"),
            ("password", "hunter2-hunter2"),
        ],
    );
    assert_eq!(p.status, 303, "{} {}", p.headers, p.body);

    // A picture with a payload after its end: accepted, re-encoded, payload gone.
    let picture = image::RgbImage::from_fn(400, 300, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut png = Vec::new();
    picture
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png.extend_from_slice(b"<script>alert(1)</script>");
    // The signed-out token is worth nothing once signed in.
    let p = b.upload(&csrf, &png);
    assert_eq!(p.location(), Some("/edit?error=expired"));
    let csrf = b.get("/edit").csrf();
    let p = b.upload(&csrf, &png);
    assert_eq!(
        (p.status, p.location()),
        (303, Some("/home")),
        "{}",
        p.headers
    );
    let home = b.get("/home");
    let at = home
        .body
        .find("/avatars/")
        .expect("the avatar on the home page")
        + 9;
    let id = home.body[at..at + 64].to_owned();
    let (status, headers, bytes) = b.raw(&format!("/avatars/{id}"), "");
    assert_eq!(status, 200);
    assert!(
        headers.contains("Content-Type: image/png") && headers.contains("immutable"),
        "{headers}"
    );
    assert!(headers.contains(&format!("ETag: \"{id}\"")));
    let back = image::load_from_memory(&bytes).unwrap();
    assert_eq!((back.width(), back.height()), (256, 256));
    assert!(!bytes.windows(8).any(|w| w == b"<script>"));
    let (status, _, _) = b.raw(
        &format!("/avatars/{id}"),
        &format!("If-None-Match: \"{id}\"\r\n"),
    );
    assert_eq!(status, 304);
    assert_eq!(b.raw("/avatars/..%2F..%2Fetc%2Fpasswd", "").0, 404);
    assert_eq!(b.raw(&format!("/avatars/{}", "0".repeat(64)), "").0, 404);
    let staging = stack.stores.dir.path().join("avatars").join("staging");
    assert_eq!(
        std::fs::read_dir(&staging).unwrap().count(),
        0,
        "published, nothing left staged"
    );

    // Not a picture: refused on the edit page, the avatar unchanged.
    let p = b.upload(&csrf, b"#!/bin/sh\necho not a picture\n");
    assert_eq!(p.location(), Some("/edit?error=not_image"));
    let edit = b.get("/edit?error=not_image");
    assert!(
        edit.body.contains("not a JPEG, PNG, GIF or WebP"),
        "{}",
        edit.body
    );
    assert!(
        b.get("/home").body.contains(&id),
        "the avatar did not change"
    );
    let p = b.upload("0123456789abcdef0123456789abcdef", &png);
    assert_eq!(
        p.location(),
        Some("/edit?error=expired"),
        "a wrong CSRF token"
    );
}

/// A CSRF token is bound to its session: another session's token, a
/// signed-out token, and a self-made cookie-and-field pair (what a
/// double-submit check accepted) are all refused on a signed-in form; a
/// log-in makes a new token, and the old session's stops working.
#[test]
fn a_csrf_token_works_only_with_its_own_session() {
    let stack = Stack::start("csrf_bound");
    let mut alice = Browser::new(stack.web);
    ready(&mut alice);
    let mut bob = Browser::new(stack.web);
    let signed_out = alice.get("/login").csrf();
    sign_up_and_log_in(&mut alice, "alice");
    sign_up_and_log_in(&mut bob, "bob");
    let alices = alice.get("/home").csrf();
    let bobs = bob.get("/home").csrf();
    assert_ne!(alices, bobs);
    assert_ne!(alices, signed_out, "the log-in changed the token");
    let edit =
        |b: &mut Browser, csrf: &str| b.post("/edit", &[("csrf", csrf), ("nickname", "x")]).status;
    assert_eq!(
        edit(&mut alice, &bobs),
        403,
        "bob's token with alice's session"
    );
    assert_eq!(edit(&mut alice, &signed_out), 403, "a signed-out token");
    let made_up = "0123456789abcdef0123456789abcdef";
    alice.cookies.insert("throng_csrf".into(), made_up.into());
    assert_eq!(edit(&mut alice, made_up), 403, "a self-made pair");
    assert_eq!(edit(&mut alice, &alices), 303);

    // Log out and in again: a new session, a new token.
    assert_eq!(alice.post("/logout", &[("csrf", &alices)]).status, 303);
    let csrf = alice.get("/login").csrf();
    let p = alice.post(
        "/login",
        &[
            ("csrf", &csrf),
            ("username", "alice"),
            ("password", "hunter2-hunter2"),
        ],
    );
    assert_eq!(p.status, 303);
    assert_eq!(edit(&mut alice, &alices), 403, "the old session's token");
    let fresh = alice.get("/home").csrf();
    assert_ne!(fresh, alices);
    assert_eq!(edit(&mut alice, &fresh), 303);
}

/// "Log out everywhere" on one browser ends the account's sessions on
/// every browser (a stolen cookie with them), and only that account's.
#[test]
fn log_out_everywhere_ends_every_session_of_the_account() {
    let stack = Stack::start("everywhere");
    let mut laptop = Browser::new(stack.web);
    ready(&mut laptop);
    sign_up_and_log_in(&mut laptop, "eve");
    let mut phone = Browser::new(stack.web);
    let csrf = phone.get("/login").csrf();
    let p = phone.post(
        "/login",
        &[
            ("csrf", &csrf),
            ("username", "eve"),
            ("password", "hunter2-hunter2"),
        ],
    );
    assert_eq!(p.status, 303);
    let mut other = Browser::new(stack.web);
    sign_up_and_log_in(&mut other, "frank");
    assert_eq!(phone.get("/home").status, 200);

    let csrf = laptop.get("/home").csrf();
    let p = laptop.post(
        "/logout/everywhere",
        &[("csrf", "0123456789abcdef0123456789abcdef")],
    );
    assert_eq!(p.status, 403, "the session's own token is needed");
    let p = laptop.post("/logout/everywhere", &[("csrf", &csrf)]);
    assert_eq!((p.status, p.location()), (303, Some("/login")));
    assert!(!laptop.cookies.contains_key("throng_session"));
    assert_eq!(
        phone.get("/home").location(),
        Some("/login"),
        "the phone's session ended too"
    );
    assert_eq!(
        other.get("/home").status,
        200,
        "another account keeps its session"
    );
}
