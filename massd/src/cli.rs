//! massd's command line: one binary, a subcommand per role, all reading
//! the same `mass.toml` with the core config layering.

use crate::client::{self, RunOptions, Share};
use crate::config::{Config, Wire};
use crate::server;
use crate::topology::Placement;
use crate::{ctl, launch};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use throng_core::config::DaemonArgs;

#[derive(Debug, Parser)]
#[command(
    name = "massd",
    version,
    about = "Massive-connection counter servers, client fleet, console and launcher"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one counter server process.
    Serve {
        #[command(flatten)]
        args: DaemonArgs,
        /// Listen only on this port of the list (the launcher's choice).
        #[arg(long)]
        port: Option<u16>,
        /// This process's number in the fleet (admin port offset).
        #[arg(long, default_value_t = 0)]
        index: u16,
    },
    /// Run one process of the client fleet.
    Client {
        #[command(flatten)]
        args: DaemonArgs,
        /// This process's share of the clients, K/N.
        #[arg(long, default_value = "0/1")]
        share: Share,
        /// Stop after this many seconds (default: until SIGTERM/SIGINT).
        #[arg(long)]
        duration: Option<f64>,
        /// Each connection stops after this many UPDATEs.
        #[arg(long)]
        updates: Option<u64>,
        /// Stop once every connection has been up this many seconds after
        /// the ramp (`--duration` still caps the run).
        #[arg(long)]
        hold: Option<f64>,
        /// A directory the fleet's processes share (emptied of markers by
        /// whoever starts them): the ramp, the hold and the steady state
        /// count from when every process of the `--share` has all its
        /// connections up, not just this one.
        #[arg(long)]
        fleet_dir: Option<PathBuf>,
        /// No UPDATE until the fleet is up (interval mode): the ramp gets
        /// the CPU to itself.
        #[arg(long)]
        updates_after_ramp: bool,
        /// Drive these servers instead of the config's (repeatable).
        #[arg(long)]
        target: Vec<SocketAddr>,
        /// The protocol: massd frames, or RESP INCR to a Redis.
        #[arg(long, value_enum)]
        wire: Option<Wire>,
        /// Print the summary as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Write every connection's final `key server count` to this file.
        #[arg(long)]
        record: Option<PathBuf>,
        /// No per-second progress lines.
        #[arg(long)]
        quiet: bool,
    },
    /// The ops console: stats, dump, config, shutdown (interactive without
    /// a command).
    Ctl {
        #[command(flatten)]
        args: DaemonArgs,
        /// Admin endpoints to talk to (default: the launched fleet's).
        #[arg(long)]
        admin: Vec<SocketAddr>,
        #[command(subcommand)]
        command: Option<ctl::CtlCommand>,
    },
    /// Start this host's servers, wait until they listen, then the clients.
    Launch {
        #[command(flatten)]
        args: DaemonArgs,
        /// Start only the servers.
        #[arg(long)]
        no_clients: bool,
    },
    /// Stop what `launch` started.
    Stop {
        #[command(flatten)]
        args: DaemonArgs,
    },
}

fn load(args: &DaemonArgs) -> Result<Option<Config>, String> {
    // A process the launcher started gets the launcher's `--set` flags
    // through the environment (they may carry secrets); its own flags win.
    let mut args = args.clone();
    if let Ok(inherited) = std::env::var(crate::launch::LAUNCH_SET) {
        let mut set: Vec<String> = inherited
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        set.append(&mut args.set);
        args.set = set;
    }
    let config: Config = args.load("massd").map_err(|e| e.to_string())?;
    if args.print_config {
        print!(
            "{}",
            toml::to_string_pretty(&config).map_err(|e| e.to_string())?
        );
        return Ok(None);
    }
    throng_core::logging::init(&config.effective_log());
    Ok(Some(config))
}

/// Runs a parsed command line; the exit code says how it went.
pub fn run(cli: Cli) -> ExitCode {
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("massd: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Serve { args, port, index } => {
            let Some(config) = load(&args)? else {
                return Ok(ExitCode::SUCCESS);
            };
            server::run(config, Placement { port, index }).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Client {
            args,
            share,
            duration,
            updates,
            hold,
            fleet_dir,
            updates_after_ramp,
            target,
            wire,
            json,
            record,
            quiet,
        } => {
            let Some(mut config) = load(&args)? else {
                return Ok(ExitCode::SUCCESS);
            };
            if let Some(w) = wire {
                config.client.wire = w;
            }
            let options = RunOptions {
                share,
                duration: seconds("--duration", duration)?,
                hold: seconds("--hold", hold)?,
                fleet_sync: fleet_dir
                    .map(|dir| client::fleet_sync::FleetSync::new(dir, share.index, share.count)),
                updates_after_ramp,
                quota: updates,
                targets: target,
                record,
                quiet,
            };
            let summary = client::run(&config, &options).map_err(|e| e.to_string())?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&summary).map_err(|e| e.to_string())?
                );
            } else {
                print!("{}", summary.table());
            }
            // A wrong count is never silent: it fails the run.
            if summary.totals.lost > 0 || summary.totals.doubled > 0 {
                eprintln!(
                    "massd client: {} lost and {} doubled updates",
                    summary.totals.lost, summary.totals.doubled
                );
                return Ok(ExitCode::from(3));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ctl {
            args,
            admin,
            command,
        } => {
            let Some(config) = load(&args)? else {
                return Ok(ExitCode::SUCCESS);
            };
            ctl::run(&config, &admin, command).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Launch { args, no_clients } => {
            let Some(config) = load(&args)? else {
                return Ok(ExitCode::SUCCESS);
            };
            launch::launch(&config, &args, !no_clients).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Stop { args } => {
            let Some(config) = load(&args)? else {
                return Ok(ExitCode::SUCCESS);
            };
            launch::stop(&config).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A command-line count of seconds as a duration; a negative, infinite or
/// NaN one is an error, not a panic.
fn seconds(flag: &str, value: Option<f64>) -> Result<Option<Duration>, String> {
    value
        .map(|v| {
            Duration::try_from_secs_f64(v)
                .map_err(|_| format!("{flag} {v}: not a number of seconds"))
        })
        .transpose()
}
