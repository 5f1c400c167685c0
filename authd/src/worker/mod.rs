//! The storage workers. Reactors only decode; every request that touches
//! MySQL or Redis becomes a [`Job`] in one bounded queue. A worker takes
//! everything queued (up to `workers.batch`) and batches what it can: the
//! Redis reads of all sign-ins, session checks and lookups of a batch go in
//! one pipeline each, and their writes in one more. argon2 runs on its own
//! pool ([`crate::hasher`]); its results come back here to be finished.

mod account;
mod admin;
mod codes;
pub mod decoy;
mod flood;
mod limits;
mod oidc;
mod oidc_batch;
mod oidc_exchange;
mod oidc_token;
mod revoke;
mod security;
mod sessions;
mod signin;
mod sso;
mod unusual;
mod users;

use crate::config::Config;
use crate::hasher::{Hasher, Resumed};
use crate::mailer::Mail;
use crate::ops::Job;
use crate::records::Entry;
use crate::store::cache::{Cache, Health};
use crate::store::db::{Db, LoginRecord};
use authd_wire::Request;
use authd_wire::Status;
use crossbeam_channel::{select, Receiver, Sender};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use throng_redis::RedisTarget;

/// What every worker shares.
pub struct Shared {
    pub cfg: Arc<Config>,
    /// Which massd nodes accept connections (TryLogin's last check).
    pub reachable: crate::reachable::Reachable,
    pub db: Db,
    pub hasher: Hasher,
    pub records: Sender<Entry>,
    /// Where client addresses are ([`crate::geo`]).
    pub geo: crate::geo::Geo,
    pub mail: Sender<Mail>,
    pub health: Arc<Health>,
    /// The keys per purpose ([`crate::keys`]).
    pub keys: Arc<crate::keys::Keys>,
    /// What unknown usernames are verified against ([`decoy`]).
    pub decoy_hash: String,
    /// The failure limits while Redis cannot be reached.
    pub local_limits: crate::local_limits::LocalLimits,
    /// The hourly per-address and per-minute global flood limits while
    /// Redis cannot be reached ([`flood`]).
    pub flood_hourly: crate::local_limits::LocalLimits,
    pub flood_minutely: crate::local_limits::LocalLimits,
    /// The OpenID provider, when `oidc.issuer` is set.
    pub provider: Option<Arc<crate::oidc::Provider>>,
    /// The other providers users may sign in with.
    pub upstreams: crate::oidc::upstream::Upstreams,
}

/// One worker thread's state: the shared parts and its own Redis connection.
pub struct Worker {
    shared: Arc<Shared>,
    cache: Cache,
    /// The OpenID clients this worker read lately.
    clients: crate::oidc::ClientCache,
}

/// Starts `threads` workers on the job queue and the argon2 results.
pub fn start(
    shared: Arc<Shared>,
    jobs: Receiver<Job>,
    resumed: Receiver<Resumed>,
) -> Result<Vec<JoinHandle<()>>, String> {
    let cfg = shared.cfg.clone();
    let threads = throng_core::cores::or_per_core(cfg.workers.threads);
    let target = Cache::target(&cfg.redis.url, cfg.redis.cluster)
        .map_err(|e| format!("redis.url: {}", e.kind_name_for_config()))?;
    (0..threads)
        .map(|i| {
            let worker = Worker::new(&shared, &target);
            let (jobs, resumed, batch) = (jobs.clone(), resumed.clone(), cfg.workers.batch.max(1));
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || worker.run(&jobs, &resumed, batch))
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// Starts the `sso` lane: `threads` workers on their own queue for the
/// operations that call other OpenID providers over HTTP and may block
/// for seconds ([`crate::oidc::upstream`]), one job at a time.
pub fn start_sso_lane(
    shared: Arc<Shared>,
    jobs: Receiver<Job>,
    threads: usize,
) -> Result<Vec<JoinHandle<()>>, String> {
    let cfg = shared.cfg.clone();
    let target = Cache::target(&cfg.redis.url, cfg.redis.cluster)
        .map_err(|e| format!("redis.url: {}", e.kind_name_for_config()))?;
    (0..threads.max(1))
        .map(|i| {
            let mut worker = Worker::new(&shared, &target);
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("sso-{i}"))
                .spawn(move || {
                    for job in jobs.iter() {
                        let this = &mut worker;
                        if catch_unwind(AssertUnwindSafe(|| this.one(job))).is_err() {
                            log::error!(
                                "a sign-in with another provider panicked; it got 'internal'"
                            );
                        }
                    }
                })
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// Whether a job goes to the `sso` lane ([`start_sso_lane`]).
pub fn calls_other_providers(op: &Request) -> bool {
    matches!(op, Request::SsoStart(_) | Request::SsoFinish(_))
}

trait ConfigErrorName {
    fn kind_name_for_config(&self) -> String;
}

impl ConfigErrorName for redis::RedisError {
    /// The category only: the URL holds a password.
    fn kind_name_for_config(&self) -> String {
        format!("invalid URL ({:?})", self.kind())
    }
}

impl Worker {
    fn new(shared: &Arc<Shared>, target: &RedisTarget) -> Worker {
        let cfg = &shared.cfg;
        Worker {
            shared: shared.clone(),
            cache: Cache::new(target.clone(), &cfg.redis.prefix, shared.health.clone()),
            clients: crate::oidc::ClientCache::default(),
        }
    }

    fn run(mut self, jobs: &Receiver<Job>, resumed: &Receiver<Resumed>, batch_max: usize) {
        let mut jobs_open = true;
        loop {
            let mut batch = Vec::new();
            let mut results = Vec::new();
            if jobs_open {
                select! {
                    recv(jobs) -> job => match job {
                        Ok(job) => batch.push(job),
                        Err(_) => jobs_open = false,
                    },
                    recv(resumed) -> r => if let Ok(r) = r { results.push(r) },
                }
            } else {
                // The reactors are gone; finish what argon2 still owes us.
                if self.shared.hasher.in_flight() == 0 {
                    return;
                }
                if let Ok(r) = resumed.recv_timeout(Duration::from_millis(50)) {
                    results.push(r);
                }
            }
            while batch.len() < batch_max {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            while let Ok(r) = resumed.try_recv() {
                results.push(r);
            }
            // A panic while processing costs this batch, not the worker:
            // every job of it not answered yet answers `internal` as the
            // unwinding drops it, and the loop goes on.
            let this = &mut self;
            if catch_unwind(AssertUnwindSafe(|| this.process(batch, results))).is_err() {
                log::error!("a storage batch panicked; its unanswered jobs got 'internal'");
            }
        }
    }

    fn process(&mut self, batch: Vec<Job>, results: Vec<Resumed>) {
        for r in results {
            self.shared.hasher.done();
            match r {
                Resumed::Verified { job, user, ok, .. } => self.verified(job, *user, ok),
                Resumed::Hashed { job, phc, then } => self.hashed(job, phc, then),
            }
        }
        let (mut signins, mut validates, mut lookups, mut oidcs, mut others) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for job in batch {
            match &job.op {
                Request::SignIn(_) | Request::TryLogin(_) => signins.push(job),
                Request::ValidateSession(_) | Request::Whoami(_) => validates.push(job),
                Request::Lookup(_) => lookups.push(job),
                Request::OidcAuthorize(_)
                | Request::OidcUserinfo(_)
                | Request::OidcIntrospect(_) => oidcs.push(job),
                Request::OidcToken(op) if op.grant_type == "authorization_code" => oidcs.push(job),
                _ => others.push(job),
            }
        }
        if !signins.is_empty() {
            self.sign_in_batch(signins);
        }
        if !validates.is_empty() {
            self.validate_batch(validates);
        }
        if !lookups.is_empty() {
            self.lookup_batch(lookups);
        }
        if !oidcs.is_empty() {
            self.oidc_batch(oidcs);
        }
        for job in others {
            self.one(job);
        }
    }

    /// Queues a login record (waits if the writer is behind: never drops).
    fn record(&self, record: LoginRecord) {
        let _ = self.shared.records.send(Entry::Attempt(record));
    }

    /// Tells the history writer that sessions ended (their index rows
    /// close, their lengths go to the analysis).
    fn tell_history(&self, entry: Entry) {
        let _ = self.shared.records.send(entry);
    }
}

/// Logs a store failure (no secrets: the error of a prepared statement
/// carries no parameters) and returns the status the client gets.
fn store_failed(what: &str, e: impl std::fmt::Display) -> Status {
    log::error!("{what}: {e}");
    Status::Unavailable
}
