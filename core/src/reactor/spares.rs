//! Spare descriptors for accepting at `EMFILE`, shared by every reactor of
//! a server.
//!
//! At descriptor exhaustion a reactor closes a spare to make room, accepts
//! one queued connection, refuses it and reopens the spare. Descriptors are
//! a process-wide resource: if each reactor kept its own spare, another
//! reactor's plain `accept` could take the slot one had just freed, and
//! the first, left with no spare, would strand its whole queue. So the
//! spares live here, one per reactor, behind one lock, and while the
//! process is exhausted (an `EMFILE`/`ENFILE` in the last second) every
//! reactor accepts under that lock: the slot freed for a refusal goes to
//! that refusal. In normal operation no lock is taken.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long after the last exhaustion accepts stay serialised.
const EXHAUSTED_FOR: Duration = Duration::from_secs(1);

/// The pool of spare descriptors and when descriptors last ran out.
#[derive(Debug)]
pub(crate) struct Spares {
    files: Mutex<Vec<File>>,
    epoch: Instant,
    /// Milliseconds after `epoch` of the last exhaustion, plus one (0: never).
    exhausted_at: AtomicU64,
}

/// A descriptor that can be given up: `/dev/null`, opened read-only.
pub(crate) fn open_spare() -> Option<File> {
    File::open("/dev/null").ok()
}

impl Spares {
    pub fn new(count: usize) -> Self {
        Spares {
            files: Mutex::new((0..count).filter_map(|_| open_spare()).collect()),
            epoch: Instant::now(),
            exhausted_at: AtomicU64::new(0),
        }
    }

    fn millis(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// Descriptors ran out at `now`.
    pub fn mark_exhausted(&self, now: Instant) {
        self.exhausted_at
            .store(self.millis(now).saturating_add(1), Ordering::Release);
    }

    /// Whether descriptors ran out within the last second.
    pub fn recently_exhausted(&self, now: Instant) -> bool {
        let at = self.exhausted_at.load(Ordering::Acquire);
        let since = self.millis(now).saturating_add(1).saturating_sub(at);
        at != 0 && u128::from(since) < EXHAUSTED_FOR.as_millis()
    }

    /// The pool, locked: hold it across giving up a spare, accepting,
    /// refusing and reopening.
    pub fn lock(&self) -> MutexGuard<'_, Vec<File>> {
        // The files are plain descriptors: a panic elsewhere cannot leave
        // them in a state that matters.
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }
}
