//! The pages: sign-up, log-in, home, edit, log-out, server-rendered with
//! askama (every value HTML-escaped), working without JavaScript. Each
//! state-changing form carries a CSRF token bound to the session, or
//! before log-in to a pre-session cookie ([`csrf`]); the session cookie is
//! `HttpOnly`, `SameSite=Lax`, and `Secure` with the `__Host-` prefix when
//! configured. A request needs at most one authd call: [`Pages::start`]
//! says which, [`Pages::finish`] turns its answer into the page.

mod admin;
mod admin_views;
pub mod csrf;
mod forms;
mod security;
mod sso;
mod time;
pub(crate) mod views;

use crate::avatars::UploadError;
use crate::http::{Head, Response};
use crate::route::Route;
use authd_wire::ops::{
    ChangeAvatar, ChangeNickname, Logout, LogoutEverywhere, Profile, SignIn, SignUp,
    ValidateSession,
};
use authd_wire::{decode_answer, Operation, Refusal, Request, Status};
use csrf::{CsrfKey, Holder};
pub use forms::{clear_session_cookie, page, page_with_csp, redirect, RequestCookies};
use forms::{
    device_cookie, notice_cookie, parse_form, pre_session_cookie, session_cookie, EditForm,
    LoginForm, LogoutForm, SignUpForm,
};
use std::net::IpAddr;
use throng_core::client::{CallError, Response as Answer};
use views::render;

/// The authd call a page waits for, with what it needs to answer.
#[derive(Debug)]
pub enum PageCall {
    SignUp {
        username: String,
        nickname: String,
        csrf: String,
    },
    Login {
        username: String,
        csrf: String,
        from: String,
        /// Where to go once signed in (empty: home).
        next: String,
        /// A pending identity link the sign-in completes (empty: none).
        link: String,
        /// A device id new to this browser, to set with the answer.
        new_device: Option<String>,
    },
    Home {
        csrf: String,
        /// The warnings of the sign-in that made this session, shown once.
        notice: Option<u32>,
    },
    Security(security::SecurityCall),
    Admin(admin::AdminCall),
    OAuth(crate::oauth::OAuthCall),
    Sso(sso::SsoCall),
    EditForm {
        csrf: String,
        error: Option<&'static str>,
    },
    EditSave {
        nickname: String,
        csrf: String,
    },
    Logout,
    LogoutEverywhere,
}

/// Back to the edit page with an upload's error shown.
pub fn edit_error(e: UploadError) -> Response {
    redirect(&format!("/edit?error={}", e.code()))
}

/// The message the edit page shows for `?error=<code>`.
fn upload_message(query: Option<&str>) -> Option<&'static str> {
    let code = query?.split('&').find_map(|p| p.strip_prefix("error="))?;
    Some(match code {
        "not_image" => "That file is not a JPEG, PNG, GIF or WebP picture.",
        "too_large" => "That picture is too large: at most 5 MiB and 8192×8192 pixels.",
        "expired" => "This form has expired; try again.",
        "busy" => "The server is busy; try again in a moment.",
        "too_often" => "You changed your picture too often; try again in an hour.",
        _ => "The picture could not be saved; try again.",
    })
}

/// What to do with a page request. It lives for one request on the
/// stack, so the size of the largest request (an authorization request's
/// nine fields) is no cost worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    Now(Response),
    Call { request: Request, then: PageCall },
}

const STYLE: &str = include_str!("../../static/style.css");

/// The page routes.
pub struct Pages {
    pub secure_cookies: bool,
    pub csrf: CsrfKey,
    /// The other OpenID providers the log-in page offers.
    pub sign_in_with: Vec<sso::SsoButton>,
}

/// A signed-out page, with the pre-session cookie when it is new.
fn with_pre_session(r: Response, id: &str, new: bool, secure: bool) -> Response {
    if new {
        r.header(pre_session_cookie(id, secure))
    } else {
        r
    }
}

/// What the log-in page shows.
pub(crate) struct LoginPage<'a> {
    pub csrf: &'a str,
    pub username: &'a str,
    pub from: &'a str,
    pub next: &'a str,
    pub link: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

impl Pages {
    /// The log-in page's HTML, with a "Sign in with …" button for each
    /// provider webd offers (carrying `next`).
    pub(crate) fn login(&self, v: LoginPage<'_>) -> String {
        let providers = self
            .sign_in_with
            .iter()
            .map(|b| {
                let mut q = form_urlencoded::Serializer::new(String::new());
                q.append_pair("provider", &b.id);
                if !v.next.is_empty() {
                    q.append_pair("next", v.next);
                }
                (format!("/sso/start?{}", q.finish()), b.name.as_str())
            })
            .collect();
        render(&views::Login {
            csrf: v.csrf,
            username: v.username,
            from: v.from,
            next: v.next,
            link: v.link,
            providers,
            notice: v.notice,
            error: v.error,
        })
    }
}

/// The log-in page. On the way to an OpenID client (`next`), a sign-in
/// ends in a redirect to that client's origin, which the form's
/// `form-action` must allow (browsers apply it to redirects too).
pub(crate) fn login_page(status: u16, html: String, next: &str) -> Response {
    let target = next
        .split_once('?')
        .and_then(|(_, q)| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "redirect_uri")
                .map(|(_, v)| v.into_owned())
        })
        .and_then(|uri| crate::oauth::origin(&uri).map(str::to_owned));
    match target {
        Some(origin) => page_with_csp(
            status,
            html,
            &format!("Content-Security-Policy: default-src 'self'; img-src 'self'; form-action 'self' {origin}; frame-ancestors 'none'"),
        ),
        None => page(status, html),
    }
}

/// The page when authd could not answer.
pub fn busy() -> Response {
    busy_page()
}

fn busy_page() -> Response {
    page(503, "<!doctype html><meta charset=\"utf-8\"><h1>Service unavailable</h1><p>Please try again in a moment.</p>".into())
        .header("Retry-After: 1")
}

impl Pages {
    /// The answer to a page request, or the authd call that makes it.
    pub fn start(
        &self,
        route: Route,
        head: &Head<'_>,
        client: IpAddr,
        body: &[u8],
        cookies: &RequestCookies,
    ) -> Step {
        let post = head.method == "POST";
        let secure = self.secure_cookies;
        let session = cookies.session.clone();
        // The signed-out forms' token, bound to the pre-session id.
        let (pre, new_pre) = cookies.pre_session_id();
        let csrf = self.csrf.token(Holder::PreSession(&pre));
        let signed_out = Some(Holder::PreSession(&pre)).filter(|_| !new_pre);
        let signed_in = session.as_deref().map(Holder::Session);
        match (route, post) {
            (Route::Root, _) => {
                Step::Now(redirect(if session.is_some() { "/home" } else { "/login" }))
            }
            (Route::Style, _) => Step::Now(
                Response::new(200)
                    .header("Content-Type: text/css; charset=utf-8")
                    .header("Cache-Control: public, max-age=3600")
                    .body(STYLE),
            ),
            (Route::SignUp, false) => {
                let html = render(&views::SignUp {
                    csrf: &csrf,
                    username: "",
                    nickname: "",
                    error: None,
                });
                Step::Now(with_pre_session(page(200, html), &pre, new_pre, secure))
            }
            (Route::SignUp, true) => {
                let form: SignUpForm = match self.checked_form(body, signed_out) {
                    Ok(form) => form,
                    Err(refusal) => return Step::Now(refusal),
                };
                if form.password != form.password2 {
                    let html = render(&views::SignUp {
                        csrf: &csrf,
                        username: &form.username,
                        nickname: &form.nickname,
                        error: Some("The two passwords differ."),
                    });
                    return Step::Now(page(400, html));
                }
                Step::Call {
                    request: Request::SignUp(SignUp {
                        username: form.username.clone(),
                        nickname: form.nickname.clone(),
                        password: form.password.into(),
                        ip: client.to_string(),
                    }),
                    then: PageCall::SignUp {
                        username: form.username,
                        nickname: form.nickname,
                        csrf,
                    },
                }
            }
            (Route::Login, false) => {
                let notice = head
                    .query
                    .is_some_and(|q| q.split('&').any(|p| p == "notice=created"))
                    .then_some("Your account is ready: log in.");
                let from = head
                    .referer
                    .map(|r| {
                        String::from_utf8_lossy(r)
                            .chars()
                            .take(512)
                            .collect::<String>()
                    })
                    .unwrap_or_default();
                let next = head
                    .query
                    .and_then(|q| {
                        form_urlencoded::parse(q.as_bytes())
                            .find(|(k, _)| k == "next")
                            .map(|(_, v)| v.into_owned())
                    })
                    .filter(|n| forms::safe_next(n).is_some())
                    .unwrap_or_default();
                let html = self.login(LoginPage {
                    csrf: &csrf,
                    username: "",
                    from: &from,
                    next: &next,
                    link: "",
                    notice,
                    error: None,
                });
                Step::Now(with_pre_session(
                    login_page(200, html, &next),
                    &pre,
                    new_pre,
                    secure,
                ))
            }
            (Route::Login, true) => {
                let form: LoginForm = match self.checked_form(body, signed_out) {
                    Ok(form) => form,
                    Err(refusal) => return Step::Now(refusal),
                };
                let agent = head
                    .user_agent
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .unwrap_or_default();
                let (device, new_device) = cookies.device_id();
                Step::Call {
                    request: Request::SignIn(SignIn {
                        username: form.username.clone(),
                        password: form.password.into(),
                        ip: client.to_string(),
                        agent,
                        device: device.clone(),
                        referrer: form.from.clone(),
                        link: form.link.clone().into(),
                    }),
                    then: PageCall::Login {
                        username: form.username,
                        csrf,
                        from: form.from,
                        next: forms::safe_next(&form.next).unwrap_or("").to_owned(),
                        link: form.link.clone(),
                        new_device: new_device.then_some(device),
                    },
                }
            }
            (Route::Home | Route::Edit, false) => match session {
                None => Step::Now(redirect("/login")),
                Some(token) => {
                    let csrf = self.csrf.token(Holder::Session(&token));
                    Step::Call {
                        request: Request::ValidateSession(ValidateSession {
                            token: token.into(),
                        }),
                        then: if matches!(route, Route::Home) {
                            PageCall::Home {
                                csrf,
                                notice: cookies.notice(),
                            }
                        } else {
                            PageCall::EditForm {
                                csrf,
                                error: upload_message(head.query),
                            }
                        },
                    }
                }
            },
            (Route::Edit, true) => {
                let form: EditForm = match self.checked_form(body, signed_in) {
                    Ok(form) => form,
                    Err(refusal) => return Step::Now(refusal),
                };
                let csrf = form.csrf.clone();
                match session {
                    None => Step::Now(redirect("/login")),
                    Some(token) => Step::Call {
                        request: Request::ChangeNickname(ChangeNickname {
                            token: token.into(),
                            nickname: form.nickname.clone(),
                        }),
                        then: PageCall::EditSave {
                            nickname: form.nickname,
                            csrf,
                        },
                    },
                }
            }
            (Route::LogoutEverywhere, true) => {
                let Some(token) = cookies.session.clone() else {
                    return Step::Now(redirect("/login").header(clear_session_cookie(secure)));
                };
                if let Err(refusal) = self.checked_form::<LogoutForm>(body, signed_in) {
                    return Step::Now(refusal);
                }
                Step::Call {
                    request: Request::LogoutEverywhere(LogoutEverywhere {
                        token: token.into(),
                    }),
                    then: PageCall::LogoutEverywhere,
                }
            }
            (Route::Logout, true) => {
                if session.is_none() {
                    return Step::Now(redirect("/login").header(clear_session_cookie(secure)));
                }
                if let Err(refusal) = self.checked_form::<LogoutForm>(body, signed_in) {
                    return Step::Now(refusal);
                }
                match session {
                    None => Step::Now(redirect("/login").header(clear_session_cookie(secure))),
                    Some(token) => Step::Call {
                        request: Request::Logout(Logout {
                            token: token.into(),
                        }),
                        then: PageCall::Logout,
                    },
                }
            }
            (Route::SsoStart | Route::SsoCallback | Route::SecurityUnlink, _) => {
                sso::start(self, route, head, client, body, cookies)
            }
            (Route::Security | Route::SecurityEnd, _) => {
                security::start(self, route, head, body, cookies)
            }
            (Route::Admin(page), _) => admin::start(self, page, head, client, body, cookies),
            (Route::OAuth(route), _) => {
                match crate::oauth::start(self, route, head, body, cookies) {
                    Ok((request, call)) => Step::Call {
                        request,
                        then: PageCall::OAuth(call),
                    },
                    Err(response) => Step::Now(response),
                }
            }
            _ => Step::Now(Response::html(404, "<h1>404 Not Found</h1>\n")),
        }
    }

    /// Whether authd took an upload as the avatar (`change_avatar`), or
    /// the page refusing it.
    pub fn avatar_taken(&self, result: Result<Answer, CallError>) -> Result<(), Response> {
        let secure = self.secure_cookies;
        let Ok(answer) = result else {
            return Err(edit_error(UploadError::Busy));
        };
        match typed::<ChangeAvatar>(answer.header.status, &answer.body) {
            Ok(()) => Ok(()),
            Err(Status::NoSession) => Err(redirect("/login").header(clear_session_cookie(secure))),
            Err(Status::InvalidPhotoId) => Err(edit_error(UploadError::Failed)),
            Err(Status::TooManyAttempts) => Err(edit_error(UploadError::TooOften)),
            Err(_) => Err(edit_error(UploadError::Busy)),
        }
    }

    /// The page when authd could not be called at all.
    pub fn finish_failed(&self) -> Response {
        busy_page()
    }

    /// The page for authd's answer to `call`.
    pub fn finish(&self, call: PageCall, result: Result<Answer, CallError>) -> Response {
        let answer = match (result, call) {
            (Ok(answer), PageCall::OAuth(call)) => {
                return crate::oauth::finish(self, call, answer.header.status, &answer.body)
            }
            (Err(_), PageCall::OAuth(call)) => return crate::oauth::failed(&call),
            (Ok(answer), call) => (answer, call),
            (Err(_), _) => return busy_page(),
        };
        let (answer, call) = answer;
        let (status, body) = (answer.header.status, &answer.body[..]);
        let secure = self.secure_cookies;
        match call {
            PageCall::SignUp {
                username,
                nickname,
                csrf,
            } => {
                let (code, error) = match typed::<SignUp>(status, body).map(|_| ()) {
                    Ok(()) => return redirect("/login?notice=created"),
                    Err(Status::Taken) => (409, "That username is taken; choose another."),
                    Err(Status::InvalidUsername) => (400, "Usernames are 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit."),
                    Err(Status::InvalidNickname) => (400, "Nicknames are 1–64 characters, without control characters."),
                    Err(Status::InvalidPassword) => (400, "Passwords are 8 to 128 bytes long."),
                    Err(_) => return busy_page(),
                };
                let html = render(&views::SignUp {
                    csrf: &csrf,
                    username: &username,
                    nickname: &nickname,
                    error: Some(error),
                });
                page(code, html)
            }
            PageCall::Login {
                username,
                csrf,
                from,
                next,
                link,
                new_device,
            } => {
                let with_device = |r: Response| match &new_device {
                    Some(id) => r.header(device_cookie(id, secure)),
                    None => r,
                };
                let (code, error) = match decode_answer::<SignIn>(status, body) {
                    Ok(Ok(signed_in)) => {
                        let to = if next.is_empty() { "/home" } else { &next };
                        let r =
                            redirect(to).header(session_cookie(signed_in.token.as_str(), secure));
                        let r = if signed_in.warnings != 0 {
                            r.header(notice_cookie(signed_in.warnings, secure))
                        } else {
                            r
                        };
                        return with_device(r);
                    }
                    Ok(Err(refusal)) if refusal.status == Status::AccountLocked => (
                        403,
                        "This account is locked. Ask the support team to unlock it.".to_string(),
                    ),
                    Ok(Err(refusal)) if refusal.status == Status::BadCredentials => {
                        (401, "Wrong username or password.".to_string())
                    }
                    Ok(Err(refusal)) if refusal.status == Status::TooManyAttempts => {
                        let wait = refusal.retry_after_secs().map_or(15, |s| s.div_ceil(60));
                        (
                            429,
                            format!("Too many failed attempts. Try again in {wait} minute(s)."),
                        )
                    }
                    _ => return busy_page(),
                };
                let html = self.login(LoginPage {
                    csrf: &csrf,
                    username: &username,
                    from: &from,
                    next: &next,
                    link: &link,
                    notice: None,
                    error: Some(&error),
                });
                with_device(login_page(code, html, &next))
            }
            PageCall::Security(call) => security::finish(self, call, status, body),
            PageCall::OAuth(call) => crate::oauth::finish(self, call, status, body),
            PageCall::Sso(call) => sso::finish(self, call, status, body),
            PageCall::Admin(call) => admin::finish(self, call, status, body),
            PageCall::Home { csrf, notice } => match typed::<ValidateSession>(status, body) {
                Ok(Profile {
                    username,
                    nickname,
                    avatar,
                    permissions,
                    ..
                }) => {
                    let initial = nickname
                        .chars()
                        .next()
                        .map(|c| c.to_uppercase().to_string())
                        .unwrap_or_default();
                    let notice = notice.map(security::warning_text);
                    let html = render(&views::Home {
                        csrf: &csrf,
                        username: &username,
                        nickname: &nickname,
                        initial,
                        avatar: avatar.as_deref(),
                        notice: notice.as_deref(),
                        console: permissions != 0,
                    });
                    let r = page(200, html);
                    // Shown once: the cookie goes with this page.
                    if notice.is_some() {
                        r.header(notice_cookie(0, secure))
                    } else {
                        r
                    }
                }
                Err(Status::NoSession) => redirect("/login").header(clear_session_cookie(secure)),
                Err(_) => busy_page(),
            },
            PageCall::EditForm { csrf, error } => match typed::<ValidateSession>(status, body) {
                Ok(profile) => {
                    let html = render(&views::Edit {
                        csrf: &csrf,
                        nickname: &profile.nickname,
                        error,
                        avatar: profile.avatar.as_deref(),
                    });
                    page(200, html)
                }
                Err(Status::NoSession) => redirect("/login").header(clear_session_cookie(secure)),
                Err(_) => busy_page(),
            },
            PageCall::EditSave { nickname, csrf } => match typed::<ChangeNickname>(status, body) {
                Ok(()) => redirect("/home"),
                Err(Status::NoSession) => redirect("/login").header(clear_session_cookie(secure)),
                Err(Status::InvalidNickname) => {
                    let html = render(&views::Edit {
                        csrf: &csrf,
                        nickname: &nickname,
                        error: Some("Nicknames are 1–64 characters, without control characters."),
                        avatar: None,
                    });
                    page(400, html)
                }
                Err(_) => busy_page(),
            },

            // The cookie goes only once authd has ended the session: a
            // cleared cookie over a session still alive would tell the
            // person they are signed out when a thief's copy still works.
            PageCall::Logout => match typed::<Logout>(status, body) {
                Ok(()) => redirect("/login").header(clear_session_cookie(secure)),
                Err(_) => busy_page(),
            },
            PageCall::LogoutEverywhere => match typed::<LogoutEverywhere>(status, body) {
                Ok(()) | Err(Status::NoSession) => {
                    redirect("/login").header(clear_session_cookie(secure))
                }
                Err(_) => busy_page(),
            },
        }
    }
}

/// `O`'s answer, or the status that refused it (`internal` for an answer
/// that does not decode): the pages show a status, never its detail.
fn typed<O: Operation>(status: u8, body: &[u8]) -> Result<O::Answer, Status> {
    match decode_answer::<O>(status, body) {
        Ok(result) => result.map_err(|r: Refusal| r.status),
        Err(_) => Err(Status::Internal),
    }
}

impl Pages {
    /// A POST form as `F` once its CSRF token is `holder`'s, or the page
    /// refusing it (no holder: no token can be right).
    fn checked_form<F>(&self, body: &[u8], holder: Option<Holder<'_>>) -> Result<F, Response>
    where
        F: for<'de> serde::Deserialize<'de> + HasCsrf,
    {
        match parse_form::<F>(body) {
            Some(form) if holder.is_some_and(|h| self.csrf.check(h, form.csrf())) => Ok(form),
            Some(_) => Err(page(403, "<!doctype html><meta charset=\"utf-8\"><h1>This form has expired</h1><p><a href=\"\">Reload the page</a> and send it again.</p>".into())),
            None => Err(unreadable_form()),
        }
    }
}

/// The page for a form whose fields are not what the form sends.
fn unreadable_form() -> Response {
    page(400, "<!doctype html><meta charset=\"utf-8\"><h1>This form could not be read</h1><p><a href=\"\">Reload the page</a> and send it again.</p>".into())
}

/// A form with a CSRF field.
pub(crate) trait HasCsrf {
    fn csrf(&self) -> &str;
}

macro_rules! has_csrf {
    ($($form:ty),*) => { $(impl HasCsrf for $form { fn csrf(&self) -> &str { &self.csrf } })* };
}

has_csrf!(SignUpForm, LoginForm, EditForm, LogoutForm);

pub use sso::SsoButton;
