//! A hashed timer wheel: O(1) insert, O(1) amortised expiry, no cancel.
//!
//! Deadlines in a reactor move constantly (every read pushes an idle deadline
//! back), so entries are never cancelled or moved. An entry carries the
//! instant it was armed for; when it fires, the owner compares that with its
//! current deadline and either acts, re-arms for the later deadline, or
//! ignores a stale entry. That keeps every operation constant-time without
//! intrusive lists.

use std::time::{Duration, Instant};

/// A wheel of `slots` buckets, each `tick` wide, holding values of type `T`.
#[derive(Debug)]
pub struct TimerWheel<T> {
    slots: Vec<Vec<(u64, T)>>,
    tick: Duration,
    origin: Instant,
    /// The first tick not yet processed.
    next_tick: u64,
    len: usize,
}

impl<T> TimerWheel<T> {
    pub fn new(tick: Duration, slots: usize, now: Instant) -> Self {
        assert!(
            slots > 0 && !tick.is_zero(),
            "a wheel needs slots and a tick"
        );
        TimerWheel {
            slots: (0..slots).map(|_| Vec::new()).collect(),
            tick,
            origin: now,
            next_tick: 0,
            len: 0,
        }
    }

    /// The tick `at` falls in. All tick arithmetic is in `u64` (a tick
    /// count does not wrap for hundreds of millions of years at 10 ms),
    /// saturating rather than wrapping at the edges.
    fn tick_of(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.origin);
        u64::try_from(since.as_nanos() / self.tick.as_nanos()).unwrap_or(u64::MAX)
    }

    /// The instant tick number `tick` starts.
    fn start_of(&self, tick: u64) -> Instant {
        let nanos = self.tick.as_nanos().saturating_mul(u128::from(tick));
        let offset = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.origin
            .checked_add(offset)
            .unwrap_or(self.origin + Duration::from_secs(u32::MAX.into()))
    }

    /// Arms `value` to fire at or after `at` (rounded up to the next tick).
    pub fn insert(&mut self, at: Instant, value: T) {
        let tick = self.tick_of(at).saturating_add(1).max(self.next_tick);
        let slot = (tick % self.slots.len() as u64) as usize;
        self.slots[slot].push((tick, value));
        self.len += 1;
    }

    /// Moves every entry due by `now` into `fired`.
    pub fn expire(&mut self, now: Instant, fired: &mut Vec<T>) {
        let now_tick = self.tick_of(now);
        if self.len == 0 {
            self.next_tick = now_tick.saturating_add(1);
            return;
        }
        let slots = self.slots.len() as u64;
        // After a long stall there is no point walking more than one lap.
        let first = self
            .next_tick
            .max(now_tick.saturating_add(1).saturating_sub(slots));
        for tick in first..=now_tick {
            let bucket = &mut self.slots[(tick % slots) as usize];
            let mut i = 0;
            while i < bucket.len() {
                if bucket[i].0 <= now_tick {
                    fired.push(bucket.swap_remove(i).1);
                    self.len -= 1;
                } else {
                    i += 1;
                }
            }
        }
        self.next_tick = now_tick.saturating_add(1);
    }

    /// Time until the next tick boundary, if anything is armed; the reactor
    /// uses it as its poll timeout.
    pub fn next_timeout(&self, now: Instant) -> Option<Duration> {
        if self.len == 0 {
            return None;
        }
        let next = self.start_of(self.tick_of(now).saturating_add(1));
        Some(next.saturating_duration_since(now))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_fire_after_their_deadline_and_not_before() {
        let t0 = Instant::now();
        let mut wheel = TimerWheel::new(Duration::from_millis(10), 8, t0);
        wheel.insert(t0 + Duration::from_millis(25), "a");
        wheel.insert(t0 + Duration::from_millis(500), "far");
        let mut fired = Vec::new();
        wheel.expire(t0 + Duration::from_millis(20), &mut fired);
        assert!(fired.is_empty());
        wheel.expire(t0 + Duration::from_millis(40), &mut fired);
        assert_eq!(fired, vec!["a"]);
        fired.clear();
        // "far" is several laps away: passing its slot must not fire it.
        wheel.expire(t0 + Duration::from_millis(200), &mut fired);
        assert!(fired.is_empty());
        wheel.expire(t0 + Duration::from_millis(520), &mut fired);
        assert_eq!(fired, vec!["far"]);
        assert!(wheel.is_empty());
    }

    #[test]
    fn a_long_stall_fires_everything_due() {
        let t0 = Instant::now();
        let mut wheel = TimerWheel::new(Duration::from_millis(1), 4, t0);
        for i in 0..100u64 {
            wheel.insert(t0 + Duration::from_millis(i), i);
        }
        let mut fired = Vec::new();
        wheel.expire(t0 + Duration::from_secs(10), &mut fired);
        assert_eq!(fired.len(), 100);
    }

    #[test]
    fn next_timeout_stays_right_past_the_u32_tick_count() {
        // 2^32 ticks of 10 ms is about 497 days: the old arithmetic wrapped
        // there and the reactor polled with a zero timeout, spinning.
        let t0 = Instant::now();
        let tick = Duration::from_millis(10);
        let mut wheel = TimerWheel::new(tick, 8, t0);
        let later = t0 + tick * 4_294_967_295 + Duration::from_millis(3);
        wheel.insert(later + Duration::from_secs(5), ());
        let timeout = wheel.next_timeout(later).unwrap();
        assert_eq!(timeout, Duration::from_millis(7), "the rest of the tick");
        let far = t0 + Duration::from_secs(10 * 365 * 86_400);
        let timeout = wheel.next_timeout(far).unwrap();
        assert!(timeout > Duration::ZERO && timeout <= tick, "{timeout:?}");
    }

    #[test]
    fn next_timeout_is_bounded_by_one_tick() {
        let t0 = Instant::now();
        let mut wheel = TimerWheel::new(Duration::from_millis(10), 8, t0);
        assert_eq!(wheel.next_timeout(t0), None);
        wheel.insert(t0 + Duration::from_secs(5), ());
        assert!(wheel.next_timeout(t0).unwrap() <= Duration::from_millis(10));
    }
}
