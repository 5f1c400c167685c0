//! Login records (the original's `login` table): every sign-in attempt is
//! queued here off the request path and written by one thread in multi-row
//! INSERTs, at most `batch` rows or `flush_every` apart. When every sender
//! is gone (clean shutdown) the rest is written before the thread ends, so
//! nothing is lost on a clean stop. The queue is bounded; a full queue makes
//! the worker wait rather than drop a record.

use crate::config::RecordConfig;
use crate::store::db::{Db, LoginRecord};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Starts the writer; returns the queue and the thread.
pub fn start(db: Db, cfg: &RecordConfig) -> (Sender<LoginRecord>, JoinHandle<()>) {
    let (tx, rx) = crossbeam_channel::bounded(cfg.queue.max(1));
    let (batch, every) = (cfg.batch.max(1), cfg.flush_every);
    let handle = std::thread::Builder::new()
        .name("login-records".into())
        .spawn(move || run(db, rx, batch, every))
        .expect("spawn the login record writer");
    (tx, handle)
}

fn run(db: Db, rx: Receiver<LoginRecord>, batch: usize, every: Duration) {
    let mut pending: Vec<LoginRecord> = Vec::with_capacity(batch);
    let mut oldest: Option<Instant> = None;
    loop {
        let wait = oldest.map_or(Duration::from_secs(3600), |t| {
            every.saturating_sub(t.elapsed())
        });
        match rx.recv_timeout(wait) {
            Ok(record) => {
                oldest.get_or_insert_with(Instant::now);
                pending.push(record);
                while pending.len() < batch {
                    match rx.try_recv() {
                        Ok(r) => pending.push(r),
                        Err(_) => break,
                    }
                }
                if pending.len() >= batch {
                    write(&db, &mut pending);
                    oldest = None;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                write(&db, &mut pending);
                oldest = None;
            }
            Err(RecvTimeoutError::Disconnected) => {
                write(&db, &mut pending);
                return;
            }
        }
    }
}

/// Writes the batch, retrying a failed write a few times: MySQL restarting
/// must not cost the records. A write that panics (a bug) costs that batch,
/// said in the log, and the writer goes on with the next.
fn write(db: &Db, pending: &mut Vec<LoginRecord>) {
    if pending.is_empty() {
        return;
    }
    let attempt = std::panic::AssertUnwindSafe(|| write_retrying(db, pending));
    if std::panic::catch_unwind(attempt).is_err() {
        log::error!(
            "writing {} login records panicked; they are lost",
            pending.len()
        );
        pending.clear();
    }
}

fn write_retrying(db: &Db, pending: &mut Vec<LoginRecord>) {
    for attempt in 1..=5 {
        match db.insert_records(pending) {
            Ok(()) => {
                pending.clear();
                return;
            }
            Err(e) => {
                log::warn!(
                    "writing {} login records failed (attempt {attempt}/5): {e}",
                    pending.len()
                );
                std::thread::sleep(Duration::from_millis(200 * attempt));
            }
        }
    }
    log::error!(
        "dropping {} login records after 5 failed writes",
        pending.len()
    );
    pending.clear();
}
