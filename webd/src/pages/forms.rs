//! What the pages need from a request: form fields
//! (`application/x-www-form-urlencoded`), cookies, the CSRF check, and the
//! headers every page answer carries.

use crate::http::{Head, Response};
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "throng_session";
pub const CSRF_COOKIE: &str = "throng_csrf";

/// The value of form field `name` (the last one wins).
pub fn field(body: &[u8], name: &str) -> String {
    form_urlencoded::parse(body)
        .filter(|(k, _)| k == name)
        .last()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The value of cookie `name`.
pub fn cookie(head: &Head<'_>, name: &str) -> Option<String> {
    let raw = std::str::from_utf8(head.cookie?).ok()?;
    cookie::Cookie::split_parse(raw)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A fresh random token (CSRF), hex.
pub fn random_token() -> String {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).expect("the OS gives random bytes");
    hex::encode(raw)
}

/// The CSRF token of this client: its cookie, or a new one to set.
pub fn csrf_token(head: &Head<'_>) -> (String, bool) {
    match cookie(head, CSRF_COOKIE) {
        Some(t) if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) => (t, false),
        _ => (random_token(), true),
    }
}

/// Double-submit check: the form's `csrf` field equals the CSRF cookie.
pub fn csrf_ok(head: &Head<'_>, body: &[u8]) -> bool {
    match cookie(head, CSRF_COOKIE) {
        Some(c) if c.len() == 32 => bool::from(c.as_bytes().ct_eq(field(body, "csrf").as_bytes())),
        _ => false,
    }
}

/// Headers every HTML page carries: no framing, no sniffing, only our own
/// resources, no caching of personal pages.
pub fn page(status: u16, html: String) -> Response {
    Response::html(status, html)
        .header("Content-Security-Policy: default-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'")
        .header("X-Content-Type-Options: nosniff")
        .header("X-Frame-Options: DENY")
        .header("Referrer-Policy: same-origin")
        .header("Cache-Control: no-store")
}

/// `303 See Other` to `location`.
pub fn redirect(location: &str) -> Response {
    Response::new(303).header(format!("Location: {location}"))
}

/// `Set-Cookie` for the session (`secure` adds `Secure`).
pub fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("Set-Cookie: {SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

pub fn clear_session_cookie() -> String {
    format!("Set-Cookie: {SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

pub fn csrf_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("Set-Cookie: {CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}")
}
