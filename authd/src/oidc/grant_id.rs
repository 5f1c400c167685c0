//! Grant ids, ordered by time: milliseconds since 2026 (41 bits, enough
//! until 2095) above a 22-bit tag drawn once per process.
//!
//! Why ordered: the exchange inserts each grant, keyed by its id (and
//! refresh tokens are indexed by it). Random ids sent every insert to a
//! random leaf of those B-trees, a cache miss each once the tables outgrow
//! the CPU's caches; ordered ids land on the same few newest pages. A
//! grant's first refresh token shows the client its own grant's id, next
//! to a MAC of the grant ([`super::first_refresh`]); nothing accepts an id
//! alone, so being guessable costs nothing.
//!
//! Unique: within a process the counter never repeats (it takes the
//! clock, or the last value plus one when the clock has not moved on or
//! went back; above a thousand grants a second it runs ahead of the clock,
//! which keeps the order). Two processes (a cluster) can only meet if they
//! drew the same tag: for ten processes about one chance in 90,000. Then
//! the insert fails on the primary key and that batch is refused, never
//! retried with other ids (`worker/oidc_exchange.rs`: a code's used record
//! names the id, and must never name another process's grant).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2026-01-01T00:00:00Z, in seconds since 1970.
const EPOCH_2026_S: u64 = 1_767_225_600;
/// Bits of the per-process tag below the time.
const TAG_BITS: u32 = 22;

/// The last time value handed out (ms since 2026).
static LAST: AtomicU64 = AtomicU64::new(0);
/// This process's tag.
static TAG: OnceLock<u64> = OnceLock::new();

/// The next grant id.
pub fn next() -> Result<u64, getrandom::Error> {
    let tag = match TAG.get() {
        Some(t) => *t,
        None => {
            let mut raw = [0u8; 4];
            getrandom::fill(&mut raw)?;
            *TAG.get_or_init(|| u64::from(u32::from_le_bytes(raw)) & ((1 << TAG_BITS) - 1))
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH + Duration::from_secs(EPOCH_2026_S))
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let t = now.max(last + 1);
        match LAST.compare_exchange_weak(last, t, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Ok(compose(t, tag)),
            Err(seen) => last = seen,
        }
    }
}

/// The id of time value `t` and `tag`, kept within 63 bits (the column is
/// a BIGINT UNSIGNED, but 63 bits stay positive wherever it is read as
/// signed).
fn compose(t: u64, tag: u64) -> u64 {
    ((t << TAG_BITS) | tag) & (u64::MAX >> 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_grow_and_never_repeat_across_threads() {
        let per_thread: Vec<Vec<u64>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..10_000).map(|_| next().unwrap()).collect::<Vec<_>>()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for ids in &per_thread {
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "ids of one thread grow"
            );
        }
        let mut all: Vec<u64> = per_thread.concat();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "no id repeats");
        assert!(all.iter().all(|id| *id < 1 << 63));
    }

    #[test]
    fn the_tag_sits_below_the_time() {
        let a = compose(5, 7);
        let b = compose(6, 0);
        assert!(a < b, "a later time wins over any tag");
        assert_eq!(a & ((1 << TAG_BITS) - 1), 7);
    }
}
