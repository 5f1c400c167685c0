//! Test harness for authd against the real stores `make test` starts:
//! each test gets its own stores (`throng-testkit`), an authd process on an
//! ephemeral port, and a typed blocking client with the calls the tests
//! make most.

#![allow(dead_code)]

use authd_wire::ops::{Profile, SignIn, SignUp, SignedIn, SignedUp, ValidateSession};
use authd_wire::{Refusal, Status};
use std::net::SocketAddr;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use throng_testkit::{spawn, BlockingClient};

pub use throng_testkit::TestStores;

pub const SECRET: &str = "test-secret-test-secret-test-secret!";
/// The key callers show authd first (every test authd requires one).
pub const CALLER_KEY: &str = "test-caller-key-test-caller-key-test";
/// The massd token key: what massd nodes hold, not the master key.
pub const MASSD_KEY: &str = "test-massd-key-test-massd-key-test!!";

/// New stores for one authd test.
pub fn stores() -> TestStores {
    TestStores::new("authd")
}

/// A running authd.
pub struct Authd {
    pub child: Child,
    pub addr: SocketAddr,
}

/// Panics on a log line holding a test password.
fn no_password(line: &str) {
    assert!(
        !line.contains("hunter"),
        "a password reached the log: {line}"
    );
}

impl Authd {
    /// Starts authd on `stores` (Redis at `redis_url` if given), with cheap
    /// argon2 parameters unless `extra` sets others.
    pub fn start(stores: &TestStores, redis_url: Option<&str>, extra: &[&str]) -> Authd {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_authd"));
        cmd.args(["--listen", "127.0.0.1:0", "--threads", "2"])
            .args([
                "--set",
                "argon2.memory_kib=1024",
                "--set",
                "argon2.iterations=1",
            ])
            .args(["--set", "workers.threads=4"])
            .args(["--set", "records.rollup_every=\"200ms\""])
            .args(extra)
            .env("THRONG_AUTHD_MYSQL__URL", &stores.mysql_url)
            .env(
                "THRONG_AUTHD_REDIS__URL",
                redis_url.unwrap_or(&stores.redis_url),
            )
            .env("THRONG_AUTHD_REDIS__PREFIX", &stores.prefix)
            .env("THRONG_AUTHD_SECRET", SECRET)
            .env("THRONG_AUTHD_MASSD__TOKEN_SECRET", MASSD_KEY)
            .env("THRONG_AUTHD_CALLER_KEY", CALLER_KEY)
            .env("THRONG_AUTHD_MAIL__OUTBOX", stores.outbox_path());
        let (child, addr) = spawn::until_listening(cmd, "authd", no_password);
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

/// Runs `authd admin …` against `stores` with the daemon's environment.
pub fn admin_cli(stores: &TestStores, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_authd"))
        .arg("admin")
        .args(args)
        .env("THRONG_AUTHD_MYSQL__URL", &stores.mysql_url)
        .env("THRONG_AUTHD_REDIS__URL", &stores.redis_url)
        .env("THRONG_AUTHD_REDIS__PREFIX", &stores.prefix)
        .output()
        .unwrap()
}

/// `authd admin …` that must succeed; its standard output.
pub fn admin(stores: &TestStores, args: &[&str]) -> String {
    let out = admin_cli(stores, args);
    assert!(
        out.status.success(),
        "authd admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Drop for Authd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status an answer ended with, `ok` included.
pub trait Ended {
    fn status(&self) -> Status;
}

impl<T> Ended for Result<T, Refusal> {
    fn status(&self) -> Status {
        match self {
            Ok(_) => Status::Ok,
            Err(refusal) => refusal.status,
        }
    }
}

/// The typed client with the calls most tests make.
pub struct Client(pub BlockingClient);

impl std::ops::Deref for Client {
    type Target = BlockingClient;
    fn deref(&self) -> &BlockingClient {
        &self.0
    }
}

impl std::ops::DerefMut for Client {
    fn deref_mut(&mut self) -> &mut BlockingClient {
        &mut self.0
    }
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Client(BlockingClient::connect_with_key(addr, CALLER_KEY))
    }

    pub fn sign_up(
        &mut self,
        username: &str,
        nickname: &str,
        password: &str,
    ) -> Result<SignedUp, Refusal> {
        self.call(&SignUp {
            username: username.into(),
            nickname: nickname.into(),
            password: password.into(),
            ip: String::new(),
        })
    }

    pub fn sign_in(&mut self, username: &str, password: &str) -> Result<SignedIn, Refusal> {
        self.call(&SignIn {
            username: username.into(),
            password: password.into(),
            ip: "127.0.0.1".into(),
            agent: "test-agent/1.0".into(),
            device: String::new(),
            referrer: String::new(),
            link: Default::default(),
        })
    }

    /// The token of a sign-in that must succeed.
    pub fn token(&mut self, username: &str, password: &str) -> String {
        self.sign_in(username, password).unwrap().token.0
    }

    pub fn validate(&mut self, token: &str) -> Result<Profile, Refusal> {
        self.call(&ValidateSession {
            token: token.into(),
        })
    }
}
