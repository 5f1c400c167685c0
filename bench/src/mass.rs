//! The `mass` scenario: the massd client fleet as a benchmark. One
//! `massd client` process per 19,000 connections (the open-file limit here
//! is 20,000 per process), each running its share of the fleet with
//! `--json`; their summaries merge into one report (counts and rates add
//! up, percentiles come from the merged HDR histograms). The same client
//! drives a Redis with `INCR` (`--wire resp`), so massd and its anchor are
//! measured by exactly the same code.

use crate::report::Latency;
use massd::client::summary::Summary;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Connections one client process takes at most.
pub const PER_PROCESS: usize = 19_000;

/// New connections per second the whole client fleet opens.
const CONNECTS_PER_SEC: usize = 20_000;

/// A `mass` run as `bench run` describes it.
pub struct MassRun<'a> {
    pub connections: usize,
    pub duration: f64,
    /// 0: closed loop at `pipeline` UPDATEs in flight per connection.
    pub interval_ms: u64,
    pub pipeline: usize,
    /// The fleet's config (its server list); ignored when `target` is set.
    pub config: &'a Path,
    /// One server to drive instead (a Redis with `wire = resp`).
    pub target: Option<SocketAddr>,
    /// `massd` or `resp`.
    pub wire: &'a str,
    pub redis_password: Option<&'a str>,
    /// Event-loop threads per client process (0: one per core).
    pub threads: usize,
    /// Where each client process writes its record (`client-K.txt`).
    pub record_dir: Option<&'a Path>,
    /// Interval mode: no UPDATE until every connection of the fleet is up.
    pub updates_after_ramp: bool,
}

/// The common report fields plus the fleet's own checks.
#[derive(Debug, Serialize)]
pub struct MassReport {
    pub scenario: String,
    pub target: String,
    pub connections: usize,
    pub connections_up: u64,
    /// Seconds until every connection was up (the slowest process).
    pub ramp_s: Option<f64>,
    /// Fewest connections up in a second after the ramp (sum over processes).
    pub held_min: Option<u64>,
    /// Seconds until every process had seen the whole fleet up.
    pub fleet_up_s: Option<f64>,
    /// How long the whole fleet was up together: from then until the first
    /// process ended.
    pub held_together_s: Option<f64>,
    /// Whether UPDATEs waited for the fleet to be up.
    pub updates_after_ramp: bool,
    pub processes: usize,
    /// Event-loop threads per client process.
    pub threads: usize,
    pub pipeline: usize,
    pub interval_ms: u64,
    pub duration_s: f64,
    pub ops: u64,
    /// Median UPDATEs/s once every connection was up.
    pub throughput: f64,
    pub errors: u64,
    pub latency_ms: Latency,
    pub lost: u64,
    pub doubled: u64,
    pub reconnects: u64,
    pub unanswered: u64,
}

fn massd_binary() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let beside = me.with_file_name("massd");
    if beside.is_file() {
        Ok(beside)
    } else {
        Err(format!(
            "{} is missing: build it with `cargo build --release -p massd`",
            beside.display()
        ))
    }
}

/// Servers in the run: the target, or the config's ip × port list.
fn server_count(run: &MassRun<'_>) -> Result<usize, String> {
    if run.target.is_some() {
        return Ok(1);
    }
    let config: massd::config::Config = throng_core::config::load("massd", Some(run.config), &[])
        .map_err(|e| format!("{}: {e}", run.config.display()))?;
    Ok(config.servers().len())
}

pub fn run(run: &MassRun<'_>, quiet: bool) -> Result<MassReport, String> {
    let exe = massd_binary()?;
    let servers = server_count(run)?;
    let clients = run.connections.div_ceil(servers);
    let connections = clients * servers;
    let processes = connections.div_ceil(PER_PROCESS).max(1);
    // 20,000 connects/s for the whole fleet, split: more is not faster on
    // two cores (a 53-process fleet at 1,000/s each overflowed the listen
    // queues, and the SYN retransmits and connect timeouts that followed
    // made the ramp slower, not quicker).
    let connect_rate = (CONNECTS_PER_SEC / processes).max(100);
    // Every process holds its connections for the run's duration once the
    // whole fleet is up (the processes tell each other through marker files
    // in a directory of their own), however long the ramp takes; the cap
    // gives a ramp up to twenty times the planned one (at least 30 s)
    // before giving up: on two saturated cores a million connections took
    // 137-740 s against 50 planned.
    let ramp = connections as f64 / (connect_rate * processes) as f64;
    let cap = run.duration + (ramp * 20.0).max(30.0);
    let fleet_dir = tempfile::Builder::new()
        .prefix("throng-mass-fleet-")
        .tempdir()
        .map_err(|e| format!("a directory for the fleet's markers: {e}"))?;
    let mut children = Vec::with_capacity(processes);
    for k in 0..processes {
        let mut c = Command::new(&exe);
        c.arg("client")
            .arg("--config")
            .arg(run.config)
            .args(["--share", &format!("{k}/{processes}")])
            .args(["--hold", &run.duration.to_string()])
            .arg("--fleet-dir")
            .arg(fleet_dir.path())
            .args(["--duration", &cap.to_string()])
            .args(["--wire", run.wire, "--json"])
            .args(["--set", &format!("client_num_per_host={clients}")])
            .args(["--set", &format!("update_intervals={}", run.interval_ms)])
            .args(["--set", &format!("client.pipeline_depth={}", run.pipeline)])
            .args(["--set", &format!("client.processes={processes}")])
            .args(["--set", &format!("client.connect_rate={connect_rate}")])
            .args(["--set", "log_switch=false"])
            .args(["--set", &format!("client.threads={}", run.threads)])
            .stdout(Stdio::piped())
            .stderr(if quiet || k > 0 {
                Stdio::null()
            } else {
                Stdio::inherit()
            });
        if let Some(t) = run.target {
            c.args(["--target", &t.to_string()]);
        }
        if run.updates_after_ramp {
            c.arg("--updates-after-ramp");
        }
        if let Some(dir) = run.record_dir {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            c.arg("--record").arg(dir.join(format!("client-{k}.txt")));
        }
        if let Some(p) = run.redis_password {
            // Through the environment, never on a command line.
            c.env("THRONG_MASSD_CLIENT__REDIS_PASSWORD", p);
        }
        children.push(c.spawn().map_err(|e| format!("{}: {e}", exe.display()))?);
    }
    let mut parts = Vec::with_capacity(processes);
    for child in children {
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().last().unwrap_or("");
        let summary: Summary = serde_json::from_str(line)
            .map_err(|e| format!("a massd client gave no summary ({e}): {text}"))?;
        parts.push(summary);
    }
    let all = Summary::merge(&parts).ok_or("no client summaries")?;
    let ms = |us: u64| us as f64 / 1000.0;
    Ok(MassReport {
        scenario: if run.wire == "resp" {
            "mass-resp".into()
        } else {
            "mass".into()
        },
        target: run.target.map_or_else(
            || format!("{servers} servers of {}", run.config.display()),
            |t| t.to_string(),
        ),
        connections,
        connections_up: all.peak_up,
        ramp_s: all.ramp_s,
        held_min: all.held_min,
        fleet_up_s: all.fleet_up_s,
        held_together_s: all.held_together_s,
        updates_after_ramp: run.updates_after_ramp,
        processes,
        threads: throng_core::cores::or_per_core(run.threads),
        pipeline: run.pipeline,
        interval_ms: run.interval_ms,
        duration_s: all.duration_s,
        ops: all.totals.updates,
        throughput: all.steady_updates_per_sec,
        errors: all.totals.errors + all.totals.connect_failures,
        latency_ms: Latency {
            p50: ms(all.latency_us.p50),
            p90: ms(all.latency_us.p90),
            p99: ms(all.latency_us.p99),
            p999: ms(all.latency_us.p999),
            max: ms(all.latency_us.max),
        },
        lost: all.totals.lost,
        doubled: all.totals.doubled,
        reconnects: all.totals.reconnects,
        unanswered: all.totals.unanswered,
    })
}

impl MassReport {
    pub fn table(&self) -> String {
        let l = &self.latency_ms;
        format!(
            "scenario     {}\ntarget       {}\nconnections  {} ({} up), {} client processes, pipeline {}, interval {} ms\n\
             held         all up after {}, fewest after that {}, the fleet up together for {}{}\n\
             duration     {:.1} s\nupdates      {}\nthroughput   {:.0} updates/s (median second, all up)\nerrors       {}\n\
             checks       lost {}  doubled {}  reconnects {}  unanswered {}\n\
             latency ms   p50 {:.3}  p90 {:.3}  p99 {:.3}  p999 {:.3}  max {:.3}\n",
            self.scenario,
            self.target,
            self.connections,
            self.connections_up,
            self.processes,
            self.pipeline,
            self.interval_ms,
            self.ramp_s
                .map_or_else(|| "never".to_owned(), |r| format!("{r:.0} s")),
            self.held_min
                .map_or_else(|| "-".to_owned(), |h| h.to_string()),
            self.held_together_s
                .map_or_else(|| "-".to_owned(), |s| format!("{s:.0} s")),
            if self.updates_after_ramp {
                " (UPDATEs after the ramp)"
            } else {
                ""
            },
            self.duration_s,
            self.ops,
            self.throughput,
            self.errors,
            self.lost,
            self.doubled,
            self.reconnects,
            self.unanswered,
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max
        )
    }
}
