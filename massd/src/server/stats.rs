//! Figures each reactor thread publishes for the ops console: written by
//! their own thread only (relaxed atomics on a cache line of their own),
//! read by the admin endpoint whenever asked.

use crate::admin_wire::ThreadReport;
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
