//! The history writer (the original's `login` table and what grew around
//! it): every sign-in attempt, every session made and every session ended
//! is queued here off the request path and written by one thread. Each
//! batch — at most `batch` entries or `flush_every` apart — is one
//! transaction: the attempts in multi-row INSERTs and the session index
//! rows of those that made a session. The analysis rollups of them all
//! ([`crate::store::rollup`]) are summed in memory and added every
//! `records.rollup_every` (5 s): at thousands of sign-ins a second the same usernames
//! and addresses recur, so five seconds of sums are a fraction of the rows
//! (measured: upserting every 200 ms batch took MariaDB most of a core at
//! 12,000 log-ins a second). A crash costs at most those seconds of the
//! analysis, never a record. Sessions ended on purpose close their index
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
/// one round looks at and how many rounds a sweep makes at most: bounded
/// work a minute (20,000 rows), whatever the index holds.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
const RECHECK_AFTER_MS: u64 = 5 * 60 * 1000;
const SWEEP_ROWS: u32 = 2000;
const SWEEP_ROUNDS: u32 = 10;

/// The analysis sums are added at `records.rollup_every`, or once they
/// would write this many rows.
const ROLLUP_ROWS: usize = 100_000;

/// How long the last write at shutdown keeps trying before it gives up
/// (while running, a write is tried until it succeeds: the bounded queue
/// makes the workers wait meanwhile, and nothing is dropped).
const SHUTDOWN_PATIENCE: Duration = Duration::from_secs(30);

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
        patience: None,
        sums: Rollup::default(),
        sums_since: None,
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
    /// How long a write keeps trying: forever while running, bounded once
    /// authd stops.
    patience: Option<Duration>,
    /// The analysis sums not added yet, and since when.
    sums: Rollup,
    sums_since: Option<Instant>,
}

impl Writer {
    fn run(&mut self, rx: Receiver<Entry>) {
        let (batch, every) = (self.cfg.records.batch.max(1), self.cfg.records.flush_every);
        let mut pending: Vec<Entry> = Vec::with_capacity(batch);
        let mut oldest: Option<Instant> = None;
        loop {
            let flush_in = oldest.map(|t| every.saturating_sub(t.elapsed()));
            let sweep_in = self.next_sweep.saturating_duration_since(Instant::now());
            let sums_in = self.sums_due_in().unwrap_or(sweep_in);
            let wait = flush_in.map_or(sweep_in, |f| f.min(sweep_in)).min(sums_in);
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
                    self.add_sums(false);
                    if Instant::now() >= self.next_sweep {
                        self.next_sweep = Instant::now() + SWEEP_EVERY;
                        self.guarded("sweeping the session index", |w| {
                            for _ in 0..SWEEP_ROUNDS {
                                if w.sweep() < SWEEP_ROWS as usize {
                                    break;
                                }
                            }
                        });
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.patience = Some(SHUTDOWN_PATIENCE);
                    self.write(&mut pending);
                    self.add_sums(true);
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
        for r in &records {
            self.sums.attempt(r);
        }
        if !records.is_empty() {
            let none = Rollup::default();
            self.retrying(&format!("writing {} login records", records.len()), |db| {
                db.insert_records(&records, &none)
            });
        }
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
                        self.sums.session_ended(at_ms, seconds);
                    }
                }
                Err(e) => log::warn!("closing session index rows ({reason}): {e}"),
            }
        }
        self.sums_grew();
        self.add_sums(false);
    }

    /// Starts the sums' clock if they hold something and it is not
    /// running. Only sums that hold something start it: a clock running
    /// over empty sums would be due at once and for ever (nothing to add,
    /// so never stopped), and the writer, waiting until then, would spin.
    fn sums_grew(&mut self) {
        if !self.sums.is_empty() {
            self.sums_since.get_or_insert_with(Instant::now);
        }
    }

    /// How long until the sums are due; `None` when there are none to add.
    fn sums_due_in(&self) -> Option<Duration> {
        if self.sums.is_empty() {
            return None;
        }
        let since = self.sums_since?;
        Some(
            self.cfg
                .records
                .rollup_every
                .saturating_sub(since.elapsed()),
        )
    }

    /// Adds the analysis sums when they are due (or `now`).
    fn add_sums(&mut self, now: bool) {
        let due = self
            .sums_since
            .is_some_and(|t| t.elapsed() >= self.cfg.records.rollup_every)
            || self.sums.rows() >= ROLLUP_ROWS;
        if !(now || due) || self.sums.is_empty() {
            return;
        }
        let sums = std::mem::take(&mut self.sums);
        self.sums_since = None;
        self.write_rollup(&sums);
    }

    fn write_rollup(&self, rollup: &Rollup) {
        if rollup.is_empty() {
            return;
        }
        self.retrying("adding the analysis sums", |db| {
            db.insert_records(&[], rollup)
        });
    }

    /// Runs a write until it succeeds (or, at shutdown, until patience runs
    /// out). A write whose commit answer was lost is tried again, so its
    /// records may be written twice and counted twice by the analysis:
    /// losing them was the worse choice.
    fn retrying(&self, what: &str, f: impl Fn(&Db) -> Result<(), mysql::Error>) {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match f(&self.db) {
                Ok(()) => return,
                Err(e) => {
                    if attempt <= 5 || attempt % 60 == 0 {
                        log::warn!("{what} failed (attempt {attempt}): {e}");
                    }
                    if self.patience.is_some_and(|p| started.elapsed() >= p) {
                        log::error!("{what}: given up at shutdown after {attempt} attempts");
                        return;
                    }
                    let pause = Duration::from_millis(200 * u64::from(attempt.min(25)));
                    std::thread::sleep(pause);
                }
            }
        }
    }

    /// Looks at index rows not checked lately and returns how many: a
    /// session still in Redis (or the fallback table), not made before its
    /// account's sessions were ended and not of a locked account, is
    /// alive, last used when its sliding TTL was last renewed; one that
    /// expired is closed at that moment plus the idle TTL (never past its
    /// absolute lifetime, never in the future); one ended by its account's
    /// mark at the mark.
    fn sweep(&mut self) -> usize {
        let now = now_ms();
        let rows = match self
            .db
            .sessions_to_check(now.saturating_sub(RECHECK_AFTER_MS), SWEEP_ROWS)
        {
            Ok(rows) => rows,
            Err(e) => {
                log::warn!("reading the session index: {e}");
                return 0;
            }
        };
        if rows.is_empty() {
            return 0;
        }
        let keys: Vec<[String; 3]> = rows
            .iter()
            .map(|r| {
                [
                    self.cache.key("s", &hex::encode(r.token_hash)),
                    self.cache.key("sv", &hex::encode(r.user_uuid)),
                    self.cache.lock_key(&r.user_uuid),
                ]
            })
            .collect();
        let Some(seen) = self.cache.run(|c| {
            let mut p = redis::pipe();
            for [session, mark, lock] in &keys {
                p.cmd("PTTL").arg(session).get(mark).exists(lock);
            }
            p.query::<Vec<(i64, Option<u64>, bool)>>(c)
        }) else {
            return 0; // Redis down: nothing can be judged now.
        };
        let missing: Vec<[u8; 32]> = rows
            .iter()
            .zip(&seen)
            .filter(|(_, (pttl, _, _))| *pttl < 0)
            .map(|(r, _)| r.token_hash)
            .collect();
        let fallback = match self.db.live_fallback_sessions(&missing) {
            Ok(live) => live,
            Err(e) => {
                log::warn!("reading fallback sessions: {e}");
                return 0;
            }
        };
        let ttl_ms = self.cfg.sessions.ttl.as_millis() as u64;
        let max_age_ms = self.cfg.sessions.max_age.as_millis() as u64;
        let (mut alive, mut expired) = (Vec::new(), Vec::new());
        for (row, (pttl, mark, locked)) in rows.iter().zip(seen) {
            let last = row.last_seen_ms.unwrap_or(row.created_ms);
            let ended_by_mark = mark.filter(|m| *m >= row.created_ms);
            if locked {
                expired.push((row.id, row.created_ms, now));
            } else if let Some(mark) = ended_by_mark {
                expired.push((row.id, row.created_ms, mark.min(now)));
            } else if pttl >= 0 {
                let idle = ttl_ms.saturating_sub(pttl as u64);
                alive.push((row.id, now.saturating_sub(idle).max(row.created_ms)));
            } else if fallback.contains(&row.token_hash) {
                alive.push((row.id, last));
            } else {
                let end = (last + ttl_ms).min(row.created_ms + max_age_ms).min(now);
                expired.push((row.id, row.created_ms, end));
            }
        }
        match self.db.sweep_seen(&alive, &expired, now) {
            Ok(lasted) => {
                for (end, seconds) in lasted {
                    self.sums.session_ended(end, seconds);
                }
                self.sums_grew();
            }
            Err(e) => log::warn!("recording the sweep: {e}"),
        }
        rows.len()
    }
}
