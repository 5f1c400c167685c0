//! The pages: sign-up, log-in, home, edit, log-out, server-rendered with
//! askama (every value HTML-escaped), working without JavaScript. Each
//! state-changing form carries a CSRF token checked against a cookie
//! (double submit, `SameSite=Strict`); the session cookie is `HttpOnly`,
//! `SameSite=Lax` and `Secure` when configured. A request needs at most one
//! authd call: [`Pages::start`] says which, [`Pages::finish`] turns its
//! answer into the page.

mod forms;
mod views;

use crate::avatars::UploadError;
use crate::http::{Head, Response};
pub use forms::redirect;
use forms::{
    clear_session_cookie, cookie, csrf_cookie, csrf_ok, csrf_token, field, page, session_cookie,
};
use std::net::SocketAddr;
use throng_core::client::{CallError, Response as Answer};
use throng_core::proto::{decode_fields, Field, Opcode, Status};
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
    },
    Home {
        csrf: String,
        set_csrf: bool,
    },
    EditForm {
        csrf: String,
        set_csrf: bool,
        error: Option<&'static str>,
    },
    EditSave {
        nickname: String,
        csrf: String,
    },
    AvatarSaved,
    Logout,
}

/// The session token of the request, if it carries one.
pub fn session(head: &Head<'_>) -> Option<String> {
    cookie(head, forms::SESSION_COOKIE)
}

/// The CSRF cookie of the request (the avatar pool checks the form).
pub fn csrf_cookie_value(head: &Head<'_>) -> Option<String> {
    cookie(head, forms::CSRF_COOKIE)
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
        _ => "The picture could not be saved; try again.",
    })
}

/// What to do with a page request.
pub enum Step {
    Now(Response),
    Call {
        opcode: Opcode,
        args: Vec<String>,
        then: PageCall,
    },
}

const STYLE: &str = include_str!("../../static/style.css");
const FORM_LIMIT: usize = 8 * 1024;

/// The page routes.
pub struct Pages {
    pub secure_cookies: bool,
}

fn with_csrf(r: Response, csrf: &str, set: bool, secure: bool) -> Response {
    if set {
        r.header(csrf_cookie(csrf, secure))
    } else {
        r
    }
}

fn busy_page() -> Response {
    page(503, "<!doctype html><meta charset=\"utf-8\"><h1>Service unavailable</h1><p>Please try again in a moment.</p>".into())
        .header("Retry-After: 1")
}

impl Pages {
    /// The body limit of a page route, its refusal, or `None` when `path`
    /// is no page.
    pub fn route(&self, method: &str, path: &str) -> Option<Result<usize, Response>> {
        let allowed: &str = match path {
            "/" | "/home" | "/style.css" => "GET, HEAD",
            "/signup" | "/login" | "/edit" => "GET, HEAD, POST",
            "/logout" => "POST",
            _ => return None,
        };
        let method_ok = allowed.split(", ").any(|m| m == method);
        Some(if method_ok {
            Ok(if method == "POST" { FORM_LIMIT } else { 0 })
        } else {
            Err(Response::html(405, "<h1>405 Method Not Allowed</h1>\n")
                .header(format!("Allow: {allowed}")))
        })
    }

    pub fn start(&self, head: &Head<'_>, peer: SocketAddr, body: &[u8]) -> Step {
        let post = head.method == "POST";
        if post && !csrf_ok(head, body) {
            return Step::Now(page(403, "<!doctype html><meta charset=\"utf-8\"><h1>This form has expired</h1><p><a href=\"\">Reload the page</a> and send it again.</p>".into()));
        }
        let session = cookie(head, forms::SESSION_COOKIE);
        let (csrf, set_csrf) = csrf_token(head);
        let secure = self.secure_cookies;
        match (head.path, post) {
            ("/", _) => Step::Now(redirect(if session.is_some() { "/home" } else { "/login" })),
            ("/style.css", _) => Step::Now(
                Response::new(200)
                    .header("Content-Type: text/css; charset=utf-8")
                    .header("Cache-Control: public, max-age=3600")
                    .body(STYLE),
            ),
            ("/signup", false) => {
                let html = render(&views::SignUp {
                    csrf: &csrf,
                    username: "",
                    nickname: "",
                    error: None,
                });
                Step::Now(with_csrf(page(200, html), &csrf, set_csrf, secure))
            }
            ("/signup", true) => {
                let (username, nickname) = (field(body, "username"), field(body, "nickname"));
                let password = field(body, "password");
                if password != field(body, "password2") {
                    let html = render(&views::SignUp {
                        csrf: &csrf,
                        username: &username,
                        nickname: &nickname,
                        error: Some("The two passwords differ."),
                    });
                    return Step::Now(page(400, html));
                }
                Step::Call {
                    opcode: Opcode::SignUp,
                    args: vec![username.clone(), nickname.clone(), password],
                    then: PageCall::SignUp {
                        username,
                        nickname,
                        csrf,
                    },
                }
            }
            ("/login", false) => {
                let notice = head
                    .query
                    .is_some_and(|q| q.split('&').any(|p| p == "notice=created"))
                    .then_some("Your account is ready: log in.");
                let html = render(&views::Login {
                    csrf: &csrf,
                    username: "",
                    notice,
                    error: None,
                });
                Step::Now(with_csrf(page(200, html), &csrf, set_csrf, secure))
            }
            ("/login", true) => {
                let username = field(body, "username");
                let agent = head
                    .user_agent
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .unwrap_or_default();
                Step::Call {
                    opcode: Opcode::SignIn,
                    args: vec![
                        username.clone(),
                        field(body, "password"),
                        peer.ip().to_string(),
                        agent,
                    ],
                    then: PageCall::Login { username, csrf },
                }
            }
            ("/home" | "/edit", false) => match session {
                None => Step::Now(redirect("/login")),
                Some(token) => Step::Call {
                    opcode: Opcode::ValidateSession,
                    args: vec![token],
                    then: if head.path == "/home" {
                        PageCall::Home { csrf, set_csrf }
                    } else {
                        PageCall::EditForm {
                            csrf,
                            set_csrf,
                            error: upload_message(head.query),
                        }
                    },
                },
            },
            ("/edit", true) => match session {
                None => Step::Now(redirect("/login")),
                Some(token) => {
                    let nickname = field(body, "nickname");
                    Step::Call {
                        opcode: Opcode::ChangeNickname,
                        args: vec![token, nickname.clone()],
                        then: PageCall::EditSave { nickname, csrf },
                    }
                }
            },
            ("/logout", true) => match session {
                None => Step::Now(redirect("/login").header(clear_session_cookie())),
                Some(token) => Step::Call {
                    opcode: Opcode::Logout,
                    args: vec![token],
                    then: PageCall::Logout,
                },
            },
            _ => Step::Now(Response::html(404, "<h1>404 Not Found</h1>\n")),
        }
    }

    /// The page when authd could not be called at all.
    pub fn finish_failed(&self) -> Response {
        busy_page()
    }

    /// The page for authd's answer to `call`.
    pub fn finish(&self, call: PageCall, result: Result<Answer, CallError>) -> Response {
        let Ok(answer) = result else {
            return busy_page();
        };
        let status = Status::from_u8(answer.header.status).unwrap_or(Status::Internal);
        let fields = decode_fields(&answer.body).unwrap_or_default();
        let text = |i: usize| match fields.get(i) {
            Some(Field::Str(s)) => (*s).to_owned(),
            _ => String::new(),
        };
        let secure = self.secure_cookies;
        match call {
            PageCall::SignUp {
                username,
                nickname,
                csrf,
            } => {
                let (code, error) = match status {
                    Status::Ok => return redirect("/login?notice=created"),
                    Status::Taken => (409, "That username is taken; choose another."),
                    Status::InvalidUsername => (400, "Usernames are 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit."),
                    Status::InvalidNickname => (400, "Nicknames are 1–64 characters, without control characters."),
                    Status::InvalidPassword => (400, "Passwords are 8 to 128 bytes long."),
                    _ => return busy_page(),
                };
                let html = render(&views::SignUp {
                    csrf: &csrf,
                    username: &username,
                    nickname: &nickname,
                    error: Some(error),
                });
                page(code, html)
            }
            PageCall::Login { username, csrf } => {
                let (code, error) = match status {
                    Status::Ok => {
                        return redirect("/home").header(session_cookie(&text(0), secure));
                    }
                    Status::BadCredentials => (401, "Wrong username or password.".to_string()),
                    Status::TooManyAttempts => {
                        let wait = match fields.first() {
                            Some(Field::U32(s)) => s.div_ceil(60),
                            _ => 15,
                        };
                        (
                            429,
                            format!("Too many failed attempts. Try again in {wait} minute(s)."),
                        )
                    }
                    _ => return busy_page(),
                };
                let html = render(&views::Login {
                    csrf: &csrf,
                    username: &username,
                    notice: None,
                    error: Some(&error),
                });
                page(code, html)
            }
            PageCall::Home { csrf, set_csrf } => match status {
                Status::Ok => {
                    let (username, nickname) = (text(1), text(2));
                    let avatar = match fields.get(3) {
                        Some(Field::Str(a)) => Some((*a).to_owned()),
                        _ => None,
                    };
                    let initial = nickname
                        .chars()
                        .next()
                        .map(|c| c.to_uppercase().to_string())
                        .unwrap_or_default();
                    let html = render(&views::Home {
                        csrf: &csrf,
                        username: &username,
                        nickname: &nickname,
                        initial,
                        avatar: avatar.as_deref(),
                    });
                    with_csrf(page(200, html), &csrf, set_csrf, secure)
                }
                Status::NoSession => redirect("/login").header(clear_session_cookie()),
                _ => busy_page(),
            },
            PageCall::EditForm {
                csrf,
                set_csrf,
                error,
            } => match status {
                Status::Ok => {
                    let avatar = match fields.get(3) {
                        Some(Field::Str(a)) => Some((*a).to_owned()),
                        _ => None,
                    };
                    let html = render(&views::Edit {
                        csrf: &csrf,
                        nickname: &text(2),
                        error,
                        avatar: avatar.as_deref(),
                    });
                    with_csrf(page(200, html), &csrf, set_csrf, secure)
                }
                Status::NoSession => redirect("/login").header(clear_session_cookie()),
                _ => busy_page(),
            },
            PageCall::EditSave { nickname, csrf } => match status {
                Status::Ok => redirect("/home"),
                Status::NoSession => redirect("/login").header(clear_session_cookie()),
                Status::InvalidNickname => {
                    let html = render(&views::Edit {
                        csrf: &csrf,
                        nickname: &nickname,
                        error: Some("Nicknames are 1–64 characters, without control characters."),
                        avatar: None,
                    });
                    page(400, html)
                }
                _ => busy_page(),
            },
            PageCall::AvatarSaved => match status {
                Status::Ok => redirect("/home"),
                Status::NoSession => redirect("/login").header(clear_session_cookie()),
                Status::InvalidPhotoId => edit_error(UploadError::Failed),
                _ => edit_error(UploadError::Busy),
            },
            PageCall::Logout => redirect("/login").header(clear_session_cookie()),
        }
    }
}
