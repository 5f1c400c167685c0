//! webd, the web front, on 127.0.0.1:9090 by default: its own HTTP/1.1
//! layer ([`http`]) and the gateway JSON API ([`api`]) answered through
//! authd ([`app`]). The pages are not built yet: `GET /` is the
//! [`Placeholder`]'s page saying so.

pub mod api;
pub mod app;
pub mod http;
mod placeholder;

use clap::Parser;
use serde::{Deserialize, Serialize};
use throng_core::config::{DaemonArgs, DaemonConfig};
use throng_core::daemon::{self, DaemonError};
use throng_core::logging::LogConfig;
use throng_core::reactor::ReactorConfig;

pub use placeholder::Placeholder;

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
    /// The authd backends and how to call them.
    pub authd: throng_core::client::ClientConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reactor: ReactorConfig {
                listen: vec!["127.0.0.1:9090".parse().expect("valid literal")],
                ..ReactorConfig::default()
            },
            log: LogConfig::default(),
            http: http::HttpLimits::default(),
            authd: throng_core::client::ClientConfig {
                backends: vec!["127.0.0.1:9999".parse().expect("valid literal")],
                ..throng_core::client::ClientConfig::default()
            },
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

/// Runs webd until SIGTERM/SIGINT has drained it.
pub fn run(cli: Cli) -> Result<(), DaemonError> {
    let Some(d) = daemon::init::<Config>("webd", &cli.daemon)? else {
        return Ok(());
    };
    daemon::self_check(&d.config.reactor, 0, "web");
    let limits = d.config.http.clone();
    let handle = daemon::start(&d, move |_| {
        http::HttpService::new(Placeholder::new(), limits.clone())
    })?;
    daemon::run_until_signalled("webd", handle, || {})
}
