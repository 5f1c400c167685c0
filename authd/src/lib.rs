//! authd, the account service. For now it runs the core protocol server on
//! the reactor and answers only the core operations (`ping`, `stats`);
//! every account operation answers `unknown_opcode` until the authd issue
//! adds them. It listens on 127.0.0.1:9999 by default.

use clap::Parser;
use serde::{Deserialize, Serialize};
use throng_core::config::{DaemonArgs, DaemonConfig};
use throng_core::daemon::{self, DaemonError};
use throng_core::logging::LogConfig;
use throng_core::reactor::ReactorConfig;
use throng_core::rpc::{NoOperations, RpcService};

/// authd's command line.
#[derive(Debug, Parser)]
#[command(
    name = "authd",
    version,
    about = "Throng account service (binary protocol)"
)]
pub struct Cli {
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

/// authd's config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub reactor: ReactorConfig,
    pub log: LogConfig,
    /// Largest frame accepted from a client, header included.
    pub max_frame: u32,
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

/// Runs authd until SIGTERM/SIGINT has drained it.
pub fn run(cli: Cli) -> Result<(), DaemonError> {
    let Some(d) = daemon::init::<Config>("authd", &cli.daemon)? else {
        return Ok(());
    };
    daemon::self_check(&d.config.reactor, 0, "auth");
    let (max_frame, metrics) = (d.config.max_frame, d.metrics.clone());
    let handle = daemon::start(&d, move |_| {
        RpcService::new(NoOperations, max_frame, metrics.clone())
    })?;
    daemon::run_until_signalled("authd", handle, || {})
}
