//! authd's configuration: the reactor, the stores, the worker and argon2
//! pools, sessions, codes, rate limits and the massd token. Every secret
//! (store URLs with passwords, the server secret) comes from the
//! environment in practice (`THRONG_AUTHD_MYSQL__URL`, …).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use throng_core::config::DaemonConfig;
use throng_core::logging::LogConfig;
use throng_core::reactor::ReactorConfig;

/// Secrets never leave through `--print-config` (or any serialisation):
/// a set secret prints as `[redacted]`. The defaults hold none, so the
/// config layering (which serialises the defaults) is unaffected.
fn redacted<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if v.is_empty() { "" } else { "[redacted]" })
}

/// A URL with its password replaced by `***`.
/// Each URL of a comma-separated list redacted on its own.
fn url_redacted<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    let each: Vec<String> = v.split(',').map(redact_url).collect();
    s.serialize_str(&each.join(","))
}

/// `url` with every secret it can carry masked: the password of the
/// userinfo, and the value of any query parameter whose name says it is
/// one (`password`, `pass`, `pwd`, `secret`, `token`, `key`, `auth`).
/// Parsed as a URL (the `url` crate), so an `@` or `:` inside the password
/// cannot move the cut; what does not parse is masked whole.
pub fn redact_url(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else {
        return if text.is_empty() {
            String::new()
        } else {
            "[unparsable url]".into()
        };
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    let secret_names = ["password", "pass", "pwd", "secret", "token", "key", "auth"];
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let hidden = secret_names
                    .iter()
                    .any(|n| k.to_ascii_lowercase().contains(n));
                (
                    k.into_owned(),
                    if hidden { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string().replace("%2A%2A%2A", "***")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub reactor: ReactorConfig,
    pub log: LogConfig,
    /// Largest frame accepted from a client, header included.
    pub max_frame: u32,
    /// In production the server secret has no default and must be given.
    pub production: bool,
    /// The master key, at least 32 bytes: authd derives a key per purpose
    /// from it ([`crate::keys`]) and uses it for nothing else. Empty outside
    /// production: a random one per start.
    #[serde(serialize_with = "redacted")]
    pub secret: String,
    /// The key every caller (webd, the benchmarks) shows in its first
    /// request (`hello`, core PROTOCOL.md "Callers"), at least 32 bytes;
    /// only callers that showed it are served and may say which client
    /// address a request is for. Empty: every caller is served (refused in
    /// production).
    #[serde(serialize_with = "redacted")]
    pub caller_key: String,
    pub mysql: MysqlConfig,
    pub redis: RedisConfig,
    pub workers: WorkerConfig,
    pub argon2: Argon2Config,
    pub sessions: SessionConfig,
    pub limits: LimitConfig,
    pub codes: CodeConfig,
    pub mail: MailConfig,
    pub massd: MassdConfig,
    pub records: RecordConfig,
    pub security: SecurityConfig,
    pub oidc: OidcConfig,
    /// Where `GET /metrics` is served for Prometheus: a loopback address
    /// of its own (`throng_core::metrics_http`); unset: nowhere (the
    /// `stats` opcode still answers callers with the key).
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reactor: ReactorConfig {
                listen: vec!["127.0.0.1:9999".parse().expect("valid literal")],
                ..ReactorConfig::default()
            },
            log: LogConfig::default(),
            max_frame: throng_core::proto::DEFAULT_MAX_FRAME,
            production: false,
            secret: String::new(),
            caller_key: String::new(),
            mysql: MysqlConfig::default(),
            redis: RedisConfig::default(),
            workers: WorkerConfig::default(),
            argon2: Argon2Config::default(),
            sessions: SessionConfig::default(),
            limits: LimitConfig::default(),
            codes: CodeConfig::default(),
            mail: MailConfig::default(),
            massd: MassdConfig::default(),
            records: RecordConfig::default(),
            security: SecurityConfig::default(),
            oidc: OidcConfig::default(),
            metrics_listen: None,
        }
    }
}

impl DaemonConfig for Config {
    fn reactor(&self) -> &ReactorConfig {
        &self.reactor
    }
    fn log(&self) -> &LogConfig {
        &self.log
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MysqlConfig {
    /// `mysql://user:password@host:port/database`
    #[serde(serialize_with = "url_redacted")]
    pub url: String,
    /// Connections kept in the pool.
    pub pool_min: usize,
    pub pool_max: usize,
}

impl Default for MysqlConfig {
    fn default() -> Self {
        MysqlConfig {
            url: "mysql://throng@127.0.0.1:13306/throng".into(),
            pool_min: 2,
            pool_max: 32,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://:password@host:port/db`; for a Redis Cluster, its seed
    /// nodes' URLs separated by commas (the same user and password).
    #[serde(serialize_with = "url_redacted")]
    pub url: String,
    /// A cluster even when `url` names one seed node.
    pub cluster: bool,
    /// Every key starts with this.
    pub prefix: String,
    /// How long a cached user lives (cache-aside; every write deletes it).
    #[serde(with = "humantime_serde")]
    pub user_ttl: Duration,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: "redis://127.0.0.1:16379/".into(),
            prefix: "throng:".into(),
            cluster: false,
            user_ttl: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Storage worker threads; 0 = one per core. Fewer workers make bigger
    /// batches and fewer Redis round trips: on 2 cores with 100 clients,
    /// session checks ran at 76k/s with 1 worker, 71k with 2, 58k with 4
    /// and 42k with 8 (bench/RESULTS.md); more help only when MySQL is slow.
    pub threads: usize,
    /// Jobs queued for the workers; beyond it requests answer `busy`.
    pub queue: usize,
    /// Most jobs one worker takes in one batch.
    pub batch: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            threads: 0,
            queue: 16_384,
            batch: 256,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2Config {
    /// Memory in KiB; OWASP's minimum for argon2id is 19 MiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashing threads (0 = one per core).
    pub threads: usize,
    /// Verifications queued (sign-ins); beyond it they answer `busy`.
    pub queue: usize,
    /// Threads that may make new hashes (sign-ups, resets; 0 = half the
    /// threads, at least one); the others only verify, so a sign-up flood
    /// never takes every thread from sign-ins.
    pub hash_threads: usize,
    /// New hashes queued; beyond it sign-ups and resets answer `busy`.
    pub hash_queue: usize,
    /// How long a fast verifier of a verified password lives in Redis;
    /// "0s" turns fast verifiers off (every sign-in runs argon2).
    #[serde(with = "humantime_serde")]
    pub verifier_ttl: Duration,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Argon2Config {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            threads: 0,
            queue: 1024,
            hash_threads: 0,
            hash_queue: 64,
            verifier_ttl: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Idle lifetime; every validation slides it. 30 minutes, as OWASP
    /// ASVS 4.0.3 V3.3.2 asks at level 2.
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// Absolute lifetime from the sign-in, however often it slides: 12
    /// hours (ASVS V3.3.2, level 2).
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            ttl: Duration::from_secs(30 * 60),
            max_age: Duration::from_secs(12 * 3600),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitConfig {
    /// Failed sign-ins per account within the window before refusing.
    pub account_failures: u32,
    /// Failed sign-ins per client address within the window.
    pub ip_failures: u32,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// Codes mailed per client address per hour (`request_code` and
    /// `check_account` together).
    pub ip_codes_per_hour: u32,
    /// Accounts made per client address per hour (`sign_up`, `register`).
    pub ip_sign_ups_per_hour: u32,
    /// Password resets tried per client address per hour: each is a guess
    /// at a six-digit code.
    pub ip_resets_per_hour: u32,
    /// Avatars one account may set per hour (each is a file on webd's
    /// disk).
    pub account_avatars_per_hour: u32,
    /// Codes mailed per minute, all callers together.
    pub codes_per_minute: u32,
    /// Accounts made per minute, all callers together.
    pub sign_ups_per_minute: u32,
    /// Wrong-or-right guesses at *pending* codes per minute, all callers
    /// together (`register`, `reset_password`; a guess for an address with
    /// no code counts nothing): with 10^6 codes and 120 guesses a minute,
    /// guessing any one pending code takes ~6 days on average, however
    /// many addresses the guesser has.
    pub code_guesses_per_minute: u32,
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            account_failures: 10,
            ip_failures: 100,
            window: Duration::from_secs(900),
            ip_codes_per_hour: 30,
            ip_sign_ups_per_hour: 100,
            ip_resets_per_hour: 30,
            account_avatars_per_hour: 20,
            codes_per_minute: 600,
            sign_ups_per_minute: 1200,
            code_guesses_per_minute: 120,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CodeConfig {
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// Codes one e-mail address may request per hour.
    pub per_hour: u32,
    /// Wrong tries that burn a code.
    pub max_tries: u32,
}

impl Default for CodeConfig {
    fn default() -> Self {
        CodeConfig {
            ttl: Duration::from_secs(300),
            per_hour: 5,
            max_tries: 5,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// SMTP relay `host:port`; empty: codes go to the outbox file.
    pub smtp_relay: String,
    pub from: String,
    /// Where codes are written when there is no relay.
    pub outbox: PathBuf,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_relay: String::new(),
            from: "Throng <no-reply@throng.invalid>".into(),
            outbox: PathBuf::from("var/authd/outbox.txt"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MassdConfig {
    /// Lifetime of the token TryLogin hands out for a massd node.
    #[serde(with = "humantime_serde")]
    pub token_ttl: Duration,
    /// The key that signs massd tokens, at least 32 bytes, shared with
    /// every massd (their `server.secret`) and with nothing else, so a
    /// massd host holds no key of authd's own. Empty: a key derived from
    /// the master key, which no massd has (tokens then check out nowhere;
    /// authd says so at start).
    #[serde(serialize_with = "redacted")]
    pub token_secret: String,
}

impl Default for MassdConfig {
    fn default() -> Self {
        MassdConfig {
            token_ttl: Duration::from_secs(60),
            token_secret: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordConfig {
    /// Login records queued for writing; a full queue makes workers wait.
    pub queue: usize,
    /// Most rows in one INSERT.
    pub batch: usize,
    /// Longest a record waits before its batch is written.
    #[serde(with = "humantime_serde")]
    pub flush_every: Duration,
    /// How often the analysis sums are added to the rollups (`records.rs`).
    #[serde(with = "humantime_serde")]
    pub rollup_every: Duration,
}

/// Sign-in history and warnings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// A MaxMind GeoIP2/GeoLite2 City or Country database (`.mmdb`);
    /// empty: regions unknown, region and travel warnings off.
    pub geoip: PathBuf,
    /// Warn (mail and notice) on a sign-in from a new device or region,
    /// or one that would need more than `travel_kmh`.
    pub warnings: bool,
    /// The speed no traveller exceeds between two sign-ins.
    pub travel_kmh: f64,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            geoip: PathBuf::new(),
            warnings: true,
            travel_kmh: 1000.0,
        }
    }
}

/// Throng as an OpenID Connect provider (`crate::oidc`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer: webd's public URL (`https://id.example.com`, no
    /// trailing slash), the `iss` of every token. Empty: authd is no
    /// provider and every `oidc_*` operation answers `oidc_off`.
    pub issuer: String,
    /// Life of an access token.
    #[serde(with = "humantime_serde")]
    pub access_token_ttl: Duration,
    /// Life of an ID token (and of a logout token: two minutes).
    #[serde(with = "humantime_serde")]
    pub id_token_ttl: Duration,
    /// Life of a refresh token: each use makes a new one with this life.
    #[serde(with = "humantime_serde")]
    pub refresh_token_ttl: Duration,
    /// Life of an authorization code.
    #[serde(with = "humantime_serde")]
    pub code_ttl: Duration,
    /// How often an authd reads the signing keys again (a rotation
    /// reaches every authd within this).
    #[serde(with = "humantime_serde")]
    pub key_reload: Duration,
    /// How long a new signing key is published before it signs (more than
    /// `key_reload`, so no client meets a `kid` the JWKS lacks).
    #[serde(with = "humantime_serde")]
    pub key_publish_ahead: Duration,
    /// Back-channel logout notices waiting to be sent; more are dropped
    /// (and counted): a slow client never holds a worker.
    pub backchannel_queue: usize,
    /// Longest one back-channel POST may take.
    #[serde(with = "humantime_serde")]
    pub backchannel_timeout: Duration,
    /// Threads that talk to the providers of `upstream` ("sign in with
    /// …"): their HTTP calls block, so they have their own lane and never
    /// hold a worker that signs users in.
    pub upstream_threads: usize,
    /// Sign-ins with another provider waiting for those threads; more are
    /// answered `busy` at once.
    pub upstream_queue: usize,
    /// Other OpenID providers users may sign in with ("Sign in with …");
    /// their redirect URI is `<issuer>/sso/callback`.
    pub upstream: Vec<UpstreamConfig>,
}

/// An OpenID provider Throng signs users in with, as a relying party.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Its name in URLs and in the store (`a–z 0–9 _ -`), never changed
    /// once users linked it.
    pub id: String,
    /// The name its button shows ("Sign in with NAME").
    pub name: String,
    /// Its issuer URL: discovery is read from there.
    pub issuer: String,
    pub client_id: String,
    #[serde(serialize_with = "redacted")]
    pub client_secret: String,
    /// What to ask for (`openid` is added when missing).
    pub scope: String,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            issuer: String::new(),
            access_token_ttl: Duration::from_secs(600),
            id_token_ttl: Duration::from_secs(600),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            code_ttl: Duration::from_secs(60),
            key_reload: Duration::from_secs(60),
            key_publish_ahead: Duration::from_secs(120),
            backchannel_queue: 4096,
            backchannel_timeout: Duration::from_secs(5),
            upstream_threads: 2,
            upstream_queue: 64,
            upstream: Vec::new(),
        }
    }
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig {
            queue: 65_536,
            batch: 1000,
            flush_every: Duration::from_millis(200),
            rollup_every: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printing_the_config_hides_secrets() {
        let cfg = Config {
            secret: "a-very-secret-secret-of-32-bytes-or-more".into(),
            mysql: MysqlConfig {
                url: "mysql://throng:pa55word@127.0.0.1:13306/throng".into(),
                ..MysqlConfig::default()
            },
            ..Config::default()
        };
        let text = toml::to_string(&cfg).unwrap();
        assert!(
            !text.contains("pa55word") && !text.contains("a-very-secret"),
            "{text}"
        );
        assert!(
            text.contains("mysql://throng:***@127.0.0.1:13306/throng"),
            "{text}"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:16379/"),
            "redis://127.0.0.1:16379/"
        );
    }

    #[test]
    fn urls_lose_every_secret_they_carry_however_spelled() {
        let cases = [
            // An `@` and a `:` in the password (percent-encoded, as a URL
            // must carry them): cutting at the first `@` leaked the tail.
            (
                "mysql://throng:p%40ss%3Aw@rd@127.0.0.1:13306/throng",
                "w@rd",
            ),
            ("mysql://throng:p%40sswd@127.0.0.1:13306/throng", "sswd"),
            ("redis://:s3cr3t-value@127.0.0.1:16379/", "s3cr3t"),
            ("redis://127.0.0.1:16379/?password=s3cr3t-value", "s3cr3t"),
            (
                "mysql://db.example/throng?user=u&Pass=s3cr3t-value",
                "s3cr3t",
            ),
            (
                "redis://default:s3cr3t-value@host/?token=t0k3n-value",
                "t0k3n",
            ),
            ("not a url but s3cr3t-value", "s3cr3t"),
        ];
        for (url, secret) in cases {
            let shown = redact_url(url);
            assert!(!shown.contains(secret), "{url} -> {shown}");
        }
        assert_eq!(
            redact_url("mysql://throng:p%40ss@127.0.0.1:13306/throng?ssl=true"),
            "mysql://throng:***@127.0.0.1:13306/throng?ssl=true"
        );
    }
}
