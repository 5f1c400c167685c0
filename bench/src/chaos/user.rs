//! One simulated user of the chaos run, speaking to HAProxy as a browser
//! does: forms with the CSRF token of the page they came from, the
//! pre-session and session cookies, redirects read rather than followed,
//! one keep-alive connection (opened again after a failure). Each user
//! connects from an address of its own on the loopback network
//! (127.x.y.z): HAProxy passes it on, so the per-address limits see many
//! clients, as they would in production, rather than one. Answers are
//! parsed by `httparse`, forms encoded by `form_urlencoded`. Every request
//! ends as a [`Sample`]: when, what, and whether it worked.

use socket2::{Domain, Socket, Type};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// What a request was, for the per-kind counts of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Page,
    Login,
    Home,
    Nickname,
    SignUp,
    TryLogin,
}

/// One request's outcome; `at` in milliseconds since the run began.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: u32,
    pub op: Op,
    pub ok: bool,
    /// The last answer's HTTP status, 0 when none came (refused, reset,
    /// timed out).
    pub code: u16,
}

/// A user's browser: its connection, its cookies, and the samples it
/// recorded.
pub struct User {
    target: SocketAddr,
    source: IpAddr,
    stream: Option<TcpStream>,
    started: Instant,
    pub name: String,
    pub password: String,
    pre_session: Option<String>,
    pub session: Option<String>,
    pub samples: Vec<Sample>,
    last_code: u16,
}

/// An answer: status, the `Location`, the cookies set, the body.
struct Answer {
    status: u16,
    location: String,
    cookies: Vec<(String, String)>,
    body: String,
}

/// Longest answer head read.
const MAX_HEAD: usize = 64 * 1024;
/// Deadline of one request (connect, write, read).
const TIMEOUT: Duration = Duration::from_secs(5);

impl User {
    /// A user of the site at `target` connecting from `source`.
    pub fn new(target: SocketAddr, source: IpAddr, name: String, started: Instant) -> User {
        User {
            target,
            source,
            stream: None,
            started,
            password: format!("{name}-pw-chaos"),
            name,
            pre_session: None,
            session: None,
            samples: Vec::new(),
            last_code: 0,
        }
    }

    fn connect(&self) -> std::io::Result<TcpStream> {
        let socket = Socket::new(Domain::for_address(self.target), Type::STREAM, None)?;
        socket.bind(&SocketAddr::new(self.source, 0).into())?;
        socket.connect_timeout(&self.target.into(), TIMEOUT)?;
        let stream: TcpStream = socket.into();
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        Ok(stream)
    }

    /// One request on the kept connection; `None` on any failure (the
    /// connection is then dropped and the next request opens another).
    fn exchange(&mut self, method: &str, path: &str, extra: &str, body: &[u8]) -> Option<Answer> {
        let answer = self.try_exchange(method, path, extra, body);
        self.last_code = answer.as_ref().map_or(0, |a| a.status);
        if answer.is_none() {
            self.stream = None;
        }
        answer
    }

    fn try_exchange(
        &mut self,
        method: &str,
        path: &str,
        extra: &str,
        body: &[u8],
    ) -> Option<Answer> {
        if self.stream.is_none() {
            self.stream = Some(self.connect().ok()?);
        }
        let cookie = self.cookie_header();
        let stream = self.stream.as_mut()?;
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: chaos\r\n{extra}");
        if !cookie.is_empty() {
            req.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        if method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut out = req.into_bytes();
        out.extend_from_slice(body);
        stream.write_all(&out).ok()?;
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 8192];
        loop {
            let n = stream.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut headers);
            let head_len = match resp.parse(&buf).ok()? {
                httparse::Status::Complete(len) => len,
                httparse::Status::Partial if buf.len() < MAX_HEAD => continue,
                httparse::Status::Partial => return None,
            };
            let value = |name: &str| {
                resp.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| String::from_utf8_lossy(h.value).into_owned())
            };
            let length: usize = value("content-length")?.trim().parse().ok()?;
            let close = value("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
            let location = value("location").unwrap_or_default();
            let cookies = resp
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("set-cookie"))
                .filter_map(|h| {
                    let text = String::from_utf8_lossy(h.value);
                    let (name, value) = text.split(';').next()?.split_once('=')?;
                    Some((name.trim().to_owned(), value.trim().to_owned()))
                })
                .collect();
            let status = resp.code?;
            while buf.len() < head_len + length {
                let n = stream.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8_lossy(&buf[head_len..head_len + length]).into_owned();
            if close {
                self.stream = None;
            }
            return Some(Answer {
                status,
                location,
                cookies,
                body,
            });
        }
    }

    fn record(&mut self, op: Op, ok: bool) -> bool {
        let at = self.started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32;
        let code = self.last_code;
        self.samples.push(Sample { at, op, ok, code });
        ok
    }

    fn cookie_header(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.pre_session {
            parts.push(format!("throng_csrf={c}"));
        }
        if let Some(c) = &self.session {
            parts.push(format!("throng_session={c}"));
        }
        parts.join("; ")
    }

    fn take_cookies(&mut self, a: &Answer) {
        for (name, value) in &a.cookies {
            let value = (!value.is_empty()).then(|| value.clone());
            match name.as_str() {
                "throng_csrf" => self.pre_session = value,
                "throng_session" => self.session = value,
                _ => {}
            }
        }
    }

    fn get(&mut self, path: &str) -> Option<Answer> {
        let a = self.exchange("GET", path, "", b"")?;
        self.take_cookies(&a);
        Some(a)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Option<Answer> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().copied())
            .finish();
        let a = self.exchange(
            "POST",
            path,
            "Content-Type: application/x-www-form-urlencoded\r\n",
            body.as_bytes(),
        )?;
        self.take_cookies(&a);
        Some(a)
    }

    /// The CSRF token of the form on `path`, or `None` (recorded as a
    /// failed page load).
    fn form_token(&mut self, path: &str) -> Option<String> {
        let page = self.get(path).filter(|a| a.status == 200);
        let token = page.and_then(|a| {
            let rest = a.body.split_once("name=\"csrf\" value=\"")?.1;
            Some(rest.split('"').next()?.to_owned())
        });
        self.record(Op::Page, token.is_some());
        token
    }

    /// Signs this user up; true once webd acknowledged the account.
    pub fn sign_up(&mut self) -> bool {
        let Some(csrf) = self.form_token("/signup") else {
            return false;
        };
        let (name, pw) = (self.name.clone(), self.password.clone());
        let a = self.post(
            "/signup",
            &[
                ("csrf", &csrf),
                ("username", &name),
                ("nickname", &name),
                ("password", &pw),
                ("password2", &pw),
            ],
        );
        let ok = a.is_some_and(|a| a.status == 303 && a.location.contains("/login"));
        self.record(Op::SignUp, ok)
    }

    /// Logs in; true once a session cookie came back.
    pub fn log_in(&mut self) -> bool {
        let Some(csrf) = self.form_token("/login") else {
            return false;
        };
        self.session = None;
        let (name, pw) = (self.name.clone(), self.password.clone());
        let a = self.post(
            "/login",
            &[("csrf", &csrf), ("username", &name), ("password", &pw)],
        );
        let ok = a.is_some_and(|a| a.status == 303 && a.location.ends_with("/home"))
            && self.session.is_some();
        self.record(Op::Login, ok)
    }

    /// Loads `/home`: `Some(true)` shown, `Some(false)` sent to log in
    /// (the session is gone), `None` failed.
    pub fn home(&mut self) -> Option<bool> {
        let a = self.get("/home");
        let seen = match a {
            Some(a) if a.status == 200 => Some(true),
            Some(a) if a.status == 303 && a.location.contains("/login") => Some(false),
            _ => None,
        };
        self.record(Op::Home, seen == Some(true));
        seen
    }

    /// Sets the nickname; true once webd acknowledged it.
    pub fn set_nickname(&mut self, nickname: &str) -> bool {
        let Some(csrf) = self.form_token("/edit") else {
            return false;
        };
        let a = self.post("/edit", &[("csrf", &csrf), ("nickname", nickname)]);
        let ok = a.is_some_and(|a| a.status == 303 && a.location.ends_with("/home"));
        self.record(Op::Nickname, ok)
    }

    /// TryLogin through the JSON API: the massd node handed out
    /// (`host:port`), or `None` on failure. Whether that node is alive is
    /// judged by the caller, who knows which one was killed.
    pub fn try_login(&mut self) -> Option<String> {
        let body =
            serde_json::json!({"username": self.name, "password": self.password}).to_string();
        let a = self.exchange(
            "POST",
            "/trylogin_server",
            "Content-Type: application/json\r\n",
            body.as_bytes(),
        )?;
        if a.status != 200 {
            return None;
        }
        let v: serde_json::Value = serde_json::from_str(&a.body).ok()?;
        Some(format!("{}:{}", v["host"].as_str()?, v["port"].as_u64()?))
    }

    /// Records a TryLogin's outcome once the caller judged it.
    pub fn record_try_login(&mut self, ok: bool) {
        self.record(Op::TryLogin, ok);
    }

    /// Whether `session` (a cookie value) still opens `/home`, on a
    /// connection of its own, without touching this user's cookies.
    pub fn session_alive(&self, session: &str) -> Option<bool> {
        let mut probe = User::new(self.target, self.source, self.name.clone(), self.started);
        probe.session = Some(session.to_owned());
        match probe.exchange("GET", "/home", "", b"")?.status {
            200 => Some(true),
            303 => Some(false),
            _ => None,
        }
    }
}
