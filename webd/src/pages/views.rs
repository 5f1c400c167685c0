//! The page templates (askama, HTML-escaped automatically) and their data.

use super::time;
use askama::Template;
use authd_wire::ops::{SessionRow, SignInRow};

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignUp<'a> {
    pub csrf: &'a str,
    pub username: &'a str,
    pub nickname: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct Login<'a> {
    pub csrf: &'a str,
    pub username: &'a str,
    /// The referring page, carried to the sign-in for the analysis.
    pub from: &'a str,
    /// Where to go once signed in (empty: home).
    pub next: &'a str,
    /// A pending link of an identity at another provider (empty: none).
    pub link: &'a str,
    /// The "Sign in with …" buttons: (href, name).
    pub providers: Vec<(String, &'a str)>,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct Home<'a> {
    pub csrf: &'a str,
    pub username: &'a str,
    pub nickname: &'a str,
    pub initial: String,
    pub avatar: Option<&'a str>,
    /// The warning of the sign-in that made this session, shown once.
    pub notice: Option<&'a str>,
    /// Whether the account holds any console permission (shows the link).
    pub console: bool,
}

#[derive(Template)]
#[template(path = "edit.html")]
pub struct Edit<'a> {
    pub csrf: &'a str,
    pub nickname: &'a str,
    pub error: Option<&'a str>,
    pub avatar: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "security.html")]
pub struct Security<'a> {
    pub csrf: &'a str,
    pub said: Option<&'a str>,
    pub sign_ins: Vec<SignInLine>,
    pub sessions: Vec<SessionLine>,
    pub identities: Vec<IdentityLine>,
    /// The providers an identity can be linked from: (id, name).
    pub providers: Vec<(&'a str, &'a str)>,
}

/// A linked identity as a table row shows it.
pub struct IdentityLine {
    pub id: u64,
    /// The provider's name (its id when webd does not offer it).
    pub provider: String,
    pub email: String,
    pub linked: String,
    pub made_account: bool,
}

/// A sign-in as a table row shows it.
pub struct SignInLine {
    pub at: String,
    pub ip: String,
    pub place: String,
    pub browser: String,
    pub platform: String,
    pub result: String,
    pub ok: bool,
    pub warning: Option<String>,
}

impl From<&SignInRow> for SignInLine {
    fn from(r: &SignInRow) -> SignInLine {
        SignInLine {
            at: time::utc(r.at_ms),
            ip: r.ip.clone(),
            place: place(&r.city, &r.country),
            browser: r.browser.clone(),
            platform: r.platform.clone(),
            result: result_text(&r.result).to_owned(),
            ok: r.result.starts_with("ok"),
            warning: (r.warnings != 0).then(|| super::security::warning_text(r.warnings)),
        }
    }
}

/// An open session as a table row shows it.
pub struct SessionLine {
    pub id: u64,
    pub created: String,
    pub last_seen: String,
    pub ip: String,
    pub place: String,
    pub browser: String,
    pub platform: String,
    pub current: bool,
}

impl From<&SessionRow> for SessionLine {
    fn from(r: &SessionRow) -> SessionLine {
        SessionLine {
            id: r.id,
            created: time::utc(r.created_ms),
            last_seen: time::utc(r.last_seen_ms),
            ip: r.ip.clone(),
            place: place(&r.city, &r.country),
            browser: r.browser.clone(),
            platform: r.platform.clone(),
            current: r.current,
        }
    }
}

/// "Paris, FR", "FR" or "unknown".
pub fn place(city: &str, country: &str) -> String {
    match (city, country) {
        ("", "") => "unknown".into(),
        ("", c) => c.into(),
        (city, "") => city.into(),
        (city, c) => format!("{city}, {c}"),
    }
}

/// A login record's result in words.
fn result_text(result: &str) -> &str {
    match result {
        "ok" => "signed in",
        "ok_trylogin" | "ok_no_node" => "signed in (chat gateway)",
        "bad_password" => "wrong password",
        "too_many_attempts" => "refused: too many attempts",
        "locked" => "refused: account locked",
        other => other,
    }
}

/// Renders a template; a rendering failure is a bug, shown as such.
pub fn render(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        log::error!("rendering a page failed: {e}");
        "<!doctype html><h1>500 Internal Server Error</h1>".into()
    })
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct Consent<'a> {
    pub csrf: &'a str,
    pub client_name: &'a str,
    pub redirect_uri: &'a str,
    /// What each scope lets the application see, a line each.
    pub scopes: Vec<&'static str>,
    /// The authorization request's parameters, sent back with the answer.
    pub fields: Vec<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirm<'a> {
    pub csrf: &'a str,
    pub fields: Vec<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "oauth_message.html")]
pub struct OAuthMessage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}
