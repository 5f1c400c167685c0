//! The history writer (the original's `login` table and what grew around
//! it): every sign-in attempt, every session made and every session ended
//! is queued here off the request path and written by one thread. Each
//! batch — at most `batch` entries or `flush_every` apart — is one
//! transaction: the attempts in multi-row INSERTs, the session index rows
//! of those that made a session, and the analysis rollups of them all
//! ([`crate::store::rollup`]). Sessions ended on purpose close their index
//! rows; once a minute a sweep looks at index rows not checked for five
//! minutes and closes those whose session expired, so the analysis knows
//! how long sessions lasted.
//!
//! When every sender is gone (clean shutdown) the rest is written before
//! the thread ends, so nothing is lost on a clean stop. The queue is
//! bounded; a full queue makes the worker wait rather than drop a record.

use crate::config::Config;
use crate::store::cache::Cache;
use crate::store::db::{Db, LoginRecord};
use crate::store::history::Ended;
use crate::store::rollup::Rollup;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What the writer is told.
#[derive(Debug)]
pub enum Entry {
    /// A sign-in attempt (and the session it made, if any).
    Attempt(LoginRecord),
    /// One session was ended on purpose (`reason`: logout, ended, …).
    SessionEnded {
        token_hash: [u8; 32],
        reason: &'static str,
        at_ms: u64,
    },
    /// Every session of an account made by `at_ms` was ended.
    AllSessionsEnded {
        user_id: u64,
        reason: &'static str,
        at_ms: u64,
    },
}

/// How often the sweep runs, how long a checked row rests, how many rows
/// one sweep looks at: bounded work a minute, whatever the index holds.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
const RECHECK_AFTER_MS: u64 = 5 * 60 * 1000;
const SWEEP_ROWS: u32 = 2000;

/// Starts the writer; returns the queue and the thread.
pub fn start(
    db: Db,
    cache: Cache,
    cfg: Arc<Config>,
) -> Result<(Sender<Entry>, JoinHandle<()>), String> {
    let (tx, rx) = crossbeam_channel::bounded(cfg.records.queue.max(1));
    let mut writer = Writer {
        db,
        cache,
        cfg,
        next_sweep: Instant::now() + SWEEP_EVERY,
    };
    let handle = std::thread::Builder::new()
        .name("login-records".into())
        .spawn(move || writer.run(rx))
        .map_err(|e| format!("spawning the login record writer: {e}"))?;
    Ok((tx, handle))
}

struct Writer {
    db: Db,
    cache: Cache,
    cfg: Arc<Config>,
    next_sweep: Instant,
}

impl Writer {
    fn run(&mut self, rx: Receiver<Entry>) {
        let (batch, every) = (self.cfg.records.batch.max(1), self.cfg.records.flush_every);
        let mut pending: Vec<Entry> = Vec::with_capacity(batch);
        let mut oldest: Option<Instant> = None;
        loop {
            let flush_in = oldest.map(|t| every.saturating_sub(t.elapsed()));
            let sweep_in = self.next_sweep.saturating_duration_since(Instant::now());
            let wait = flush_in.map_or(sweep_in, |f| f.min(sweep_in));
            match rx.recv_timeout(wait) {
                Ok(entry) => {
                    oldest.get_or_insert_with(Instant::now);
                    pending.push(entry);
                    while pending.len() < batch {
                        match rx.try_recv() {
                            Ok(e) => pending.push(e),
                            Err(_) => break,
                        }
                    }
                    if pending.len() >= batch {
                        self.write(&mut pending);
                        oldest = None;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if oldest.is_some_and(|t| t.elapsed() >= every) {
                        self.write(&mut pending);
                        oldest = None;
                    }
                    if Instant::now() >= self.next_sweep {
                        self.next_sweep = Instant::now() + SWEEP_EVERY;
                        self.guarded("sweeping the session index", Writer::sweep);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.write(&mut pending);
                    return;
                }
            }
        }
    }

    /// Runs `f`; a panic (a bug) is logged and costs that step, not the
    /// writer.
    fn guarded(&mut self, what: &str, f: impl FnOnce(&mut Writer)) {
        let attempt = std::panic::AssertUnwindSafe(|| f(self));
        if std::panic::catch_unwind(attempt).is_err() {
            log::error!("{what} panicked; the writer goes on");
        }
    }

    /// Writes the batch: the attempts with their index rows and rollups in
    /// one transaction (retried: MySQL restarting must not cost the
    /// records), then the endings.
    fn write(&mut self, pending: &mut Vec<Entry>) {
        if pending.is_empty() {
            return;
        }
        let entries = std::mem::take(pending);
        self.guarded("writing login records", move |w| w.write_entries(entries));
    }

    fn write_entries(&mut self, entries: Vec<Entry>) {
        let mut records = Vec::new();
        let mut endings = Vec::new();
        for e in entries {
            match e {
                Entry::Attempt(r) => records.push(r),
                other => endings.push(other),
            }
        }
        let mut rollup = Rollup::default();
        for r in &records {
            rollup.attempt(r);
        }
        if !records.is_empty() {
            self.retrying(&format!("writing {} login records", records.len()), |db| {
                db.insert_records(&records, &rollup)
            });
        }
        let mut lengths = Rollup::default();
        for ending in endings {
            let (which, user, reason, at_ms) = match ending {
                Entry::SessionEnded {
                    token_hash,
                    reason,
                    at_ms,
                } => (Ended::Token(token_hash), None, reason, at_ms),
                Entry::AllSessionsEnded {
                    user_id,
                    reason,
                    at_ms,
                } => (Ended::AllOf(at_ms), Some(user_id), reason, at_ms),
                Entry::Attempt(_) => continue,
            };
            match self.db.end_indexed(which, user, reason, at_ms) {
                Ok(lasted) => {
                    for seconds in lasted {
                        lengths.session_ended(at_ms, seconds);
                    }
                }
                Err(e) => log::warn!("closing session index rows ({reason}): {e}"),
            }
        }
        self.write_rollup(&lengths);
    }

    fn write_rollup(&self, rollup: &Rollup) {
        if rollup.is_empty() {
            return;
        }
        self.retrying("writing session lengths", |db| {
            db.insert_records(&[], rollup)
        });
    }

    fn retrying(&self, what: &str, f: impl Fn(&Db) -> Result<(), mysql::Error>) {
        for attempt in 1..=5u64 {
            match f(&self.db) {
                Ok(()) => return,
                Err(e) => {
                    log::warn!("{what} failed (attempt {attempt}/5): {e}");
                    std::thread::sleep(Duration::from_millis(200 * attempt));
                }
            }
        }
        log::error!("{what}: given up after 5 failed writes");
    }

    /// Looks at index rows not checked lately: a session still in Redis
    /// (or the fallback table) is alive, last used when its sliding TTL was
    /// last renewed; one gone is closed at that moment plus the idle TTL
    /// (never past its absolute lifetime, never in the future).
    fn sweep(&mut self) {
        let now = now_ms();
        let rows = match self
            .db
            .sessions_to_check(now.saturating_sub(RECHECK_AFTER_MS), SWEEP_ROWS)
        {
            Ok(rows) if !rows.is_empty() => rows,
            Ok(_) => return,
            Err(e) => return log::warn!("reading the session index: {e}"),
        };
        let keys: Vec<String> = rows
            .iter()
            .map(|r| self.cache.key("s", &hex::encode(r.token_hash)))
            .collect();
        let Some(ttls) = self.cache.run(|c| {
            let mut p = redis::pipe();
            for k in &keys {
                p.cmd("PTTL").arg(k);
            }
            p.query::<Vec<i64>>(c)
        }) else {
            return; // Redis down: nothing can be judged now.
        };
        let missing: Vec<[u8; 32]> = rows
            .iter()
            .zip(&ttls)
            .filter(|(_, t)| **t < 0)
            .map(|(r, _)| r.token_hash)
            .collect();
        let fallback = match self.db.live_fallback_sessions(&missing) {
            Ok(live) => live,
            Err(e) => return log::warn!("reading fallback sessions: {e}"),
        };
        let ttl_ms = self.cfg.sessions.ttl.as_millis() as u64;
        let max_age_ms = self.cfg.sessions.max_age.as_millis() as u64;
        let (mut alive, mut expired) = (Vec::new(), Vec::new());
        for (row, pttl) in rows.iter().zip(ttls) {
            if pttl >= 0 {
                let idle = ttl_ms.saturating_sub(pttl as u64);
                alive.push((row.id, now.saturating_sub(idle).max(row.created_ms)));
            } else if fallback.contains(&row.token_hash) {
                alive.push((row.id, row.last_seen_ms.unwrap_or(row.created_ms)));
            } else {
                let last = row.last_seen_ms.unwrap_or(row.created_ms);
                let end = (last + ttl_ms).min(row.created_ms + max_age_ms).min(now);
                expired.push((row.id, row.created_ms, end));
            }
        }
        match self.db.sweep_seen(&alive, &expired, now) {
            Ok(lasted) => {
                let mut lengths = Rollup::default();
                for (end, seconds) in lasted {
                    lengths.session_ended(end, seconds);
                }
                self.write_rollup(&lengths);
            }
            Err(e) => log::warn!("recording the sweep: {e}"),
        }
    }
}
