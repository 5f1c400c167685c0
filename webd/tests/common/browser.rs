//! A tiny browser for the page tests: a cookie jar, form posts and
//! multipart uploads over plain TCP, and the steps every page test starts
//! with (wait for authd, sign up and log in).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A tiny browser: a cookie jar and form posts.
pub struct Browser {
    pub addr: SocketAddr,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix("Location: "))
    }

    /// The value of the hidden CSRF field.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a CSRF field")
            + 19;
        self.body[at..at + 32].to_owned()
    }
}

pub fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (k, v) in pairs {
        if !s.is_empty() {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        for b in v.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => s.push(b as char),
                _ => s.push_str(&format!("%{b:02X}")),
            }
        }
    }
    s
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Self {
        Browser {
            addr,
            cookies: HashMap::new(),
        }
    }

    /// One request with the cookie jar; the jar takes the answer's cookies.
    pub fn exchange(
        &mut self,
        method: &str,
        path: &str,
        extra: &str,
        body: Option<(&str, &[u8])>,
    ) -> (u16, String, Vec<u8>) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nUser-Agent: test-browser\r\nConnection: close\r\n{extra}");
        if !self.cookies.is_empty() {
            let cookie: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req.push_str(&format!("Cookie: {}\r\n", cookie.join("; ")));
        }
        if let Some((content_type, body)) = body {
            req.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        if let Some((_, body)) = body {
            s.write_all(body).unwrap();
        }
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let headers = String::from_utf8_lossy(&out[..end]).to_string();
        for line in headers
            .lines()
            .filter_map(|l| l.strip_prefix("Set-Cookie: "))
        {
            let (pair, attrs) = line.split_once(';').unwrap_or((line, ""));
            let (k, v) = pair.split_once('=').unwrap();
            assert!(attrs.contains("HttpOnly"), "{line}");
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        (
            headers[9..12].parse().unwrap(),
            headers,
            out[end + 4..].to_vec(),
        )
    }

    pub fn send(&mut self, method: &str, path: &str, form: Option<String>) -> Page {
        let form = form.unwrap_or_default();
        let body =
            (method == "POST").then_some(("application/x-www-form-urlencoded", form.as_bytes()));
        let (status, headers, body) = self.exchange(method, path, "", body);
        Page {
            status,
            headers,
            body: String::from_utf8(body).unwrap(),
        }
    }

    pub fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, None)
    }

    pub fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Page {
        self.send("POST", path, Some(encode(pairs)))
    }
}

/// Signs `username` up and logs `b` in.
pub fn sign_up_and_log_in(b: &mut Browser, username: &str) {
    let csrf = b.get("/signup").csrf();
    let pw = "hunter2-hunter2";
    let p = b.post(
        "/signup",
        &[
            ("csrf", &csrf),
            ("username", username),
            ("nickname", username),
            ("password", pw),
            ("password2", pw),
        ],
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let csrf = b.get("/login").csrf();
    let p = b.post(
        "/login",
        &[("csrf", &csrf), ("username", username), ("password", pw)],
    );
    assert_eq!((p.status, p.location()), (303, Some("/home")));
}

/// Waits until webd reaches authd (it connects in the background).
pub fn ready(b: &mut Browser) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        b.cookies.insert(
            "throng_session".into(),
            "r.00000000000000000000000000000000".into(),
        );
        let p = b.get("/home");
        b.cookies.remove("throng_session");
        if p.status == 303 || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn multipart(csrf: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----throngtestboundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Browser {
    pub fn upload(&mut self, csrf: &str, file: &[u8]) -> Page {
        let (content_type, body) = multipart(csrf, file);
        let (status, headers, body) =
            self.exchange("POST", "/edit/avatar", "", Some((&content_type, &body)));
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&body).to_string(),
        }
    }

    /// GET returning raw bytes and headers.
    pub fn raw(&mut self, path: &str, extra: &str) -> (u16, String, Vec<u8>) {
        self.exchange("GET", path, extra, None)
    }
}
