//! `http-static`, `http-login` and `http-home`: webd over HTTP/1.1 with
//! keep-alive, read by Content-Length. A 2xx or 3xx answer counts as done,
//! anything else as an error. `http-login` posts the log-in form of a
//! seeded user (sweeping the first K users like the rpc scenarios);
//! `http-home` logs each connection in once during the handshake and then
//! loads `/home` with its session cookie. Each connection first loads
//! `/login` as a browser does, and posts its forms with the pre-session
//! cookie and the CSRF token that page gave it (webd binds the token to
//! that cookie; the page is read the same way from a webd that used a
//! double-submit pair, so older builds can be measured alike).

use super::{Answer, StreamError, Workload};
use crate::users;
use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpKind {
    Static,
    Login,
    Home,
}

pub struct Http {
    kind: HttpKind,
    users: u64,
    connections: u64,
}

impl Http {
    pub fn new(kind: HttpKind, users: u64, connections: usize) -> Self {
        Http {
            kind,
            users: users.max(1),
            connections: connections.max(1) as u64,
        }
    }

    /// The log-in form of `user`, with the pre-session `state` of
    /// [`PreSession`].
    fn login(&self, user: u64, state: &[u8], out: &mut Vec<u8>) {
        let (cookie, csrf) = PreSession::read(state).unwrap_or(("", ""));
        let body = format!(
            "csrf={csrf}&username={}&password={}",
            users::username(user),
            users::password(user, users::DEFAULT_HASH_POOL)
        );
        // A browser keeps the device cookie its first log-in got: each
        // connection is one browser, its device id the pre-session id's
        // 32 hex digits (a build without device cookies ignores it).
        out.extend_from_slice(
            format!(
                "POST /login HTTP/1.1\r\nHost: bench\r\nCookie: throng_csrf={cookie}; throng_device={cookie}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    }
}

/// The value of a `Set-Cookie` header line, whatever the case of its name
/// (HAProxy passes header names on in lower case).
fn set_cookie(line: &str) -> Option<&str> {
    let (name, value) = line.split_once(':')?;
    name.eq_ignore_ascii_case("set-cookie")
        .then(|| value.trim_start())
}

/// What a connection keeps from its `/login` page: the pre-session
/// cookie and the form's CSRF token, as `pre\0<cookie>\0<token>`.
struct PreSession;

impl PreSession {
    const TAG: &'static [u8] = b"pre\0";

    fn read(state: &[u8]) -> Option<(&str, &str)> {
        let rest = std::str::from_utf8(state.strip_prefix(Self::TAG)?).ok()?;
        rest.split_once('\0')
    }

    /// From the `/login` page's head and body.
    fn take(head: &str, body: &[u8], state: &mut Vec<u8>) -> Result<(), StreamError> {
        let cookie = head
            .lines()
            .filter_map(set_cookie)
            .find_map(|c| c.strip_prefix("throng_csrf="))
            .and_then(|c| c.split(';').next())
            .ok_or_else(|| StreamError("GET /login set no throng_csrf cookie".into()))?;
        let body = String::from_utf8_lossy(body);
        let token = body
            .split_once("name=\"csrf\" value=\"")
            .and_then(|(_, rest)| rest.split('"').next())
            .ok_or_else(|| StreamError("GET /login has no CSRF field".into()))?;
        state.clear();
        state.extend_from_slice(Self::TAG);
        state.extend_from_slice(cookie.as_bytes());
        state.push(0);
        state.extend_from_slice(token.as_bytes());
        Ok(())
    }
}

/// One whole response at the front of `input`: its length, status and
/// head text.
fn response(input: &[u8]) -> Result<Option<(usize, u16, &str)>, StreamError> {
    let Some(end) = input.windows(4).position(|w| w == b"\r\n\r\n") else {
        if input.len() > 64 * 1024 {
            return Err(StreamError("response head over 64 KiB".into()));
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&input[..end])
        .map_err(|_| StreamError("response head is not UTF-8".into()))?;
    let status: u16 = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StreamError(format!("bad status line {:?}", head.lines().next())))?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let total = end + 4 + length;
    if input.len() < total {
        return Ok(None);
    }
    Ok(Some((total, status, head)))
}

impl Workload for Http {
    fn name(&self) -> &'static str {
        match self.kind {
            HttpKind::Static => "http-static",
            HttpKind::Login => "http-login",
            HttpKind::Home => "http-home",
        }
    }

    fn default_target(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9090))
    }

    fn handshake(&self, _: usize, out: &mut Vec<u8>) -> usize {
        if self.kind == HttpKind::Static {
            return 0;
        }
        out.extend_from_slice(b"GET /login HTTP/1.1\r\nHost: bench\r\n\r\n");
        1
    }

    fn handshake_more(&self, conn: usize, state: &[u8], out: &mut Vec<u8>) -> usize {
        if self.kind != HttpKind::Home || PreSession::read(state).is_none() {
            return 0;
        }
        self.login(1 + conn as u64 % self.users, state, out);
        1
    }

    fn handshake_answer(
        &self,
        input: &[u8],
        state: &mut Vec<u8>,
    ) -> Result<Option<(usize, Answer)>, StreamError> {
        let Some((used, status, head)) = response(input)? else {
            return Ok(None);
        };
        if state.is_empty() {
            // The `/login` page.
            if status != 200 {
                return Err(StreamError(format!("GET /login answered {status}")));
            }
            let body_at = head.len() + 4;
            PreSession::take(head, &input[body_at..used], state)?;
            return Ok(Some((used, Answer::Ok)));
        }
        let cookie = head
            .lines()
            .filter_map(set_cookie)
            .find_map(|c| c.strip_prefix("throng_session="))
            .and_then(|c| c.split(';').next());
        match (status, cookie) {
            (303, Some(token)) => {
                state.clear();
                state.extend_from_slice(token.as_bytes());
                Ok(Some((used, Answer::Ok)))
            }
            _ => Err(StreamError(format!(
                "log-in answered {status} without a session (seeded users? `bench seed`)"
            ))),
        }
    }

    fn request(&self, conn: usize, state: &[u8], seq: u64, out: &mut Vec<u8>) {
        match self.kind {
            HttpKind::Static => {
                out.extend_from_slice(b"GET /login HTTP/1.1\r\nHost: bench\r\n\r\n")
            }
            HttpKind::Login => self.login(
                1 + (seq * self.connections + conn as u64) % self.users,
                state,
                out,
            ),
            HttpKind::Home => {
                out.extend_from_slice(
                    b"GET /home HTTP/1.1\r\nHost: bench\r\nCookie: throng_session=",
                );
                out.extend_from_slice(state);
                out.extend_from_slice(b"\r\n\r\n");
            }
        }
    }

    fn answer(&self, input: &[u8]) -> Result<Option<(usize, Answer)>, StreamError> {
        Ok(response(input)?.map(|(used, status, _)| {
            (
                used,
                if (200..400).contains(&status) {
                    Answer::Ok
                } else {
                    Answer::Failed
                },
            )
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_read_by_length() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404";
        let (used, status, _) = response(raw).unwrap().unwrap();
        assert_eq!((used, status), (raw.len() - 12, 200));
        assert!(response(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab")
            .unwrap()
            .is_none());
        let h = Http::new(HttpKind::Static, 1, 1);
        assert_eq!(
            h.answer(b"HTTP/1.1 503 X\r\n\r\n").unwrap(),
            Some((18, Answer::Failed))
        );
        assert_eq!(
            h.answer(b"HTTP/1.1 303 X\r\n\r\n").unwrap(),
            Some((18, Answer::Ok))
        );
    }
}
