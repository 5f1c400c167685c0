//! The pages through the real stack, as a browser without JavaScript uses
//! them: sign-up → log-in → home → nickname with emoji and CJK → log-out →
//! home sends back to log-in; wrong password keeps the username; a taken
//! username; a form without its CSRF token; HTML escaping.

mod common;

use common::browser::{ready, sign_up_and_log_in, Browser};
use common::Stack;

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
