//! Sessions and their CSRF tokens through the real stack, as a browser
//! uses them: a token works only with its own session, and "log out
//! everywhere" ends every session of the account.

mod common;

use common::browser::{ready, sign_up_and_log_in, Browser};
use common::Stack;

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
