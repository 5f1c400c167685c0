//! Test harness for authd against the real stores `make test` starts:
//! each test gets its own MariaDB database and Redis key prefix (so runs
//! and tests never see each other's data), an authd process on an
//! ephemeral port, and a small blocking protocol client.

#![allow(dead_code)]

pub mod cleanup;

use mysql::prelude::Queryable;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use throng_core::proto::{self, Field, FieldWriter, FrameWriter, Header, Opcode, Status};

pub const SECRET: &str = "test-secret-test-secret-test-secret!";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with `make test`, which starts the private MariaDB and Redis")
    })
}

/// A database and key prefix of one test.
pub struct Stores {
    pub name: String,
    pub mysql_url: String,
    pub redis_url: String,
    pub prefix: String,
    pub dir: tempfile::TempDir,
}

impl Stores {
    pub fn new() -> Stores {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "throng_test_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let base = env("THRONG_TEST_MYSQL_URL");
        let root = base
            .trim_end_matches('/')
            .rsplit_once('/')
            .map_or(base.as_str(), |(r, _)| r)
            .to_owned();
        let mut conn = mysql::Conn::new(mysql::Opts::from_url(&base).unwrap()).unwrap();
        conn.query_drop(format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        ))
        .unwrap();
        Stores {
            mysql_url: format!("{root}/{name}"),
            redis_url: env("THRONG_TEST_REDIS_URL"),
            prefix: format!("{name}:"),
            name,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn mysql(&self) -> mysql::Conn {
        mysql::Conn::new(mysql::Opts::from_url(&self.mysql_url).unwrap()).unwrap()
    }

    pub fn redis(&self) -> redis::Connection {
        redis::Client::open(self.redis_url.as_str())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox.txt")
    }

    /// The last code mailed to `email` (read from the outbox file).
    pub fn last_code(&self, email: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(self.outbox()).unwrap_or_default();
            let found = text
                .lines()
                .rev()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|v| v["to"] == email)
                .map(|v| v["code"].as_str().unwrap().to_owned());
            if let Some(code) = found {
                return code;
            }
            assert!(Instant::now() < deadline, "no code mailed to {email}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `n` mails went to `email`.
    pub fn wait_for_mails(&self, email: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.mails_to(email) < n {
            assert!(Instant::now() < deadline, "fewer than {n} mails to {email}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn mails_to(&self, email: &str) -> usize {
        let text = std::fs::read_to_string(self.outbox()).unwrap_or_default();
        text.lines()
            .filter(|l| l.contains(&format!("\"to\":\"{email}\"")))
            .count()
    }
}

impl Drop for Stores {
    fn drop(&mut self) {
        cleanup::drop_test_stores(&self.mysql_url, &self.name, &self.redis_url, &self.prefix);
    }
}

/// A running authd.
pub struct Authd {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Authd {
    /// Starts authd on `stores` (Redis at `redis_url` if given), with cheap
    /// argon2 parameters unless `extra` sets others.
    pub fn start(stores: &Stores, redis_url: Option<&str>, extra: &[&str]) -> Authd {
        let mut child = Command::new(env!("CARGO_BIN_EXE_authd"))
            .args(["--listen", "127.0.0.1:0", "--threads", "2"])
            .args([
                "--set",
                "argon2.memory_kib=1024",
                "--set",
                "argon2.iterations=1",
            ])
            .args(["--set", "workers.threads=4"])
            .args(extra)
            .env("THRONG_AUTHD_MYSQL__URL", &stores.mysql_url)
            .env(
                "THRONG_AUTHD_REDIS__URL",
                redis_url.unwrap_or(&stores.redis_url),
            )
            .env("THRONG_AUTHD_REDIS__PREFIX", &stores.prefix)
            .env("THRONG_AUTHD_SECRET", SECRET)
            .env("THRONG_AUTHD_MAIL__OUTBOX", stores.outbox())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("authd exited before listening")
                .unwrap();
            assert!(
                !line.contains("hunter"),
                "a password reached the log: {line}"
            );
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split(' ').next().unwrap().parse().unwrap();
            }
        };
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                assert!(
                    !line.contains("hunter"),
                    "a password reached the log: {line}"
                );
                eprintln!("authd: {line}");
            }
        });
        Authd { child, addr }
    }

    pub fn client(&self) -> Client {
        Client::connect(self.addr)
    }

    /// SIGTERM, then waits; the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "authd did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Authd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking protocol client.
pub struct Client {
    stream: TcpStream,
    next: u32,
    buf: Vec<u8>,
}

/// An answer: its status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u8,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn status(&self) -> Status {
        Status::from_u8(self.status).unwrap_or_else(|| panic!("unknown status {}", self.status))
    }

    pub fn fields(&self) -> Vec<Field<'_>> {
        proto::decode_fields(&self.body).unwrap()
    }

    pub fn str(&self, i: usize) -> String {
        match &self.fields()[i] {
            Field::Str(s) => (*s).to_owned(),
            other => panic!("field {i} is {other:?}"),
        }
    }

    pub fn uuid(&self, i: usize) -> [u8; 16] {
        match &self.fields()[i] {
            Field::Uuid(u) => *u,
            other => panic!("field {i} is {other:?}"),
        }
    }
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Client {
            stream,
            next: 1,
            buf: Vec::new(),
        }
    }

    pub fn call(&mut self, opcode: Opcode, fields: impl FnOnce(&mut FieldWriter<'_>)) -> Answer {
        let id = self.next;
        self.next += 1;
        let mut out = Vec::new();
        let mut w = FrameWriter::new(
            &mut out,
            Header::request(opcode as u8, id),
            proto::DEFAULT_MAX_FRAME,
        );
        fields(&mut w.fields());
        w.finish().unwrap();
        self.stream.write_all(&out).unwrap();
        loop {
            if let Some((frame, used)) = proto::decode(&self.buf, proto::DEFAULT_MAX_FRAME).unwrap()
            {
                assert_eq!(frame.header.request_id, id);
                let answer = Answer {
                    status: frame.header.status,
                    body: frame.body.to_vec(),
                };
                self.buf.drain(..used);
                return answer;
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).unwrap();
            assert!(n > 0, "authd closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub fn sign_up(&mut self, username: &str, nickname: &str, password: &str) -> Answer {
        self.call(Opcode::SignUp, |w| {
            w.str(username).str(nickname).str(password);
        })
    }

    pub fn sign_in(&mut self, username: &str, password: &str) -> Answer {
        self.call(Opcode::SignIn, |w| {
            w.str(username)
                .str(password)
                .str("127.0.0.1")
                .str("test-agent/1.0");
        })
    }

    pub fn validate(&mut self, token: &str) -> Answer {
        self.call(Opcode::ValidateSession, |w| {
            w.str(token);
        })
    }
}
