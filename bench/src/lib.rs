//! bench: Throng's load client and benchmark tools.
//!
//! `bench run <scenario>` drives one workload with the closed-loop engine in
//! [`load`] and prints a [`report`]; `bench serve-ping` (hidden) is the core
//! ping server that the `ping` scenario measures.

pub mod chaos;
pub mod compare;
pub mod load;
pub mod mass;
pub mod ping_server;
pub mod report;
pub mod requirement;
pub mod scenario;
pub mod seed;
pub mod stack_env;
pub mod summary;
pub mod users;

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "bench", version, about = "Throng load client and benchmarks")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Drive one scenario and report throughput and latency.
    Run(RunArgs),
    /// Create the seeded users user00000001… in MySQL (idempotent).
    Seed {
        #[arg(long, default_value_t = 10_000)]
        users: u64,
        /// MySQL URL (default: THRONG_MYSQL_URL from var/stack.env).
        #[arg(long, env = "THRONG_MYSQL_URL", hide_env_values = true)]
        mysql_url: Option<String>,
        /// Precomputed argon2id hashes, reused by index.
        #[arg(long, default_value_t = users::DEFAULT_HASH_POOL)]
        hash_pool: u64,
        /// Then add sign-in attempts of those users until `login_records`
        /// holds this many, with their analysis rollups (for the console
        /// benchmark: 50,000,000).
        #[arg(long)]
        login_records: Option<u64>,
        /// Days the attempts spread over, ending now.
        #[arg(long, default_value_t = 30)]
        days: u64,
    },
    /// Verifications per second of argon2 alone (authd's defaults).
    Argon2 {
        #[arg(long, default_value_t = 0)]
        threads: usize,
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
    },
    /// Every anchor side by side (core ping vs Redis, massd vs Redis INCR,
    /// webd vs nginx, log-in vs the requirement); writes bench/RESULTS.md's
    /// generated section and SVG charts. Needs `make up`.
    Compare {
        /// Seconds per run.
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        /// Runs per figure (the median is quoted).
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// The results page to write.
        #[arg(long, default_value = "bench/RESULTS.md")]
        results: std::path::PathBuf,
        /// Only comparisons whose name contains this (repeatable).
        #[arg(long)]
        only: Vec<String>,
    },
    /// The original requirement end to end: 10 M users, ≥ 1,000 logins/s
    /// for 60 s from ≥ 200 users over 1,000 connections, no errors
    /// (offered open-loop at 10 % over the goal).
    Requirement {
        /// MySQL URL (default: THRONG_MYSQL_URL from var/stack.env).
        #[arg(long, env = "THRONG_MYSQL_URL", hide_env_values = true)]
        mysql_url: Option<String>,
        #[arg(long, default_value = "127.0.0.1:9090")]
        target: SocketAddr,
        #[arg(long, default_value_t = 10_000_000)]
        users: u64,
        /// Users the log-ins cycle through.
        #[arg(long, default_value_t = 1000)]
        unique_users: u64,
        #[arg(long, default_value_t = 1000)]
        connections: usize,
        #[arg(long, default_value_t = 60.0)]
        duration: f64,
        #[arg(long, default_value_t = 1000.0)]
        rate: f64,
        /// Seconds of uncounted warm-up sign-ins first.
        #[arg(long, default_value_t = 20.0)]
        warmup: f64,
    },
    /// Kill each kind of process of the cluster stack under a mixed load
    /// and report what it cost (needs `make cluster-up`).
    Chaos(chaos::ChaosArgs),
    /// Median table (markdown) of repeated `run --json` reports in FILE.
    Summarize {
        /// A file with one JSON report per line ("-" for stdin).
        file: std::path::PathBuf,
    },
    /// Serve the core protocol's ping (the `ping` scenario's server).
    #[command(hide = true)]
    ServePing {
        #[arg(long, default_value = "127.0.0.1:7070")]
        listen: SocketAddr,
        /// Reactor threads (0 = one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        #[arg(long, default_value_t = 16_384)]
        max_connections: usize,
        /// The placement knobs, for bench/placement.sh.
        #[command(flatten)]
        placement: throng_core::reactor::Placement,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// ping, resp-ping, resp-incr (more as Throng's servers land).
    pub scenario: String,
    /// Connections kept open for the whole run.
    #[arg(long, short = 'c', default_value_t = 100)]
    pub connections: usize,
    /// Measured seconds (connection set-up is not counted).
    #[arg(long, short = 'd', default_value_t = 10.0)]
    pub duration: f64,
    /// Server address; each scenario has a default.
    #[arg(long, short = 't')]
    pub target: Option<SocketAddr>,
    /// Load threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Requests outstanding per connection (at most, in the open loop).
    #[arg(long, default_value_t = 1)]
    pub pipeline: usize,
    /// Open loop: this many requests per second over all connections,
    /// latency counted from when each was due (coordinated-omission
    /// correction, as wrk2). Default: closed loop.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seeded users the rpc-* scenarios cycle through.
    #[arg(long, default_value_t = 10_000)]
    pub users: u64,
    /// Redis password for the resp-* scenarios.
    #[arg(long, env = "THRONG_BENCH_REDIS_PASSWORD", hide_env_values = true)]
    pub redis_password: Option<String>,
    /// authd's caller key for the rpc-* scenarios (a `hello` first).
    #[arg(long, env = "THRONG_BENCH_AUTHD_KEY", hide_env_values = true)]
    pub authd_key: Option<String>,
    /// `mass`: milliseconds between a connection's UPDATEs (0: closed loop
    /// at `--pipeline`).
    #[arg(long, default_value_t = 0)]
    pub interval_ms: u64,
    /// `mass`: the fleet's config, whose server list is driven.
    #[arg(long, default_value = "deploy/config/mass.toml")]
    pub mass_config: std::path::PathBuf,
    /// `mass`: `massd` frames, or `resp` (INCR) to drive a Redis at --target.
    #[arg(long, default_value = "massd")]
    pub wire: String,
    /// `mass`: each client process writes what it sent (`key server count`
    /// lines, as `massd client --record`) to `DIR/client-K.txt`, to compare
    /// with `massd ctl dump --out`.
    #[arg(long)]
    pub record_dir: Option<std::path::PathBuf>,
    /// `mass` with `--interval-ms`: no UPDATE until every connection of the
    /// fleet is up, so the ramp has the CPU to itself.
    #[arg(long)]
    pub updates_after_ramp: bool,
    /// `mass`: the scenario's name in the report (default mass, or
    /// mass-resp with `--wire resp`), to tell server set-ups apart.
    #[arg(long)]
    pub label: Option<String>,
    /// Print one JSON object as the last line.
    #[arg(long)]
    pub json: bool,
    /// No progress lines on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Runs the command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Run(args) => run_scenario(&args),
        Command::Seed {
            users,
            mysql_url,
            hash_pool,
            login_records,
            days,
        } => {
            let url = stack_env::or_from_stack_env(mysql_url, "THRONG_MYSQL_URL")?;
            seed::seed(&url, users, hash_pool)?;
            match login_records {
                Some(n) => seed::seed_records(&url, n, users, days),
                None => Ok(()),
            }
        }
        Command::Argon2 { threads, duration } => {
            let threads = throng_core::cores::or_per_core(threads);
            let rate = seed::argon2_rate(threads, duration)?;
            println!("argon2id (authd defaults), {threads} threads, {duration} s: {rate:.1} verifications/s");
            Ok(())
        }
        Command::Compare {
            duration,
            repeats,
            results,
            only,
        } => compare::compare(&compare::CompareOptions {
            duration,
            repeats: repeats.max(1),
            results,
            only,
        }),
        Command::Requirement {
            mysql_url,
            target,
            users,
            unique_users,
            connections,
            duration,
            rate,
            warmup,
        } => {
            let passed = requirement::check(&requirement::RequirementOptions {
                mysql_url: stack_env::or_from_stack_env(mysql_url, "THRONG_MYSQL_URL")?,
                target,
                users_goal: users,
                unique_users,
                connections,
                duration,
                rate_goal: rate,
                warmup,
            })?;
            if passed {
                Ok(())
            } else {
                Err("the requirement is not met (see the FAIL lines)".into())
            }
        }
        Command::Chaos(args) => {
            let report = chaos::run(&args)?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(&report).map_err(|e| e.to_string())?
                );
            } else {
                chaos::print(&report);
            }
            Ok(())
        }
        Command::Summarize { file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).map_err(|e| e.to_string())?
            } else {
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?
            };
            print!("{}", summary::markdown(&summary::rows(&text)));
            Ok(())
        }
        Command::ServePing {
            listen,
            threads,
            max_connections,
            placement,
        } => ping_server::serve(listen, threads, max_connections, placement)
            .map_err(|e| e.to_string()),
    }
}

fn run_mass(args: &RunArgs) -> Result<(), String> {
    if !matches!(args.wire.as_str(), "massd" | "resp") {
        return Err(format!("--wire {}: expected massd or resp", args.wire));
    }
    let run = mass::MassRun {
        connections: args.connections,
        duration: args.duration,
        interval_ms: args.interval_ms,
        pipeline: args.pipeline,
        config: &args.mass_config,
        target: args.target,
        wire: &args.wire,
        redis_password: args.redis_password.as_deref(),
        threads: args.threads.unwrap_or(0),
        record_dir: args.record_dir.as_deref(),
        updates_after_ramp: args.updates_after_ramp,
    };
    let mut report = mass::run(&run, args.quiet)?;
    if let Some(label) = &args.label {
        report.scenario = label.clone();
    }
    if report.connections_up == 0 {
        return Err(format!(
            "no connection could be used ({} errors); is the server up and the password right?",
            report.errors
        ));
    }
    print!("{}", report.table());
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| e.to_string())?
        );
    }
    Ok(())
}

fn run_scenario(args: &RunArgs) -> Result<(), String> {
    if args.scenario == "mass" {
        return run_mass(args);
    }
    let options = scenario::ScenarioOptions {
        redis_password: args.redis_password.clone(),
        authd_key: args.authd_key.clone().filter(|k| !k.is_empty()),
        users: args.users,
        connections: args.connections,
    };
    let workload: Arc<dyn scenario::Workload> =
        Arc::from(scenario::by_name(&args.scenario, &options)?);
    if args.connections == 0
        || args.pipeline == 0
        || args.duration.is_nan()
        || args.duration <= 0.0
        || args.rate.is_some_and(|r| r.is_nan() || r <= 0.0)
    {
        return Err("--connections, --pipeline, --duration and --rate must be positive".into());
    }
    let target = args.target.unwrap_or_else(|| workload.default_target());
    let threads = args.threads.unwrap_or_else(throng_core::cores::available);
    let cfg = load::LoadConfig {
        target,
        connections: args.connections,
        duration: Duration::from_secs_f64(args.duration),
        threads,
        pipeline: args.pipeline,
        connect_timeout: Duration::from_secs(60),
        progress: !args.quiet,
        rate: args.rate,
    };
    let outcome = load::run(workload.clone(), &cfg)?;
    if outcome.connections_up == 0 {
        return Err(format!("no connection to {target} could be opened"));
    }
    let mut report = report::Report::new(
        workload.name(),
        &target.to_string(),
        threads.min(args.connections),
        args.pipeline,
        args.connections,
        &outcome,
    );
    report.rate = args.rate;
    print!("{}", report.table());
    if args.json {
        println!("{}", report.json());
    }
    Ok(())
}
