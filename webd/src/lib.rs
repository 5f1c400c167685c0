//! webd, the web front, on 127.0.0.1:9090 by default: its own HTTP/1.1
//! layer ([`http`]), the pages ([`pages`]) and the gateway JSON API
//! ([`api`]), every request that needs data answered through authd
//! ([`app`]).

pub mod api;
pub mod app;
pub mod avatars;
pub mod http;
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

/// webd's config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub reactor: ReactorConfig,
    pub log: LogConfig,
    pub http: http::HttpLimits,
    pub avatars: AvatarConfig,
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// The authd backends and how to call them.
    pub authd: throng_core::client::ClientConfig,
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
            authd: throng_core::client::ClientConfig {
                backends: vec!["127.0.0.1:9999".parse().expect("valid literal")],
                ..throng_core::client::ClientConfig::default()
            },
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
    let (pool, pool_threads) = start_avatars(&d.config.avatars)?;
    let max_upload = limits.max_upload;
    let metrics = d.metrics.clone();
    let handle = daemon::start(&d, move |setup| {
        let avatars = app::AvatarRoutes {
            pool: pool.clone(),
            replies: setup.replies,
            max_upload,
        };
        let app = app::App::new(authd.clone(), secure, avatars, metrics.clone());
        http::HttpService::new(app, limits.clone()).with_metrics(metrics.clone())
    })?;
    daemon::run_until_signalled("webd", handle, || {})?;
    // The reactors (and their pool handles) are gone: the avatar threads end.
    for t in pool_threads {
        let _ = t.join();
    }
    Ok(())
}
