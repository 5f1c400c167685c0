//! authd, the account service: all business logic and authentication
//! behind the binary protocol (`core/PROTOCOL.md`), over MySQL/MariaDB and
//! Redis, on 127.0.0.1:9999 by default.
//!
//! Threads: reactors decode and answer ([`handler`]); storage workers batch
//! what is queued ([`worker`]); an argon2 pool hashes ([`hasher`]); one
//! thread writes login records ([`records`]) and one sends mail
//! ([`mailer`]). On SIGTERM the reactors drain, then the workers finish the
//! queue, then the records are flushed — nothing acknowledged is lost.

pub mod address;
pub mod admin_cli;
pub mod agent;
pub mod client_cli;
pub mod config;
pub mod geo;
pub mod handler;
pub mod hasher;
pub mod keys;
pub mod local_limits;
pub mod mailer;
pub mod nodes;
pub mod oidc;
pub mod ops;
pub mod password;
pub mod reachable;
pub mod records;
pub mod store;
pub mod validate;
pub mod worker;

use clap::Parser;
use config::Config;
use std::sync::Arc;
use std::time::Duration;
use throng_core::config::DaemonArgs;
use throng_core::daemon::{self, DaemonError};
use throng_core::rpc::RpcService;

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
    /// Without a command authd serves; `admin` changes roles from the
    /// host, with the daemon's config.
    #[command(subcommand)]
    pub command: Option<admin_cli::Command>,
}

/// The server secret: from config, or (outside production) a random one.
fn server_secret(cfg: &Config) -> Result<Vec<u8>, DaemonError> {
    if !cfg.secret.is_empty() {
        if cfg.secret.len() < 32 {
            return Err(DaemonError::Other(
                "secret must be at least 32 bytes".into(),
            ));
        }
        return Ok(cfg.secret.as_bytes().to_vec());
    }
    if cfg.production {
        return Err(DaemonError::Other(
            "production = true needs a server secret: set THRONG_AUTHD_SECRET (32+ bytes)".into(),
        ));
    }
    log::warn!("no server secret configured: using a random one, so fast verifiers and massd tokens last until restart");
    let mut secret = vec![0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| DaemonError::Other(e.to_string()))?;
    Ok(secret)
}

/// What `production = true` refuses beyond a missing secret: no caller
/// key, and the outbox file (every live code in one file, meant for
/// development and tests). A caller key shorter than 32 bytes is refused
/// always.
fn production_checks(cfg: &Config) -> Result<(), DaemonError> {
    if !cfg.caller_key.is_empty() && cfg.caller_key.len() < 32 {
        return Err(DaemonError::Other(
            "caller_key must be at least 32 bytes".into(),
        ));
    }
    if cfg.production && cfg.caller_key.is_empty() {
        return Err(DaemonError::Other(
            "production = true needs caller_key (THRONG_AUTHD_CALLER_KEY, 32+ bytes): without it anyone who reaches authd's port is served".into(),
        ));
    }
    if cfg.production && cfg.mail.smtp_relay.is_empty() {
        return Err(DaemonError::Other(
            "production = true needs mail.smtp_relay: the outbox file is for development and tests"
                .into(),
        ));
    }
    Ok(())
}

/// Settings refused whatever the mode. Keys that must share a Redis
/// Cluster node carry a hash tag after the prefix (`oc:{…}`); a brace in
/// the prefix would move it (every key to one node) or break it.
fn config_checks(cfg: &Config) -> Result<(), DaemonError> {
    if cfg.redis.prefix.contains(['{', '}']) {
        return Err(DaemonError::Other(
            "redis.prefix must not contain { or }: hash tags follow it".into(),
        ));
    }
    Ok(())
}

/// Runs authd until SIGTERM/SIGINT has drained it.
pub fn run(cli: Cli) -> Result<(), DaemonError> {
    if let Some(command) = cli.command {
        return admin_cli::run(&cli.daemon, command).map_err(DaemonError::Other);
    }
    let Some(d) = daemon::init::<Config>("authd", &cli.daemon)? else {
        return Ok(());
    };
    if let Some(listen) = d.config.metrics_listen {
        let at = throng_core::metrics_http::serve(listen, d.metrics.clone())?;
        log::info!("metrics on http://{at}/metrics");
    }
    let extra_fds = (d.config.mysql.pool_max + d.config.workers.threads + 8) as u64;
    daemon::self_check(&d.config.reactor, extra_fds, "auth");
    let running = start(&d)?;
    throng_core::shutdown::on_signals(running.trigger(), || {})?;
    running.wait()
}

/// A running authd: its reactors, workers and writer threads.
pub struct Running {
    server: throng_core::server::ServerHandle,
    threads: Vec<std::thread::JoinHandle<()>>,
    mail_thread: std::thread::JoinHandle<()>,
    records_thread: std::thread::JoinHandle<()>,
    /// Sends back-channel logout notices (an OpenID provider only).
    backchannel_thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Where it listens (port 0 resolved).
    pub fn addrs(&self) -> &[std::net::SocketAddr] {
        self.server.local_addrs()
    }

    /// Starts a graceful shutdown when fired.
    pub fn trigger(&self) -> throng_core::server::ShutdownTrigger {
        self.server.trigger()
    }

    /// Waits for the drain, then for the workers to finish the queue, then
    /// for the mail and the login records to be flushed.
    pub fn wait(self) -> Result<(), DaemonError> {
        self.server.join()?;
        log::info!("authd reactors stopped");
        // The reactors are gone and with them every job sender: the workers
        // finish the queue, then the hashers, the mailer and the record
        // writer see their senders go and finish too.
        for handle in self.threads {
            let _ = handle.join();
        }
        let _ = self.mail_thread.join();
        let _ = self.records_thread.join();
        if let Some(thread) = self.backchannel_thread {
            let _ = thread.join();
        }
        log::info!("authd stopped; login records flushed");
        Ok(())
    }
}

/// Connects the stores, applies migrations and starts every thread of
/// authd with the config and metrics of `d`.
pub fn start(d: &daemon::Daemon<Config>) -> Result<Running, DaemonError> {
    let cfg = Arc::new(d.config.clone());
    let master = server_secret(&cfg)?;
    production_checks(&cfg)?;
    config_checks(&cfg)?;
    let keys = Arc::new(keys::Keys::new(&master, &cfg).map_err(DaemonError::Other)?);
    let passwords = password::Passwords::new(&cfg.argon2).map_err(DaemonError::Other)?;
    let decoy_hash = worker::decoy::decoy_hash(&passwords).map_err(DaemonError::Other)?;
    let db = store::db::Db::connect(&cfg.mysql.url, cfg.mysql.pool_min, cfg.mysql.pool_max)
        .map_err(|e| DaemonError::Other(format!("mysql: {e}")))?;
    let applied = db
        .migrate()
        .map_err(|e| DaemonError::Other(format!("migrations: {e}")))?;
    if !applied.is_empty() {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    let geo = geo::Geo::open(&cfg.security.geoip).map_err(DaemonError::Other)?;
    let redis_target = store::cache::Cache::target(&cfg.redis.url, cfg.redis.cluster)
        .map_err(|e| DaemonError::Other(format!("redis.url: invalid ({:?})", e.kind())))?;
    let health: Arc<store::cache::Health> = Arc::default();
    let (records_tx, records_thread) = records::start(
        db.clone(),
        store::cache::Cache::new(redis_target, &cfg.redis.prefix, health.clone()),
        cfg.clone(),
    )
    .map_err(DaemonError::Other)?;
    let (mail_tx, mail_thread) = mailer::start(&cfg.mail).map_err(DaemonError::Other)?;
    let hash_threads = throng_core::cores::or_per_core(cfg.argon2.threads);
    let size = hasher::PoolSize {
        threads: hash_threads,
        hash_threads: match cfg.argon2.hash_threads {
            0 => hash_threads / 2,
            n => n,
        },
        verify_queue: cfg.argon2.queue,
        hash_queue: cfg.argon2.hash_queue,
    };
    let (resumed_tx, resumed_rx) =
        crossbeam_channel::bounded(cfg.argon2.queue + cfg.argon2.hash_queue + hash_threads);
    let (hasher, hash_handles) = hasher::Hasher::start(passwords, size, resumed_tx);
    let (provider, backchannel_thread) = if cfg.oidc.issuer.is_empty() {
        (None, None)
    } else {
        let (backchannel, thread) = oidc::backchannel::Backchannel::start(
            cfg.oidc.backchannel_queue,
            cfg.oidc.backchannel_timeout,
            &d.metrics,
        )
        .map_err(DaemonError::Other)?;
        let provider = oidc::Provider::new(&cfg.oidc, &master, &db, backchannel)
            .map_err(|e| DaemonError::Other(format!("oidc: {e}")))?;
        log::info!("OpenID provider for issuer {}", provider.issuer);
        (Some(Arc::new(provider)), Some(thread))
    };
    let upstreams =
        oidc::upstream::Upstreams::new(&cfg.oidc.upstream).map_err(DaemonError::Other)?;
    if !cfg.oidc.upstream.is_empty() && cfg.oidc.issuer.is_empty() {
        return Err(DaemonError::Other(
            "oidc.upstream needs oidc.issuer (webd's public URL): the providers send users back to <issuer>/sso/callback".into(),
        ));
    }
    let (jobs_tx, jobs_rx) = crossbeam_channel::bounded(cfg.workers.queue.max(1));
    let shared = Arc::new(worker::Shared {
        cfg: cfg.clone(),
        reachable: reachable::Reachable::default(),
        db,
        hasher,
        records: records_tx,
        mail: mail_tx,
        health,
        geo,
        keys,
        decoy_hash,
        local_limits: local_limits::LocalLimits::new(cfg.limits.window, 100_000),
        flood_hourly: local_limits::LocalLimits::new(Duration::from_secs(3600), 100_000),
        flood_minutely: local_limits::LocalLimits::new(Duration::from_secs(60), 16),
        provider,
        upstreams,
    });
    // Sign-ins with other providers block on their HTTP calls: they have
    // their own lane, so a slow provider holds none of the workers above.
    let (sso_tx, sso_workers) = if cfg.oidc.upstream.is_empty() {
        (None, Vec::new())
    } else {
        let (tx, rx) = crossbeam_channel::bounded(cfg.oidc.upstream_queue.max(1));
        let threads = worker::start_sso_lane(shared.clone(), rx, cfg.oidc.upstream_threads)
            .map_err(DaemonError::Other)?;
        (Some(tx), threads)
    };
    let workers = worker::start(shared, jobs_rx, resumed_rx).map_err(DaemonError::Other)?;
    let (max_frame, metrics) = (cfg.max_frame, d.metrics.clone());
    let caller_key = Some(cfg.caller_key.as_bytes().to_vec());
    if cfg.caller_key.is_empty() {
        log::warn!("caller_key is not set: every caller that reaches authd is served");
    }
    let busy = metrics.counter(
        "authd_busy_total",
        "Requests answered busy because the job queue was full.",
    );
    let server = daemon::start(d, move |setup| {
        let handler = handler::AuthHandler::new(
            jobs_tx.clone(),
            sso_tx.clone(),
            setup.replies,
            busy.clone(),
            metrics.clone(),
        );
        RpcService::new(handler, max_frame, metrics.clone()).with_caller_key(caller_key.clone())
    })?;
    Ok(Running {
        server,
        threads: workers
            .into_iter()
            .chain(sso_workers)
            .chain(hash_handles)
            .collect(),
        backchannel_thread,
        mail_thread,
        records_thread,
    })
}
