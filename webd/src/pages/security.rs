//! `/security`: the signed-in user's recent sign-ins (time, address,
//! place, browser and platform, result) and open sessions (where, since
//! when, last seen), each with "sign out", and "sign out everywhere";
//! and the identities at other providers linked to the account.
//! authd decides everything (`security_overview`, `end_session`: only the
//! caller's own sessions); this page shows it. Works without JavaScript;
//! every form carries the session's CSRF token.

use super::forms::{clear_session_cookie, page, redirect, RequestCookies};
use super::views::{self, render};
use super::{busy_page, typed, PageCall, Pages, Step};
use crate::http::{Head, Response};
use crate::route::Route;
use authd_wire::ops::{warnings, EndSession, SecurityOverview};
use authd_wire::{Request, Status};
use serde::Deserialize;

/// The security page's authd calls.
#[derive(Debug)]
pub enum SecurityCall {
    Overview {
        csrf: String,
        said: Option<&'static str>,
    },
    End,
}

/// The "sign out" form of one session.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct EndForm {
    pub csrf: String,
    /// The session's id (digits; form values are text).
    pub session: String,
}

impl super::HasCsrf for EndForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What a sign-in's warnings mean, in a sentence.
pub fn warning_text(bits: u32) -> String {
    let mut why = Vec::new();
    if bits & warnings::NEW_DEVICE != 0 {
        why.push("from a device this account had not used");
    }
    if bits & warnings::NEW_REGION != 0 {
        why.push("from a country this account had not signed in from");
    }
    if bits & warnings::IMPOSSIBLE_TRAVEL != 0 {
        why.push("too far from the previous sign-in for the time between them");
    }
    if why.is_empty() {
        why.push("in an unusual way");
    }
    format!("This sign-in was {}.", why.join(", and "))
}

pub fn start(
    pages: &Pages,
    route: Route,
    head: &Head<'_>,
    body: &[u8],
    cookies: &RequestCookies,
) -> Step {
    let Some(token) = cookies.session.clone() else {
        return Step::Now(redirect("/login"));
    };
    let csrf = pages.csrf.token(super::Holder::Session(&token));
    match route {
        Route::SecurityEnd => {
            let form: EndForm = match pages.checked_form(body, Some(super::Holder::Session(&token)))
            {
                Ok(form) => form,
                Err(refusal) => return Step::Now(refusal),
            };
            let Ok(session) = form.session.parse::<u64>() else {
                return Step::Now(super::unreadable_form());
            };
            Step::Call {
                request: Request::EndSession(EndSession {
                    token: token.into(),
                    session,
                }),
                then: PageCall::Security(SecurityCall::End),
            }
        }
        _ => {
            let said = match head.query {
                Some(q) if q.split('&').any(|p| p == "ended=1") => {
                    Some("That session is signed out.")
                }
                Some(q) if q.split('&').any(|p| p == "ended=0") => {
                    Some("That session was already over.")
                }
                Some(q) if q.split('&').any(|p| p == "linked=1") => {
                    Some("The identity is linked: you can sign in with it.")
                }
                Some(q) if q.split('&').any(|p| p == "unlinked=1") => {
                    Some("The identity is unlinked.")
                }
                Some(q) if q.split('&').any(|p| p == "unlinked=0") => {
                    Some("That identity made this account and stays linked.")
                }
                _ => None,
            };
            Step::Call {
                request: Request::SecurityOverview(SecurityOverview {
                    token: token.into(),
                }),
                then: PageCall::Security(SecurityCall::Overview { csrf, said }),
            }
        }
    }
}

pub fn finish(pages: &Pages, call: SecurityCall, status: u8, body: &[u8]) -> Response {
    let secure = pages.secure_cookies;
    match call {
        SecurityCall::Overview { csrf, said } => match typed::<SecurityOverview>(status, body) {
            Ok(history) => page(
                200,
                render(&views::Security {
                    csrf: &csrf,
                    said,
                    sign_ins: history
                        .sign_ins
                        .iter()
                        .map(views::SignInLine::from)
                        .collect(),
                    sessions: history
                        .sessions
                        .iter()
                        .map(views::SessionLine::from)
                        .collect(),
                    identities: history
                        .identities
                        .iter()
                        .map(|i| views::IdentityLine {
                            id: i.id,
                            provider: pages
                                .sign_in_with
                                .iter()
                                .find(|b| b.id == i.provider)
                                .map_or_else(|| i.provider.clone(), |b| b.name.clone()),
                            email: i.email.clone(),
                            linked: super::time::utc(i.linked_ms),
                            made_account: i.made_account,
                        })
                        .collect(),
                    providers: pages
                        .sign_in_with
                        .iter()
                        .map(|b| (b.id.as_str(), b.name.as_str()))
                        .collect(),
                }),
            ),
            Err(Status::NoSession) => redirect("/login").header(clear_session_cookie(secure)),
            Err(_) => busy_page(),
        },
        SecurityCall::End => match typed::<EndSession>(status, body) {
            Ok(()) => redirect("/security?ended=1"),
            Err(Status::NotFound) => redirect("/security?ended=0"),
            Err(Status::NoSession) => redirect("/login").header(clear_session_cookie(secure)),
            Err(_) => busy_page(),
        },
    }
}
