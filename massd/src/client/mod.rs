//! `massd client`: a process of the client fleet. It takes its share of the
//! fleet's clients (`--share k/n`), opens one connection from each to every
//! server, spreads them over source addresses and event-loop threads, ramps
//! up at the configured rate, reports every second and prints a summary
//! (JSON with `--json`) when the duration ends, a signal arrives or every
//! connection has sent its quota.

pub mod connect;
mod fleet;
pub mod fleet_sync;
pub mod summary;
pub mod tally;
pub mod wire;

use crate::config::{Config, Wire};
use crate::limits;
use fleet::Plan;
use fleet_sync::FleetSync;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use summary::{Progress, Summary};
use tally::Tally;

/// This process's part of the fleet: number `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Share {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s.split_once('/').ok_or("expected K/N, e.g. 0/4")?;
        let index: u32 = a.parse().map_err(|_| "K must be a number")?;
        let count: u32 = b.parse().map_err(|_| "N must be a number")?;
        if count == 0 || index >= count {
            return Err("need 0 <= K < N".into());
        }
        Ok(Share { index, count })
    }
}

/// How this run goes, beyond the config.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub share: Share,
    /// Stop after this long; `None`: until a signal or the quota.
    pub duration: Option<Duration>,
    /// Stop once every connection has been up this long, counted from when
    /// the fleet was up (with `fleet_sync`: every process's connections;
    /// without: this process's), however long the ramp took; `duration`
    /// still caps the whole run.
    pub hold: Option<Duration>,
    /// The other processes of the fleet, to know when all of them are up.
    pub fleet_sync: Option<FleetSync>,
    /// Interval mode: connections send no UPDATE until the fleet is up,
    /// then start spread over one interval. The ramp then has the CPU to
    /// itself, and the steady state starts all at once.
    pub updates_after_ramp: bool,
    /// Each connection stops after this many answered UPDATEs.
    pub quota: Option<u64>,
    /// Servers to use instead of the config's list (a Redis, say).
    pub targets: Vec<SocketAddr>,
    /// Write every connection's final `key count` here.
    pub record: Option<PathBuf>,
    /// No per-second lines.
    pub quiet: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("config: {0}")]
    Config(String),
    #[error(transparent)]
    Share(#[from] limits::ShareTooLarge),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs this process's share of the fleet to the end and summarises it.
pub fn run(config: &Config, options: &RunOptions) -> Result<Summary, ClientError> {
    config.validate().map_err(ClientError::Config)?;
    let targets = if options.targets.is_empty() {
        config.servers()
    } else {
        options.targets.clone()
    };
    let clients = share_range(config.client_num_per_host, options.share);
    let share = (clients.end - clients.start) as u64 * targets.len() as u64;
    let total = u64::from(config.client_num_per_host) * targets.len() as u64;
    let limit = throng_core::rlimit::raise_nofile_to_hard()?;
    limits::check("this client", share, limit, "client.processes", total)?;
    let sources = connect::sources(&config.client.local_ips, &targets);
    let threads = throng_core::cores::or_per_core(config.client.threads).min(share.max(1) as usize);
    let mut per_thread: Vec<Vec<(u32, u16)>> = vec![Vec::new(); threads];
    let mut n = 0usize;
    for client in clients {
        for t in 0..targets.len() {
            let source = (client as usize * targets.len() + t) % sources.len();
            per_thread[n % threads].push((t as u32, source as u16));
            n += 1;
        }
    }
    let hello = match config.client.wire {
        Wire::Resp => config.client.redis_password.clone(),
        Wire::Massd => String::new(),
    };
    let plan = Arc::new(Plan {
        targets: targets.clone(),
        sources,
        interval: (config.update_intervals > 0)
            .then(|| Duration::from_millis(config.update_intervals)),
        depth: if config.update_intervals > 0 {
            1
        } else {
            config.client.pipeline_depth
        },
        quota: options.quota,
        connect_rate: f64::from(config.client.connect_rate.max(1)) / threads as f64,
        connect_timeout: config.client.connect_timeout,
        backoff: config.client.reconnect_backoff,
        answer_timeout: config.client.answer_timeout,
        wire: config.client.wire,
        hello,
        key_prefix: format!("massd:{}:", uuid::Uuid::new_v4().simple()),
        record: options.record.is_some(),
        updates_released: AtomicBool::new(!options.updates_after_ramp),
    });
    let tally = Arc::new(Tally::new(threads));
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone())?;
    signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone())?;
    let started = Instant::now();
    let mut handles = Vec::with_capacity(threads);
    for (index, links) in per_thread.into_iter().enumerate() {
        let (plan, tally, stop) = (plan.clone(), tally.clone(), stop.clone());
        handles.push(
            std::thread::Builder::new()
                .name(format!("fleet-{index}"))
                .spawn(move || fleet::run(index, links, plan, tally, stop))?,
        );
    }
    let mut progress = Progress::new(share, started);
    let mut said_up = false;
    loop {
        let finished = handles.iter().all(|h| h.is_finished());
        let out_of_time = options.duration.is_some_and(|d| started.elapsed() >= d);
        let held = options
            .hold
            .is_some_and(|h| progress.fleet_up_at().is_some_and(|at| at.elapsed() >= h));
        if finished || out_of_time || held || stop.load(Ordering::Acquire) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100).min(progress.until_next()));
        if progress.due() {
            let line = progress.sample(&tally);
            if !options.quiet {
                eprintln!("{line}");
            }
            if progress.all_up_at().is_some() && progress.fleet_up_at().is_none() {
                if !said_up {
                    if let Some(sync) = &options.fleet_sync {
                        sync.mark_up()?;
                    }
                    said_up = true;
                }
                let fleet_up = match &options.fleet_sync {
                    Some(sync) => sync.everyone_up()?,
                    None => true,
                };
                if fleet_up {
                    progress.fleet_up(Instant::now());
                    plan.updates_released.store(true, Ordering::Release);
                    if !options.quiet {
                        eprintln!("the fleet is up");
                    }
                }
            }
        }
    }
    // The last partial second, so a short run still has its figures.
    let line = progress.sample(&tally);
    if !options.quiet {
        eprintln!("{line}");
    }
    stop.store(true, Ordering::Release);
    let mut records = Vec::new();
    for h in handles {
        match h.join() {
            Ok(Ok(r)) => records.extend(r),
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => {
                return Err(ClientError::Io(std::io::Error::other(
                    "a fleet thread panicked",
                )))
            }
        }
    }
    let summary = progress.finish(&tally, config.client.wire, targets.len());
    if let Some(path) = &options.record {
        records.sort();
        let text: String = records
            .iter()
            .map(|(k, server, c)| format!("{k} {server} {c}\n"))
            .collect();
        std::fs::write(path, text)?;
    }
    Ok(summary)
}

/// The clients of share `k/n` among `total`.
pub fn share_range(total: u32, share: Share) -> std::ops::Range<u32> {
    let per = |i: u32| (u64::from(total) * u64::from(i) / u64::from(share.count)) as u32;
    per(share.index)..per(share.index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_every_client_once() {
        let mut seen = 0;
        for k in 0..7 {
            let r = share_range(100, Share { index: k, count: 7 });
            seen += r.end - r.start;
        }
        assert_eq!(seen, 100);
        assert!("3/3".parse::<Share>().is_err());
        assert_eq!("1/4".parse::<Share>(), Ok(Share { index: 1, count: 4 }));
    }
}
