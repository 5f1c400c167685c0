//! The fleet's figures: counters each event-loop thread bumps on its own
//! cache line, and latency histograms it hands over a few times a second.
//! The reporter thread sums them into the per-second line and the summary.

use crossbeam_utils::CachePadded;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Latencies are recorded in microseconds, up to one minute.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// One thread's counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections ready to update right now.
    pub up: AtomicU64,
    /// Answered UPDATEs whose value matched.
    pub updates: AtomicU64,
    /// The server counted fewer UPDATEs than were answered.
    pub lost: AtomicU64,
    /// The server counted more UPDATEs than were sent.
    pub doubled: AtomicU64,
    /// Connections re-established after a loss.
    pub reconnects: AtomicU64,
    /// Connections lost (closed by the server, reset, timed out).
    pub disconnects: AtomicU64,
    pub connect_failures: AtomicU64,
    /// Refusals and undecodable answers.
    pub errors: AtomicU64,
    /// UPDATEs in flight when their connection was lost: neither lost nor
    /// counted, since the server may or may not have applied them.
    pub unanswered: AtomicU64,
    /// Interval mode: a due UPDATE skipped because the pipeline was full.
    pub late: AtomicU64,
}

/// Everything every thread shares with the reporter.
pub struct Tally {
    pub threads: Vec<CachePadded<Counters>>,
    pub latency: Mutex<Histogram<u64>>,
}

impl Tally {
    pub fn new(threads: usize) -> Self {
        Tally {
            threads: (0..threads).map(|_| CachePadded::default()).collect(),
            latency: Mutex::new(new_histogram()),
        }
    }

    /// Adds a thread's recent latencies and empties them.
    pub fn hand_over(&self, local: &mut Histogram<u64>) {
        if local.is_empty() {
            return;
        }
        if let Ok(mut shared) = self.latency.lock() {
            let _ = shared.add(&*local);
        }
        local.reset();
    }

    /// Takes the latencies handed over since the last call.
    pub fn take_latency(&self) -> Histogram<u64> {
        match self.latency.lock() {
            Ok(mut shared) => {
                let out = shared.clone();
                shared.reset();
                out
            }
            Err(_) => new_histogram(),
        }
    }

    pub fn sum(&self) -> Totals {
        let mut t = Totals::default();
        for c in &self.threads {
            t.add(&c.snapshot());
        }
        t
    }
}

impl Counters {
    fn snapshot(&self) -> Totals {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Totals {
            up: get(&self.up),
            updates: get(&self.updates),
            lost: get(&self.lost),
            doubled: get(&self.doubled),
            reconnects: get(&self.reconnects),
            disconnects: get(&self.disconnects),
            connect_failures: get(&self.connect_failures),
            errors: get(&self.errors),
            unanswered: get(&self.unanswered),
            late: get(&self.late),
        }
    }
}

/// The counters summed over threads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub up: u64,
    pub updates: u64,
    pub lost: u64,
    pub doubled: u64,
    pub reconnects: u64,
    pub disconnects: u64,
    pub connect_failures: u64,
    pub errors: u64,
    pub unanswered: u64,
    pub late: u64,
}

impl Totals {
    /// Adds another thread's or process's counts.
    pub fn add(&mut self, o: &Totals) {
        self.up += o.up;
        self.updates += o.updates;
        self.lost += o.lost;
        self.doubled += o.doubled;
        self.reconnects += o.reconnects;
        self.disconnects += o.disconnects;
        self.connect_failures += o.connect_failures;
        self.errors += o.errors;
        self.unanswered += o.unanswered;
        self.late += o.late;
    }
}
