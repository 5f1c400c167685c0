//! `massd serve`: one server process. It listens on this host's addresses
//! of the fleet (every port, or the one the launcher gives it), checks that
//! its share of the fleet's connections fits its open-file limit, runs the
//! counter service on the core reactor, and starts its admin endpoint and
//! its heartbeat.

pub mod admin;
pub mod closed;
pub mod heartbeat;
pub mod service;
pub mod stats;

use crate::config::Config;
use crate::limits;
use crate::token_file;
use crate::topology::{admin_addr, listen_addrs, node_id, Placement};
use closed::ClosedCounters;
use heartbeat::Heartbeat;
use service::{Admission, CounterService};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use throng_core::metrics::Metrics;
use throng_core::selfcheck::FD_RESERVE;
use throng_core::server::{self, ServerHandle, ShutdownTrigger};

/// Why a server process did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("config: {0}")]
    Config(String),
    #[error(transparent)]
    Share(#[from] limits::ShareTooLarge),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("heartbeat: {0}")]
    Redis(#[from] redis::RedisError),
}

/// A running server process.
pub struct RunningServer {
    pub listen: Vec<SocketAddr>,
    pub admin: SocketAddr,
    pub node_id: String,
    handle: ServerHandle,
    heartbeat: Option<Heartbeat>,
}

impl RunningServer {
    pub fn trigger(&self) -> ShutdownTrigger {
        self.handle.trigger()
    }

    /// Waits for the reactors to drain and stop, then ends the heartbeat
    /// (deleting the node's key).
    pub fn join(self) -> std::io::Result<()> {
        let result = self.handle.join();
        if let Some(h) = self.heartbeat {
            h.stop();
        }
        result
    }
}

/// This process's expected connections: every client of every host opens
/// one to each listen address, shared by the processes on that port (with
/// 10 % slack for the kernel's uneven `SO_REUSEPORT` spread).
pub fn expected_share(config: &Config, listen: usize) -> u64 {
    let clients = u64::from(config.client_num_per_host) * config.server_ip_list.len() as u64;
    let total = clients * listen as u64;
    let processes = u64::from(config.server.processes_per_port);
    if processes == 1 {
        total
    } else {
        (total * 11 / 10).div_ceil(processes)
    }
}

/// Starts a server process's reactors, admin endpoint and heartbeat.
pub fn start(mut config: Config, place: Placement) -> Result<RunningServer, ServeError> {
    config.validate().map_err(ServeError::Config)?;
    let listen = listen_addrs(&config, place.port);
    if listen.is_empty() {
        return Err(ServeError::Config(format!(
            "none of server_ip_list {:?} is an address of this host",
            config.server_ip_list
        )));
    }
    let limit = throng_core::rlimit::raise_nofile_to_hard()?;
    let share = expected_share(&config, listen.len());
    // The advice counts the 10 % spread slack that several processes per
    // port need, so the number it names is one that fits.
    let all = u64::from(config.client_num_per_host)
        * config.server_ip_list.len() as u64
        * listen.len() as u64;
    limits::check(
        "this server",
        share,
        limit,
        "server.processes_per_port",
        all * 11 / 10,
    )?;
    config.reactor.listen = listen;
    // Pinned one-reactor processes of one fleet take CPUs in turn.
    if config.reactor.placement.cpu_offset == 0 {
        config.reactor.placement.cpu_offset = usize::from(place.index);
    }
    if config.reactor.max_connections == 0 {
        config.reactor.max_connections = limit.soft.saturating_sub(FD_RESERVE) as usize;
    }
    let admin_token = token_file::admin_token(&config)?;
    let first = config.reactor.listen[0];
    let host = if config.server.advertise_host.is_empty() {
        first.ip().to_string()
    } else {
        config.server.advertise_host.clone()
    };
    let node_id = node_id(&config, &host, first.port(), place.index);
    let admission = config.server.require_token.then(|| Admission {
        secret: config.server.secret.as_bytes().to_vec(),
        node_id: node_id.clone(),
    });
    let threads = config.reactor.thread_count();
    let all_stats = stats::all(threads);
    let reactors = Arc::new(Mutex::new(Vec::new()));
    let metrics = Metrics::new();
    stats::register(&metrics, &all_stats);
    if let Some(listen) = config.server.metrics_listen {
        let at = throng_core::metrics_http::serve(listen, metrics.clone())?;
        log::info!("metrics on http://{at}/metrics");
    }
    let handle = {
        let all_stats = all_stats.clone();
        let reactors = reactors.clone();
        let (cap, ttl, max_frame) = (
            config.server.max_closed_keys.div_ceil(threads),
            config.server.closed_key_ttl,
            config.server.max_frame,
        );
        // A massd process with a dead reactor would keep its heartbeat
        // while refusing a share of its clients: exit and be restarted.
        server::start_with(
            &config.reactor,
            &metrics,
            server::OnReactorDeath::ExitProcess,
            move |setup| {
                if let Ok(mut list) = reactors.lock() {
                    list.push(setup.replies.clone());
                }
                CounterService::new(
                    setup.index,
                    ClosedCounters::new(cap, ttl),
                    admission.clone(),
                    max_frame,
                    all_stats.clone(),
                )
            },
        )?
    };
    let listen = handle.local_addrs().to_vec();
    let admin_addr = admin_addr(&config, place.index)?;
    let admin_state = admin::AdminState {
        token: admin_token,
        node_id: node_id.clone(),
        listen: listen.clone(),
        config_toml: toml::to_string_pretty(&config).unwrap_or_default(),
        stats: all_stats,
        reactors,
        trigger: handle.trigger(),
        started: Instant::now(),
        rss_baseline: admin::rss_bytes().unwrap_or(0),
    };
    let admin = match admin::spawn(admin_addr, admin_state) {
        Ok(a) => a,
        Err(e) => {
            handle.shutdown();
            let _ = handle.join();
            return Err(ServeError::Io(std::io::Error::new(
                e.kind(),
                format!("admin endpoint {admin_addr}: {e}"),
            )));
        }
    };
    let heartbeat = if config.heartbeat.redis_url.is_empty() {
        None
    } else {
        Some(Heartbeat::start(
            &config.heartbeat,
            node_id.clone(),
            host,
            listen[0].port(),
            handle.trigger(),
        )?)
    };
    log::info!(
        "massd node {node_id} listening on {} (admin {admin}, {threads} reactors, max {} connections)",
        listen.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "),
        config.reactor.max_connections
    );
    Ok(RunningServer {
        listen,
        admin,
        node_id,
        handle,
        heartbeat,
    })
}

/// `massd serve`: start, print where it listens, run until SIGTERM/SIGINT
/// or an admin `shutdown`, drain, exit.
pub fn run(config: Config, place: Placement) -> Result<(), ServeError> {
    let running = start(config, place)?;
    println!(
        "massd serve: node {} listening on {} admin {}",
        running.node_id,
        running
            .listen
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(","),
        running.admin
    );
    throng_core::shutdown::on_signals(running.trigger(), || {})?;
    running.join()?;
    Ok(())
}
