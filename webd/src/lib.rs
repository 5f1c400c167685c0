//! webd, the web front, on 127.0.0.1:9090 by default: its own HTTP/1.1
//! layer ([`http`]), the pages ([`pages`]), the gateway JSON API
//! ([`api`]) and the OpenID provider's endpoints ([`oauth`]), every request that needs data answered through authd
//! ([`app`]).

pub mod api;
pub mod app;
pub mod avatars;
pub mod http;
pub mod oauth;
pub mod pages;
pub mod route;

use clap::Parser;
use serde::{Deserialize, Serialize};
use throng_core::config::{DaemonArgs, DaemonConfig};
use throng_core::daemon::{self, DaemonError};
use throng_core::logging::LogConfig;
use throng_core::reactor::ReactorConfig;

/// webd's command line.
#[derive(Debug, Parser)]
#[command(name = "webd", version, about = "Throng web front (HTTP/1.1)")]
pub struct Cli {
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

/// A set secret prints as `[redacted]`.
fn redacted<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if v.is_empty() { "" } else { "[redacted]" })
}

/// webd's config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub reactor: ReactorConfig,
    pub log: LogConfig,
    pub http: http::HttpLimits,
    pub avatars: AvatarConfig,
    /// Mark cookies `Secure` and give them the `__Host-` prefix (behind
    /// TLS, which every deployment outside this machine should be).
    pub secure_cookies: bool,
    /// The key of the CSRF tokens (at least 32 bytes), the same for every
    /// webd behind one balancer; empty: a random one per process (forms
    /// expire with it).
    #[serde(serialize_with = "redacted")]
    pub csrf_key: String,
    /// The authd backends and how to call them.
    pub authd: throng_core::client::ClientConfig,
    /// Where `GET /metrics` is served: a loopback address of its own
    /// (`throng_core::metrics_http`), never the public listener; unset:
    /// nowhere.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The other OpenID providers the log-in page offers ("Sign in with
    /// NAME"); each `id` must be one of authd's `oidc.upstream`.
    pub sign_in_with: Vec<pages::SsoButton>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reactor: ReactorConfig {
                listen: vec!["127.0.0.1:9090".parse().expect("valid literal")],
                // One address cannot take every slot; generous enough for
                // a NAT or an office behind one address.
                max_connections_per_ip: 4096,
                ..ReactorConfig::default()
            },
            log: LogConfig::default(),
            http: http::HttpLimits::default(),
            avatars: AvatarConfig::default(),
            secure_cookies: false,
            csrf_key: String::new(),
            authd: throng_core::client::ClientConfig {
                backends: vec!["127.0.0.1:9999".parse().expect("valid literal")],
                ..throng_core::client::ClientConfig::default()
            },
            metrics_listen: None,
            sign_in_with: Vec::new(),
        }
    }
}

/// Where avatars are kept and how many threads process them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AvatarConfig {
    pub dir: std::path::PathBuf,
    /// Image threads (0 = one per core).
    pub threads: usize,
    /// Uploads and reads queued; beyond it the answer is "busy".
    pub queue: usize,
}

impl Default for AvatarConfig {
    fn default() -> Self {
        AvatarConfig {
            dir: "var/webd/avatars".into(),
            threads: 0,
            queue: 1024,
        }
    }
}

/// Starts the avatar pool of `cfg`.
pub fn start_avatars(
    cfg: &AvatarConfig,
) -> std::io::Result<(avatars::AvatarPool, Vec<std::thread::JoinHandle<()>>)> {
    let store = avatars::store::AvatarStore::open(&cfg.dir)?;
    let threads = throng_core::cores::or_per_core(cfg.threads);
    Ok(avatars::AvatarPool::start(store, threads, cfg.queue))
}

impl DaemonConfig for Config {
    fn reactor(&self) -> &ReactorConfig {
        &self.reactor
    }
    fn log(&self) -> &LogConfig {
        &self.log
    }
}

/// Runs webd until SIGTERM/SIGINT has drained it.
pub fn run(cli: Cli) -> Result<(), DaemonError> {
    let Some(d) = daemon::init::<Config>("webd", &cli.daemon)? else {
        return Ok(());
    };
    daemon::self_check(&d.config.reactor, 0, "web");
    let (limits, authd, secure) = (
        d.config.http.clone(),
        d.config.authd.clone(),
        d.config.secure_cookies,
    );
    let csrf = pages::csrf::CsrfKey::new(&d.config.csrf_key).map_err(DaemonError::Other)?;
    let sign_in_with = d.config.sign_in_with.clone();
    if d.config.csrf_key.is_empty() {
        log::warn!("csrf_key is not set: a random one for this process (forms expire when it stops, and another webd would refuse them)");
    }
    let (pool, pool_threads) = start_avatars(&d.config.avatars)?;
    if let Some(listen) = d.config.metrics_listen {
        let at = throng_core::metrics_http::serve(listen, d.metrics.clone())?;
        log::info!("metrics on http://{at}/metrics");
    }
    let max_upload = limits.max_upload;
    let metrics = d.metrics.clone();
    let handle = daemon::start(&d, move |setup| {
        let avatars = app::AvatarRoutes {
            pool: pool.clone(),
            replies: setup.replies,
            max_upload,
        };
        let pages = pages::Pages {
            secure_cookies: secure,
            csrf: csrf.clone(),
            sign_in_with: sign_in_with.clone(),
        };
        let app = app::App::new(authd.clone(), pages, avatars, metrics.clone());
        http::HttpService::new(app, limits.clone()).with_metrics(metrics.clone())
    })?;
    daemon::run_until_signalled("webd", handle, || {})?;
    // The reactors (and their pool handles) are gone: the avatar threads end.
    for t in pool_threads {
        let _ = t.join();
    }
    Ok(())
}
