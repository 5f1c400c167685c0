//! webd, the web front. For now a placeholder on the core reactor: it parses
//! requests with `httparse` and answers `GET /` with a page saying the stack
//! is up and the web front is not built yet, so `make up` can be checked
//! with curl. The webd issue replaces this with the real HTTP layer, pages
//! and JSON API. It listens on 127.0.0.1:9090 by default.

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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reactor: ReactorConfig {
                listen: vec!["127.0.0.1:9090".parse().expect("valid literal")],
                ..ReactorConfig::default()
            },
            log: LogConfig::default(),
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
    let handle = daemon::start(&d, |_| Placeholder::new())?;
    daemon::run_until_signalled("webd", handle, || {})
}
