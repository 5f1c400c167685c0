//! webd, the web front, on 127.0.0.1:9090 by default. Its HTTP/1.1 layer
//! ([`http`]) is built; the pages and the JSON API are not yet, so the only
//! routes are the [`Placeholder`]'s: `GET /` says the stack is up and the
//! web front is not built yet.

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
