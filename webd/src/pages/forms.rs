//! What the pages need from a request, each parsed once: the cookies and
//! the form (`application/x-www-form-urlencoded`, decoded by
//! `form_urlencoded` into a typed struct through serde); and the cookies
//! and headers every page answer carries, built with the `cookie` crate.
//! With `Secure` cookies their names carry the `__Host-` prefix (the
//! browser then takes them only from this host, over HTTPS, for path `/`),
//! and only those names are read.

use crate::http::{Head, Response};
use cookie::{Cookie, SameSite};
use serde::de::value::MapDeserializer;
use serde::Deserialize;

/// The session cookie: its token.
pub const SESSION_COOKIE: &str = "throng_session";
/// The pre-session cookie: a random id the signed-out forms' CSRF tokens
/// are bound to ([`super::csrf`]).
pub const PRE_SESSION_COOKIE: &str = "throng_csrf";
/// The device cookie: a long-lived random id of this browser, so authd
/// can tell a sign-in from a device the account has not used.
pub const DEVICE_COOKIE: &str = "throng_device";
/// The notice cookie: the warnings of the last sign-in, shown once on the
/// next page.
pub const NOTICE_COOKIE: &str = "throng_notice";

/// The sign-in-with-another-provider cookie: the state of the flow this
/// browser started, so a callback carrying another browser's state (a
/// forced sign-in into someone else's account) is refused.
pub const SSO_COOKIE: &str = "throng_sso";

/// How long a device id is kept by the browser: two years.
const DEVICE_DAYS: i64 = 730;

/// A cookie's name as set and read: `__Host-` prefixed when `secure`.
pub fn cookie_name(name: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// The cookies webd reads, from the request's `Cookie` header. No `Debug`:
/// the session cookie is a bearer token.
#[derive(Default, Clone)]
pub struct RequestCookies {
    pub session: Option<String>,
    pub pre_session: Option<String>,
    pub device: Option<String>,
    pub notice: Option<String>,
    pub sso_state: Option<String>,
}

impl RequestCookies {
    /// Parses the `Cookie` header once; the first of a name wins; with
    /// `secure`, only the `__Host-` names count.
    pub fn parse(head: &Head<'_>, secure: bool) -> RequestCookies {
        let mut out = RequestCookies::default();
        let Some(raw) = head.cookie.and_then(|c| std::str::from_utf8(c).ok()) else {
            return out;
        };
        let (session, pre, device, notice, sso) = (
            cookie_name(SESSION_COOKIE, secure),
            cookie_name(PRE_SESSION_COOKIE, secure),
            cookie_name(DEVICE_COOKIE, secure),
            cookie_name(NOTICE_COOKIE, secure),
            cookie_name(SSO_COOKIE, secure),
        );
        for c in Cookie::split_parse(raw).filter_map(Result::ok) {
            let slot = if c.name() == session {
                &mut out.session
            } else if c.name() == pre {
                &mut out.pre_session
            } else if c.name() == device {
                &mut out.device
            } else if c.name() == notice {
                &mut out.notice
            } else if c.name() == sso {
                &mut out.sso_state
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(c.value().to_owned());
            }
        }
        out
    }

    /// This client's pre-session id: its cookie, or a new one to set.
    pub fn pre_session_id(&self) -> (String, bool) {
        match &self.pre_session {
            Some(t) if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) => {
                (t.clone(), false)
            }
            _ => (random_token(), true),
        }
    }

    /// This browser's device id: its cookie, or a new one to set.
    pub fn device_id(&self) -> (String, bool) {
        match &self.device {
            Some(t) if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) => {
                (t.clone(), false)
            }
            _ => (random_token(), true),
        }
    }

    /// The warnings of the last sign-in, if a notice is waiting.
    pub fn notice(&self) -> Option<u32> {
        self.notice.as_deref()?.parse().ok().filter(|w| *w != 0)
    }
}

// The forms hold passwords: none of them is `Debug`.

/// The sign-up form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct SignUpForm {
    pub csrf: String,
    pub username: String,
    pub nickname: String,
    pub password: String,
    pub password2: String,
}

/// The log-in form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub csrf: String,
    pub username: String,
    pub password: String,
    /// The page that sent the visitor to the form (its `Referer`, kept in
    /// a hidden field): where sign-ins come from, for the analysis.
    pub from: String,
    /// Where to go once signed in (an OpenID authorization request that
    /// sent the visitor here); see [`safe_next`].
    pub next: String,
    /// A pending link of an identity at another provider: the log-in
    /// proves the account it links to (`sso_finish`).
    pub link: String,
}

/// `next` when it is a path of ours the log-in may send the browser on to:
/// only the authorization endpoint, and `/security` (back from linking an
/// identity), so the parameter is no open redirector.
pub fn safe_next(next: &str) -> Option<&str> {
    if next == "/security" {
        return Some(next);
    }
    (next.starts_with("/oauth/authorize?")
        && next.len() <= 4096
        && !next.contains(['\\', '\r', '\n', '#']))
    .then_some(next)
}

/// The profile form (the nickname; the avatar has its own upload).
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    pub csrf: String,
    pub nickname: String,
}

/// The log-out form: only its CSRF token.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LogoutForm {
    pub csrf: String,
}

/// A form body as `F`: a field given twice counts once, the last one (as
/// browsers' own form parsers do); a missing one is empty; bytes that are
/// not UTF-8 are replaced. `None` only when `F` refuses the values.
pub fn parse_form<F: for<'de> Deserialize<'de>>(body: &[u8]) -> Option<F> {
    let mut seen = std::collections::HashSet::new();
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    pairs.reverse();
    pairs.retain(|(name, _)| seen.insert(name.clone()));
    let fields = MapDeserializer::<_, serde::de::value::Error>::new(pairs.into_iter());
    F::deserialize(fields).ok()
}

/// A fresh random token (the pre-session id that a form's CSRF token is
/// an HMAC over), hex: 128 bits from the thread's ChaCha12 generator
/// (`rand::rng()`, a CSPRNG seeded from the OS and reseeded every 64 KiB
/// of output). Every page with a form makes one, and a `getrandom` system
/// call apiece was one call in three of serving `GET /login`
/// (bench/RESULTS.md, "webd against hyper").
pub fn random_token() -> String {
    let raw: [u8; 16] = rand::random();
    hex::encode(raw)
}

/// Headers every HTML page carries: no framing, no sniffing, only our own
/// resources, no caching of personal pages.
pub fn page(status: u16, html: String) -> Response {
    page_with_csp(
        status,
        html,
        "Content-Security-Policy: default-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
    )
}

/// [`page`] with its own `Content-Security-Policy` line: a form whose
/// answer redirects to another origin (an OpenID client) must name it in
/// `form-action`, which browsers apply to the redirects too.
pub fn page_with_csp(status: u16, html: String, csp: &str) -> Response {
    Response::html(status, html)
        .header(csp)
        .header("X-Content-Type-Options: nosniff")
        .header("X-Frame-Options: DENY")
        .header("Referrer-Policy: same-origin")
        .header("Cache-Control: no-store")
}

/// `303 See Other` to `location`.
pub fn redirect(location: &str) -> Response {
    Response::new(303).header(format!("Location: {location}"))
}

fn set_cookie(cookie: Cookie<'_>) -> String {
    format!("Set-Cookie: {cookie}")
}

/// `Set-Cookie` for the session (`secure` adds `Secure` and the
/// `__Host-` prefix).
pub fn session_cookie(token: &str, secure: bool) -> String {
    set_cookie(
        Cookie::build((cookie_name(SESSION_COOKIE, secure), token))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .build(),
    )
}

/// `Set-Cookie` that ends the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    set_cookie(
        Cookie::build((cookie_name(SESSION_COOKIE, secure), ""))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::ZERO)
            .build(),
    )
}

/// `Set-Cookie` for the device id: two years, sent on top-level
/// navigations only.
pub fn device_cookie(id: &str, secure: bool) -> String {
    set_cookie(
        Cookie::build((cookie_name(DEVICE_COOKIE, secure), id))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::days(DEVICE_DAYS))
            .build(),
    )
}

/// `Set-Cookie` for a sign-in's notice (`warnings` bits; 0 ends it):
/// ten minutes at most, read once.
pub fn notice_cookie(warnings: u32, secure: bool) -> String {
    let value = warnings.to_string();
    let age = if warnings == 0 {
        cookie::time::Duration::ZERO
    } else {
        cookie::time::Duration::minutes(10)
    };
    set_cookie(
        Cookie::build((cookie_name(NOTICE_COOKIE, secure), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(age)
            .build(),
    )
}

/// `Set-Cookie` for a sign-in with another provider's state (empty: gone).
/// `Lax`: the provider's redirect back is a top-level navigation from
/// another site, which `Strict` would send without it.
pub fn sso_cookie(state: &str, secure: bool) -> String {
    let age = if state.is_empty() {
        cookie::time::Duration::ZERO
    } else {
        cookie::time::Duration::minutes(10)
    };
    set_cookie(
        Cookie::build((cookie_name(SSO_COOKIE, secure), state))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(age)
            .build(),
    )
}

/// `Set-Cookie` for the pre-session id.
pub fn pre_session_cookie(id: &str, secure: bool) -> String {
    set_cookie(
        Cookie::build((cookie_name(PRE_SESSION_COOKIE, secure), id))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_given_twice_counts_once_the_last() {
        let form: LoginForm = parse_form(b"username=a&csrf=x&username=b&password=p%20q").unwrap();
        assert_eq!(
            (
                form.csrf.as_str(),
                form.username.as_str(),
                form.password.as_str()
            ),
            ("x", "b", "p q")
        );
        let empty: LoginForm = parse_form(b"").unwrap();
        assert_eq!(
            (empty.username, empty.password),
            (String::new(), String::new())
        );
        let odd: EditForm = parse_form(b"nickname=%FF%FE&&=&nickname").unwrap();
        assert_eq!(odd.nickname, "", "the last nickname, with no value");
    }
}
