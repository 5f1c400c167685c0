//! Figures each reactor thread publishes for the ops console: written by
//! their own thread only (relaxed atomics on a cache line of their own),
//! read by the admin endpoint whenever asked, and by `/metrics` (summed
//! over the threads) when Prometheus scrapes.

use crate::admin_wire::ThreadReport;
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use throng_core::metrics::Metrics;

#[derive(Debug, Default)]
pub struct ThreadStats {
    pub connections: AtomicU64,
    pub closed_keys: AtomicU64,
    pub updates: AtomicU64,
    /// UPDATEs in the last whole second.
    pub updates_per_sec: AtomicU64,
    pub evicted: AtomicU64,
    pub dropped: AtomicU64,
}

/// One slot per reactor thread.
pub type AllStats = Arc<Vec<CachePadded<ThreadStats>>>;

pub fn all(threads: usize) -> AllStats {
    Arc::new((0..threads).map(|_| CachePadded::default()).collect())
}

pub fn report(stats: &AllStats) -> Vec<ThreadReport> {
    stats
        .iter()
        .enumerate()
        .map(|(thread, s)| ThreadReport {
            thread,
            connections: s.connections.load(Ordering::Relaxed),
            closed_keys: s.closed_keys.load(Ordering::Relaxed),
            updates: s.updates.load(Ordering::Relaxed),
            updates_per_sec: s.updates_per_sec.load(Ordering::Relaxed),
            evicted: s.evicted.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
        })
        .collect()
}

/// What `/metrics` shows of the threads' figures: name, help, whether it
/// only grows (a counter) or goes up and down (a gauge), and the field.
type Field = fn(&ThreadStats) -> &AtomicU64;
const EXPORTED: [(&str, &str, bool, Field); 6] = [
    (
        "massd_connections",
        "Counter connections open now.",
        false,
        |s| &s.connections,
    ),
    ("massd_updates_total", "UPDATEs applied.", true, |s| {
        &s.updates
    }),
    (
        "massd_updates_per_second",
        "UPDATEs in the last whole second.",
        false,
        |s| &s.updates_per_sec,
    ),
    (
        "massd_closed_keys",
        "Counters of closed connections kept.",
        false,
        |s| &s.closed_keys,
    ),
    (
        "massd_closed_keys_evicted_total",
        "Closed counters dropped for the cap or their age.",
        true,
        |s| &s.evicted,
    ),
    (
        "massd_dropped_total",
        "Connections dropped for sending a malformed frame.",
        true,
        |s| &s.dropped,
    ),
];

/// Makes the threads' figures part of `metrics`, summed over the threads
/// at each scrape.
pub fn register(metrics: &Metrics, stats: &AllStats) {
    for (name, help, counter, field) in EXPORTED {
        let stats = stats.clone();
        let read: throng_core::metrics::Reading =
            Arc::new(move || stats.iter().map(|s| field(s).load(Ordering::Relaxed)).sum());
        if counter {
            metrics.counter_fn(name, help, read);
        } else {
            metrics.gauge_fn(name, help, read);
        }
    }
}
