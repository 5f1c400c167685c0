//! The `tune` command line: check, plan, apply, revert.

use crate::apply::{self, ApplyError};
use crate::check;
use crate::live::Live;
use crate::plan;
use crate::profile::Profile;
use crate::role::Role;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "tune",
    version,
    about = "Throng kernel and limits profiles: check, plan, apply, revert"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare the live system with a profile (no root needed).
    /// Exit 0: all good; 1: `tune apply` would fix something; 3: only what
    /// this environment does not allow is short.
    Check {
        /// web, auth, mass, or a profile folder or sysctl.d file.
        #[arg(long)]
        profile: String,
        /// Read /proc under this root instead of /.
        #[arg(long, default_value = "/")]
        root: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Work out a profile from a target and print it (or write its files).
    Plan {
        #[arg(long)]
        role: Role,
        /// Connections this host must hold (default: the role's target).
        #[arg(long)]
        connections: Option<u64>,
        /// Memory of the host: 16G, 512M or bytes.
        #[arg(long, value_parser = parse_size)]
        memory: Option<u64>,
        /// Peak new connections per second.
        #[arg(long)]
        connect_rate: Option<u64>,
        /// Server ports a client spreads over (for the source-address sum).
        #[arg(long)]
        server_ports: Option<u64>,
        /// The clients run on this host too (each connection is two sockets
        /// here); `--clients-on-host false` for a host that only serves.
        #[arg(long, num_args = 0..=1, default_missing_value = "true")]
        clients_on_host: Option<bool>,
        /// Write the files into this profile folder instead of printing.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Install a profile's files and set its knobs (root), saving what was there.
    Apply {
        #[arg(long)]
        profile: String,
        /// Show what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, default_value = "/")]
        root: PathBuf,
    },
    /// Restore what `tune apply` changed.
    Revert {
        #[arg(long)]
        dry_run: bool,
        #[arg(long, default_value = "/")]
        root: PathBuf,
    },
}

/// `16G`, `512M`, `64K` or a plain number of bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, shift) = match s.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('G') => (&s[..s.len() - 1], 30),
        Some('M') => (&s[..s.len() - 1], 20),
        Some('K') => (&s[..s.len() - 1], 10),
        _ => (s, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("bad size {s:?}: use 16G, 512M or bytes"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

/// A named role's planned profile, or a profile read from a path.
pub fn resolve_profile(name: &str) -> Result<Profile, String> {
    match name.parse::<Role>() {
        Ok(role) => Ok(plan::plan(role, &role.default_target())),
        Err(_) if Path::new(name).exists() => Profile::load(Path::new(name)),
        Err(_) => Err(format!("no profile {name:?}: web, auth, mass, or a path")),
    }
}

/// Runs the command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tune: {e}");
            2
        }
    }
}

fn execute(cli: Cli) -> Result<i32, String> {
    match cli.command {
        Command::Check {
            profile,
            root,
            json,
        } => {
            let profile = resolve_profile(&profile)?;
            let rows = check::check(&profile, &Live::new(root));
            if json {
                let out = serde_json::json!({ "profile": profile.name(), "rows": rows, "exit": check::exit_code(&rows) });
                println!("{out}");
            } else {
                println!("profile {} ({})\n", profile.name(), profile.source);
                print!("{}", check::table(&rows));
            }
            Ok(check::exit_code(&rows))
        }
        Command::Plan {
            role,
            connections,
            memory,
            connect_rate,
            server_ports,
            clients_on_host,
            out,
        } => {
            let d = role.default_target();
            let target = crate::role::Target {
                connections: connections.unwrap_or(d.connections),
                memory: memory.unwrap_or(d.memory),
                connect_rate: connect_rate.unwrap_or(d.connect_rate),
                server_ports: server_ports.unwrap_or(d.server_ports),
                clients_on_host: clients_on_host.unwrap_or(d.clients_on_host),
            };
            let profile = plan::plan(role, &target);
            for file in profile.render() {
                match &out {
                    Some(dir) => {
                        let path = dir.join(&file.profile_path);
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                        }
                        std::fs::write(&path, &file.text)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        eprintln!("wrote {}", path.display());
                    }
                    None => println!("### /{}\n{}", file.install_path.display(), file.text),
                }
            }
            Ok(0)
        }
        Command::Apply {
            profile,
            dry_run,
            root,
        } => {
            let profile = resolve_profile(&profile)?;
            let changes = apply::apply(&profile, &Live::new(&root), dry_run)
                .map_err(|e: ApplyError| e.to_string())?;
            report(&changes, dry_run, "apply");
            Ok(0)
        }
        Command::Revert { dry_run, root } => {
            let changes = apply::revert(&Live::new(&root), dry_run).map_err(|e| e.to_string())?;
            report(&changes, dry_run, "revert");
            Ok(0)
        }
    }
}

fn report(changes: &[apply::Change], dry_run: bool, verb: &str) {
    if changes.is_empty() {
        println!("{verb}: nothing to change");
        return;
    }
    let lead = if dry_run { "would change" } else { "changed" };
    println!("{verb}: {lead} {} item(s):", changes.len());
    print!("{}", apply::describe(changes));
}
