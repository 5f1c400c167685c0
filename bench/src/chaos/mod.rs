//! `bench chaos`: a steady mixed load through HAProxy while, one at a time,
//! each kind of process of the cluster stack is killed with `kill -9`,
//! left dead a while and started again; then the books are checked.
//!
//! The load is `--workers` simulated users (threads, [`user::User`]), each
//! looping over `/home` views, log-ins, nickname changes, TryLogin and now
//! and then a sign-up of a new account. Every request is a sample (when,
//! what, worked or not). Per event the report gives the failed requests
//! after the kill, the error window (first to last failure), how long the
//! successful rate took to come back to 90 % of the rate just before the
//! kill, and what the stores did (Galera's cluster size per node, Redis
//! roles) as a timeline. At the end every acknowledged sign-up and nickname
//! change is looked up on every Galera node, and the sessions acknowledged
//! in the seconds before a Redis primary died are tried again: a session
//! the failover lost is one the asynchronous replication had not carried.

mod addresses;
mod analysis;
mod cluster;
mod table;
mod user;

use addresses::UserAddresses;
use analysis::{EventReport, Timeline};
use cluster::Cluster;
use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use user::{Sample, User};

pub use table::print;

#[derive(Debug, Clone, clap::Args)]
pub struct ChaosArgs {
    /// HAProxy's address: 127.0.0.1:9090 for the one HAProxy, the VRRP
    /// address (10.231.0.10:9090) for the pair, whose member holding the
    /// address is then the HAProxy killed.
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub target: std::net::SocketAddr,
    /// Addresses of this machine the simulated users connect from, each
    /// its own (a new set every run: the per-address sign-up allowance
    /// lasts an hour). 10.231.128.0/17 for the pair (deploy/lbpair.sh).
    #[arg(long, default_value = "127.0.0.0/8")]
    pub sources: ipnet::Ipv4Net,
    /// Simulated users, one thread each.
    #[arg(long, default_value_t = 12)]
    pub workers: usize,
    /// What to kill, in order (webd, authd, massd, galera, redis, haproxy).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "webd,authd,massd,galera,redis,haproxy"
    )]
    pub kill: Vec<String>,
    /// Seconds a killed process stays dead.
    #[arg(long, default_value_t = 3.0)]
    pub down: f64,
    /// Seconds before a killed HAProxy is started again: what a supervisor
    /// takes (systemd's `RestartSec` defaults to 100 ms). The VRRP pair of
    /// DEPLOY.md would instead move the address to the other HAProxy.
    #[arg(long, default_value_t = 0.1)]
    pub haproxy_restart: f64,
    /// Seconds of steady load before the first kill and after each restart.
    #[arg(long, default_value_t = 4.0)]
    pub settle: f64,
    /// The checkout whose cluster runs (deploy/cluster.sh, var/cluster).
    #[arg(long, default_value = ".")]
    pub root: std::path::PathBuf,
    /// Print one JSON object at the end instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Fail (exit 1) when a goal is missed: an error window of 1 s for a
    /// webd, an authd or a massd node, 2 s for a Galera node, a Redis
    /// failover within 5 s with log-ins working throughout, and no
    /// acknowledged write missing from any Galera node.
    #[arg(long)]
    pub check: bool,
}

/// The goals `--check` holds a report to; each miss as a sentence.
pub fn misses(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for e in &report.events {
        let window = e.error_window_ms.unwrap_or(0);
        let limit = match e.kind.as_str() {
            "webd" | "authd" | "massd" => Some(1000),
            "galera" => Some(2000),
            // The VRRP pair's goal; one HAProxy's is only measured.
            "haproxy" if e.target != "haproxy" => Some(2000),
            _ => None,
        };
        if let Some(limit) = limit {
            if window >= limit {
                out.push(format!(
                    "{} killed: error window {window} ms, goal < {limit} ms ({} failed)",
                    e.target, e.failed
                ));
            }
        }
        if e.kind == "redis" {
            let promoted = e
                .stores
                .iter()
                .find_map(|s| analysis::promotion_ms(s, &e.target));
            match promoted {
                Some(ms) if ms < 5000 => {}
                Some(ms) => out.push(format!(
                    "{}: a replica took over after {ms} ms, goal < 5000",
                    e.target
                )),
                None => out.push(format!("{}: no replica took over", e.target)),
            }
            if let Some(n) = e.failed_by_op.get("login").filter(|n| **n > 0) {
                out.push(format!("{n} log-ins failed while {} was down", e.target));
            }
        }
    }
    for (node, n) in report.signups_missing.iter().chain(&report.nicknames_wrong) {
        if *n > 0 {
            out.push(format!("{node}: {n} acknowledged writes missing"));
        }
    }
    out.sort();
    out
}

/// What one simulated user was acknowledged for.
#[derive(Default)]
struct Books {
    /// Accounts webd acknowledged.
    signed_up: Vec<String>,
    /// Per user: the last acknowledged nickname, and those tried after it
    /// without an answer (a failed request may still have been applied).
    nicknames: HashMap<String, (String, Vec<String>)>,
    /// Sessions webd handed out, with when (ms since the start).
    sessions: Vec<(u32, String)>,
}

struct Shared {
    stop: AtomicBool,
    /// Sign-ups so far: each new account comes from an address of its own,
    /// as new users do (one address is allowed 100 sign-ups an hour).
    sign_ups: std::sync::atomic::AtomicU32,
    started: Instant,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub duration_s: f64,
    pub requests: usize,
    pub failed: usize,
    pub by_op: HashMap<String, (usize, usize)>,
    pub events: Vec<EventReport>,
    pub store_timeline: Vec<(u32, String)>,
    pub signups_acknowledged: usize,
    pub signups_missing: HashMap<String, usize>,
    pub nicknames_acknowledged: usize,
    pub nicknames_wrong: HashMap<String, usize>,
    pub sessions_checked: usize,
    pub sessions_lost: usize,
    /// The massd client fleet that ran beside the web load: its
    /// connections and totals (`massd client`'s summary: updates, lost,
    /// doubled, reconnects, errors…).
    pub fleet: Option<Fleet>,
}

/// What the massd fleet counted, as its summary says it.
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    pub connections: u64,
    #[serde(flatten)]
    pub totals: massd::client::tally::Totals,
}

/// Runs the chaos and returns the report (an error: the cluster could not
/// be driven at all).
pub fn run(args: &ChaosArgs) -> Result<Report, String> {
    let cluster = Arc::new(Cluster::open(&args.root)?);
    // Random: the accounts of an earlier run on the same cluster must not
    // collide with this run's.
    let mut seed = [0u8; 4];
    getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
    let run_id = format!("{:08x}", u32::from_le_bytes(seed));
    let sources = UserAddresses::new(args.sources, u32::from_le_bytes(seed), args.workers)?;
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        sign_ups: std::sync::atomic::AtomicU32::new(0),
        started: Instant::now(),
    });
    let timeline = Timeline::watch(cluster.clone(), shared.started);
    cluster.fleet_start()?;
    let workers: Vec<_> = (0..args.workers)
        .map(|w| {
            let (shared, target) = (shared.clone(), args.target);
            let name = format!("chaos{run_id}w{w}");
            let addresses = Addresses {
                own: sources.of(w),
                sources,
                sign_ups_from: args.workers,
            };
            std::thread::spawn(move || work(target, addresses, name, &shared))
        })
        .collect();
    let settle = Duration::from_secs_f64(args.settle);
    std::thread::sleep(settle + Duration::from_secs(2));
    let mut kills = Vec::new();
    let mut session_checks = Vec::new();
    for kind in &args.kill {
        let target = pick(kind, &cluster, args.target)?;
        let at = ms(shared.started);
        log::info!("killing {target}");
        cluster.kill(&target)?;
        let down = if target == "haproxy" {
            args.haproxy_restart
        } else {
            args.down
        };
        std::thread::sleep(Duration::from_secs_f64(down));
        if kind == "redis" {
            // The replica took over by now (or the report shows it did not).
            session_checks.push(at);
        }
        cluster.start(&target)?;
        cluster.wait_stores()?;
        let restarted = ms(shared.started);
        kills.push((kind.clone(), target, at, restarted));
        std::thread::sleep(settle);
    }
    shared.stop.store(true, Ordering::Release);
    let fleet = cluster
        .fleet_stop()
        .map_err(|e| log::warn!("{e}"))
        .ok()
        .and_then(|v| serde_json::from_value::<massd::client::summary::Summary>(v).ok())
        .map(|summary| Fleet {
            connections: summary.connections,
            totals: summary.totals,
        });
    let mut samples: Vec<Sample> = Vec::new();
    let mut books = Books::default();
    let mut checker = None;
    for w in workers {
        let (user, b) = w.join().map_err(|_| "a worker panicked".to_owned())?;
        samples.extend_from_slice(&user.samples);
        books.signed_up.extend(b.signed_up);
        books.nicknames.extend(b.nicknames);
        books.sessions.extend(b.sessions);
        checker.get_or_insert(user);
    }
    let store_timeline = timeline.stop();
    samples.sort_by_key(|s| s.at);
    let end = ms(shared.started);
    let events = kills
        .iter()
        .enumerate()
        .map(|(i, (kind, target, at, restarted))| {
            let until = kills.get(i + 1).map_or(end, |k| k.2);
            analysis::event(
                kind,
                target,
                *at,
                *restarted,
                until,
                &samples,
                &store_timeline,
            )
        })
        .collect();
    // Sessions acknowledged in the 2 s before a Redis primary died.
    let mut sessions_checked = 0;
    let mut sessions_lost = 0;
    if let Some(user) = &checker {
        for at in &session_checks {
            for (_, session) in books
                .sessions
                .iter()
                .filter(|(t, _)| *t <= *at && *t + 2000 > *at)
            {
                sessions_checked += 1;
                if user.session_alive(session) == Some(false) {
                    sessions_lost += 1;
                }
            }
        }
    }
    let (signups_missing, nicknames_wrong) = verify(&cluster, &books)?;
    let mut by_op: HashMap<String, (usize, usize)> = HashMap::new();
    for s in &samples {
        let e = by_op
            .entry(
                serde_json::to_value(s.op)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            )
            .or_default();
        e.0 += 1;
        e.1 += usize::from(!s.ok);
    }
    Ok(Report {
        duration_s: f64::from(end) / 1000.0,
        requests: samples.len(),
        failed: samples.iter().filter(|s| !s.ok).count(),
        by_op,
        events,
        store_timeline,
        signups_acknowledged: books.signed_up.len(),
        signups_missing,
        nicknames_acknowledged: books.nicknames.len(),
        nicknames_wrong,
        sessions_checked,
        sessions_lost,
        fleet,
    })
}

fn ms(started: Instant) -> u32 {
    started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32
}

/// The process of `kind` to kill: the second webd and authd, the massd
/// node TryLogin hands out (the first: equal loads go to the smallest id),
/// the Galera node every authd writes to (the first), a Redis node that is
/// a primary now.
fn pick(kind: &str, cluster: &Cluster, target: SocketAddr) -> Result<String, String> {
    Ok(match kind {
        "webd" | "authd" => format!("{kind}-2"),
        "massd" => "massd-1".into(),
        "galera" => "galera-1".into(),
        "redis" => {
            let roles = cluster.redis_roles();
            let i = roles
                .iter()
                .position(|r| *r == "primary")
                .ok_or("no Redis primary is up")?;
            cluster::REDIS[i].into()
        }
        "haproxy" if target.ip().is_loopback() => "haproxy".into(),
        "haproxy" => cluster.vip_holder()?,
        other => return Err(format!("--kill: no process kind {other}")),
    })
}

/// One simulated user's loop until the run stops.
/// Where one simulated user connects from, and where its extra sign-ups do.
struct Addresses {
    own: IpAddr,
    sources: UserAddresses,
    /// The index of the first sign-up's address in `sources`.
    sign_ups_from: usize,
}

fn work(target: SocketAddr, from: Addresses, name: String, shared: &Shared) -> (User, Books) {
    let mut books = Books::default();
    let mut user = User::new(target, from.own, name.clone(), shared.started);
    // An account and a session to start with (tried until they work: the
    // run starts on a healthy cluster).
    while !shared.stop.load(Ordering::Acquire) && !user.sign_up() {
        std::thread::sleep(Duration::from_millis(200));
    }
    books.signed_up.push(name.clone());
    let mut i: u64 = 0;
    while !shared.stop.load(Ordering::Acquire) {
        i += 1;
        if user.session.is_none() || i % 8 == 0 {
            if user.log_in() {
                if let Some(s) = &user.session {
                    books.sessions.push((ms(shared.started), s.clone()));
                }
            } else {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        }
        if user.home() == Some(false) {
            user.session = None; // logged out under us: log in again
        }
        if i % 5 == 0 {
            let nickname = format!("n{i}");
            let entry = books
                .nicknames
                .entry(name.clone())
                .or_insert_with(|| (name.clone(), Vec::new()));
            if user.set_nickname(&nickname) {
                *entry = (nickname, Vec::new());
            } else {
                entry.1.push(nickname);
            }
        }
        if i % 4 == 0 {
            // A client given a node connects to it next: TryLogin worked
            // if that connect does.
            let node = user.try_login();
            let ok = node
                .and_then(|n| n.parse::<SocketAddr>().ok())
                .is_some_and(|n| {
                    std::net::TcpStream::connect_timeout(&n, Duration::from_secs(1)).is_ok()
                });
            user.record_try_login(ok);
        }
        if i % 100 == 0 {
            let n = shared.sign_ups.fetch_add(1, Ordering::Relaxed);
            // An address of its own (the per-address sign-up allowance).
            let address = from.sources.of(from.sign_ups_from + n as usize);
            let mut other = User::new(target, address, format!("{name}s{i}"), shared.started);
            if other.sign_up() {
                books.signed_up.push(other.name.clone());
            }
            user.samples.append(&mut other.samples);
        }
    }
    (user, books)
}

/// Every acknowledged account and nickname on every Galera node: per
/// node, how many accounts are missing and how many nicknames are not the
/// last acknowledged one (nor one tried after it).
#[allow(clippy::type_complexity)]
fn verify(
    cluster: &Cluster,
    books: &Books,
) -> Result<(HashMap<String, usize>, HashMap<String, usize>), String> {
    use mysql::prelude::Queryable;
    let mut missing = HashMap::new();
    let mut wrong = HashMap::new();
    for (i, node) in cluster::GALERA.iter().enumerate() {
        let mut conn = cluster.galera(i)?;
        let rows: Vec<(String, String)> = conn
            .query(
                "SELECT u.username, p.nickname FROM users u JOIN profiles p ON p.user_id = u.id \
                 WHERE u.username LIKE 'chaos%'",
            )
            .map_err(|e| format!("{node}: {e}"))?;
        let found: HashMap<String, String> = rows.into_iter().collect();
        let absent = books
            .signed_up
            .iter()
            .filter(|u| !found.contains_key(*u))
            .count();
        let stale = books
            .nicknames
            .iter()
            .filter(|(user, (last, tried))| {
                found
                    .get(*user)
                    .is_none_or(|n| n != last && !tried.contains(n))
            })
            .count();
        missing.insert((*node).to_owned(), absent);
        wrong.insert((*node).to_owned(), stale);
    }
    Ok((missing, wrong))
}
