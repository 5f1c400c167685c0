//! "Sign in with …" in the browser: `/sso/start` (GET from the log-in
//! page's buttons; POST with the session's CSRF token from `/security` to
//! link another identity), `/sso/callback` (where the other provider sends
//! the browser back) and `POST /security/unlink`. authd does the protocol
//! and decides (`sso_start`, `sso_finish`, `sso_unlink`); webd binds the
//! flow to the browser that started it with a cookie holding its state,
//! compared with the state that comes back, so a callback URL made in an
//! attacker's browser cannot sign a victim's browser in.

use super::forms::{
    device_cookie, pre_session_cookie, redirect, safe_next, session_cookie, sso_cookie,
    RequestCookies,
};
use super::{busy_page, login_page, typed, unreadable_form, LoginPage, PageCall, Pages, Step};
use crate::http::{Head, Response};
use crate::pages::csrf::Holder;
use crate::route::Route;
use authd_wire::ops::{
    SsoFinish, SsoFinished, SsoRedirect, SsoStart, SsoUnlink, SSO_LINKED, SSO_PASSWORD_NEEDED,
    SSO_PASSWORD_TO_LINK,
};
use authd_wire::{decode_answer, Request, Status};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use subtle::ConstantTimeEq;

/// A provider the log-in page offers: its id in authd's `oidc.upstream`
/// and the name on its button.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SsoButton {
    pub id: String,
    pub name: String,
}

/// What an SSO call's answer needs.
#[derive(Debug)]
pub enum SsoCall {
    Start {
        provider: String,
    },
    Callback {
        name: String,
        /// The log-in form's CSRF token (a pending link shows the form).
        csrf: String,
        /// A pre-session id new to this browser, to set with the form.
        new_pre: Option<String>,
        new_device: Option<String>,
    },
    Unlink,
}

/// The parameters of a query or form, first of each name.
fn params(raw: &[u8]) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    for (k, v) in form_urlencoded::parse(raw) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

fn message_page(status: u16, title: &str, message: &str) -> Response {
    super::page(
        status,
        super::views::render(&super::views::OAuthMessage { title, message }),
    )
}

pub fn start(
    pages: &Pages,
    route: Route,
    head: &Head<'_>,
    client: IpAddr,
    body: &[u8],
    cookies: &RequestCookies,
) -> Step {
    let post = head.method == "POST";
    let p = params(if post {
        body
    } else {
        head.query.unwrap_or("").as_bytes()
    });
    let get = |k: &str| p.get(k).map_or("", String::as_str);
    let session = cookies.session.clone().unwrap_or_default();
    let csrf_ok = !session.is_empty() && pages.csrf.check(Holder::Session(&session), get("csrf"));
    match route {
        Route::SsoStart => {
            let provider = get("provider");
            if !pages.sign_in_with.iter().any(|b| b.id == provider) {
                return Step::Now(message_page(
                    404,
                    "Unknown provider",
                    "This server does not offer that provider.",
                ));
            }
            // Linking needs the session's own form; a sign-in needs none.
            let token = if post {
                if !csrf_ok {
                    return Step::Now(message_page(
                        403,
                        "This form has expired",
                        "Reload the page and send it again.",
                    ));
                }
                session
            } else {
                String::new()
            };
            Step::Call {
                request: Request::SsoStart(SsoStart {
                    provider: provider.to_owned(),
                    token: token.into(),
                    next: safe_next(get("next")).unwrap_or("").to_owned(),
                }),
                then: PageCall::Sso(SsoCall::Start {
                    provider: provider.to_owned(),
                }),
            }
        }
        Route::SsoCallback => {
            // The cookie says which provider and state this browser began.
            let began = cookies.sso_state.as_deref().unwrap_or("");
            let (provider, state) = began.split_once('.').unwrap_or(("", ""));
            let name = pages
                .sign_in_with
                .iter()
                .find(|b| b.id == provider)
                .map_or("the other provider".to_owned(), |b| b.name.clone());
            let (pre, new_pre) = cookies.pre_session_id();
            let csrf = pages.csrf.token(Holder::PreSession(&pre));
            let matches =
                !state.is_empty() && bool::from(state.as_bytes().ct_eq(get("state").as_bytes()));
            let login_error = |error: String| {
                let html = pages.login(LoginPage {
                    csrf: &csrf,
                    username: "",
                    from: "",
                    next: "",
                    link: "",
                    notice: None,
                    error: Some(&error),
                });
                let r = login_page(400, html, "").header(sso_cookie("", pages.secure_cookies));
                if new_pre {
                    r.header(pre_session_cookie(&pre, pages.secure_cookies))
                } else {
                    r
                }
            };
            if !get("error").is_empty() {
                return Step::Now(login_error(format!(
                    "Signing in with {name} was cancelled or refused."
                )));
            }
            if !matches || get("code").is_empty() {
                return Step::Now(login_error(
                    "This sign-in has expired or was not started here; start again.".into(),
                ));
            }
            let agent = head
                .user_agent
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .unwrap_or_default();
            let (device, new_device) = cookies.device_id();
            Step::Call {
                request: Request::SsoFinish(SsoFinish {
                    provider: provider.to_owned(),
                    state: state.into(),
                    code: get("code").into(),
                    ip: client.to_string(),
                    agent,
                    device: device.clone(),
                }),
                then: PageCall::Sso(SsoCall::Callback {
                    name,
                    csrf,
                    new_pre: new_pre.then_some(pre),
                    new_device: new_device.then_some(device),
                }),
            }
        }
        _ => {
            if !csrf_ok {
                return Step::Now(message_page(
                    403,
                    "This form has expired",
                    "Reload the page and send it again.",
                ));
            }
            let Ok(identity) = get("identity").parse::<u64>() else {
                return Step::Now(unreadable_form());
            };
            Step::Call {
                request: Request::SsoUnlink(SsoUnlink {
                    token: session.into(),
                    identity,
                }),
                then: PageCall::Sso(SsoCall::Unlink),
            }
        }
    }
}

pub fn finish(pages: &Pages, call: SsoCall, status: u8, body: &[u8]) -> Response {
    let secure = pages.secure_cookies;
    match call {
        SsoCall::Start { provider } => match typed::<SsoStart>(status, body) {
            Ok(SsoRedirect { url, state }) => Response::new(303)
                .header(format!("Location: {url}"))
                .header("Cache-Control: no-store")
                .header(sso_cookie(
                    &format!("{provider}.{}", state.as_str()),
                    secure,
                )),
            Err(Status::NotFound) => message_page(
                404,
                "Unknown provider",
                "This server does not offer that provider.",
            ),
            Err(Status::NoSession) => redirect("/login"),
            Err(_) => message_page(
                503,
                "The provider cannot be reached",
                "Try again in a moment.",
            ),
        },
        SsoCall::Callback {
            name,
            csrf,
            new_pre,
            new_device,
        } => {
            let finish_cookies = |r: Response| {
                let r = r.header(sso_cookie("", secure));
                let r = match &new_device {
                    Some(id) => r.header(device_cookie(id, secure)),
                    None => r,
                };
                match &new_pre {
                    Some(id) => r.header(pre_session_cookie(id, secure)),
                    None => r,
                }
            };
            let page_with = |status: u16,
                             username: &str,
                             link: &str,
                             notice: Option<&str>,
                             error: Option<&str>,
                             next: &str| {
                let html = pages.login(LoginPage {
                    csrf: &csrf,
                    username,
                    from: "",
                    next,
                    link,
                    notice,
                    error,
                });
                finish_cookies(login_page(status, html, next))
            };
            match decode_answer::<SsoFinish>(status, body) {
                Ok(Ok(SsoFinished {
                    outcome,
                    token,
                    username,
                    next,
                    ..
                })) => match outcome {
                    SSO_LINKED => finish_cookies(redirect("/security?linked=1")),
                    SSO_PASSWORD_NEEDED => {
                        let notice = format!("An account with the e-mail address {name} vouched for exists. Log in to it with its password to link your {name} identity to it.");
                        page_with(200, &username, token.as_str(), Some(&notice), None, &next)
                    }
                    SSO_PASSWORD_TO_LINK => {
                        let notice = format!(
                            "Enter your password to link your {name} identity to this account."
                        );
                        page_with(
                            200,
                            &username,
                            token.as_str(),
                            Some(&notice),
                            None,
                            "/security",
                        )
                    }
                    _ => {
                        let to = if next.is_empty() {
                            "/home"
                        } else {
                            next.as_str()
                        };
                        finish_cookies(redirect(to).header(session_cookie(token.as_str(), secure)))
                    }
                },
                Ok(Err(r)) => {
                    let error = match r.status {
                        Status::InvalidRequest => {
                            "This sign-in has expired; start again.".to_owned()
                        }
                        Status::AccountLocked => {
                            "This account is locked. Ask the support team to unlock it.".to_owned()
                        }
                        Status::Taken => {
                            format!("That {name} identity is linked to another account.")
                        }
                        Status::Unavailable => {
                            format!("{name} cannot be reached; try again in a moment.")
                        }
                        _ => format!("{name} could not sign you in."),
                    };
                    page_with(400, "", "", None, Some(&error), "")
                }
                Err(_) => busy_page(),
            }
        }
        SsoCall::Unlink => match typed::<SsoUnlink>(status, body) {
            Ok(()) => redirect("/security?unlinked=1"),
            Err(Status::Forbidden) | Err(Status::NotFound) => redirect("/security?unlinked=0"),
            Err(Status::NoSession) => redirect("/login"),
            Err(_) => busy_page(),
        },
    }
}
