//! The failure limits kept in this process, for while Redis cannot be
//! reached: the same count-first windows as the Redis counters, so a Redis
//! outage never switches the limits off. Shared by the workers (one mutex,
//! held for a map operation). Bounded: at `cap` keys, expired windows are
//! dropped first, then the key whose window started first.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LocalLimits {
    windows: Mutex<HashMap<String, (u32, Instant)>>,
    window: Duration,
    cap: usize,
}

impl LocalLimits {
    pub fn new(window: Duration, cap: usize) -> LocalLimits {
        LocalLimits {
            windows: Mutex::new(HashMap::new()),
            window,
            cap: cap.max(1),
        }
    }

    /// Counts one attempt under `key` and returns the count, this one
    /// included, within the current window.
    pub fn count_one(&self, key: &str, now: Instant) -> u32 {
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(key) && map.len() >= self.cap {
            let window = self.window;
            map.retain(|_, (_, started)| now.saturating_duration_since(*started) < window);
            if map.len() >= self.cap {
                if let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, (_, t))| *t)
                    .map(|(k, _)| k.clone())
                {
                    map.remove(&oldest);
                }
            }
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now));
        if now.saturating_duration_since(entry.1) >= self.window {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
        entry.0
    }

    /// Gives back one counted attempt (it succeeded).
    pub fn give_back(&self, key: &str) {
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get_mut(key) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }

    /// Forgets `key` (the account signed in: its failures are over).
    pub fn clear(&self, key: &str) {
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key);
    }

    /// Seconds until `key`'s window ends (at least 1).
    pub fn retry_after(&self, key: &str, now: Instant) -> u32 {
        let map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let left = map.get(key).map_or(self.window, |(_, started)| {
            self.window
                .saturating_sub(now.saturating_duration_since(*started))
        });
        u32::try_from(left.as_secs().max(1)).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_a_window_and_starts_again_after_it() {
        let t0 = Instant::now();
        let limits = LocalLimits::new(Duration::from_secs(10), 100);
        assert_eq!(limits.count_one("a", t0), 1);
        assert_eq!(limits.count_one("a", t0), 2);
        limits.give_back("a");
        assert_eq!(limits.count_one("a", t0 + Duration::from_secs(1)), 2);
        assert_eq!(limits.retry_after("a", t0 + Duration::from_secs(4)), 6);
        assert_eq!(limits.count_one("a", t0 + Duration::from_secs(10)), 1);
        limits.clear("a");
        assert_eq!(limits.count_one("a", t0 + Duration::from_secs(11)), 1);
    }

    #[test]
    fn the_map_stays_within_its_cap() {
        let t0 = Instant::now();
        let limits = LocalLimits::new(Duration::from_secs(10), 3);
        for i in 0..10 {
            limits.count_one(&format!("k{i}"), t0 + Duration::from_millis(i));
        }
        assert_eq!(limits.windows.lock().unwrap().len(), 3);
        assert_eq!(limits.count_one("k9", t0), 2, "the newest keys stay");
    }
}
