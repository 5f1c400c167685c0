//! The start-up and shutdown sequence every daemon shares, so each `main.rs`
//! only parses its flags and names its service: load the config (file, env,
//! flags), start logging, raise the open-file limit and run the self-check,
//! start the reactors, turn SIGTERM/SIGINT into a graceful drain, and report
//! how the run ended.

use crate::config::{ConfigError, DaemonArgs, DaemonConfig};
use crate::metrics::Metrics;
use crate::reactor::{Reactive, ReactorConfig};
use crate::server::{self, ReactorSetup, ServerHandle};
use crate::{logging, rlimit, selfcheck, shutdown};
use std::path::Path;
use std::sync::Arc;

/// Why a daemon could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("config: {0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// A daemon's loaded config and metrics registry.
pub struct Daemon<C> {
    pub name: &'static str,
    pub config: C,
    pub metrics: Arc<Metrics>,
}

/// Loads the config and starts logging. Returns `None` when the flags only
/// asked to print the effective config (which this does).
pub fn init<C: DaemonConfig>(
    name: &'static str,
    args: &DaemonArgs,
) -> Result<Option<Daemon<C>>, DaemonError> {
    let config: C = args.load(name)?;
    if args.print_config {
        let text =
            toml::to_string_pretty(&config).map_err(|e| DaemonError::Other(e.to_string()))?;
        print!("{text}");
        return Ok(None);
    }
    logging::init(config.log());
    Ok(Some(Daemon {
        name,
        config,
        metrics: Metrics::new(),
    }))
}

/// Raises `RLIMIT_NOFILE` to its hard limit and logs one warning naming the
/// fix if the limits cannot carry `reactor` (plus `extra_fds` of the
/// daemon's own outbound sockets). `profile` is the daemon's tuning role.
pub fn self_check(reactor: &ReactorConfig, extra_fds: u64, profile: &str) {
    let limit = match rlimit::raise_nofile_to_hard() {
        Ok(limit) => limit,
        Err(e) => {
            log::warn!("self-check: cannot read RLIMIT_NOFILE: {e}");
            return;
        }
    };
    let needs = selfcheck::Needs {
        connections: reactor.max_connections as u64,
        backlog: u64::from(reactor.backlog),
        extra_fds,
    };
    let findings = selfcheck::check(&needs, limit, Path::new("/"));
    match selfcheck::warning(&findings, profile) {
        Some(text) => log::warn!("{text}"),
        None => log::info!(
            "self-check: RLIMIT_NOFILE {} covers max_connections {}",
            limit.soft,
            reactor.max_connections
        ),
    }
}

/// Starts the reactors and logs where they listen.
pub fn start<C, S, F>(daemon: &Daemon<C>, make: F) -> Result<ServerHandle, DaemonError>
where
    C: DaemonConfig,
    S: Reactive,
    F: Fn(ReactorSetup<S::Reply>) -> S + Send + Sync + 'static,
{
    let reactor = daemon.config.reactor();
    if reactor.listen.is_empty() {
        return Err(DaemonError::Other(
            "reactor.listen is empty: nothing to listen on".into(),
        ));
    }
    let handle = server::start_with(
        reactor,
        &daemon.metrics,
        server::OnReactorDeath::ExitProcess,
        make,
    )?;
    let addrs: Vec<String> = handle.local_addrs().iter().map(|a| a.to_string()).collect();
    log::info!(
        "{} listening on {} with {} reactor threads (max {} connections)",
        daemon.name,
        addrs.join(", "),
        reactor.thread_count(),
        reactor.max_connections
    );
    Ok(handle)
}

/// Waits for SIGTERM/SIGINT, drains, and returns once every reactor exited.
/// `on_shutdown` runs when the signal arrives (stop workers, flush batches).
pub fn run_until_signalled(
    name: &str,
    handle: ServerHandle,
    on_shutdown: impl Fn() + Send + 'static,
) -> Result<(), DaemonError> {
    shutdown::on_signals(handle.trigger(), on_shutdown)?;
    handle.join()?;
    log::info!("{name} stopped");
    Ok(())
}
