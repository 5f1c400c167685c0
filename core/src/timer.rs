//! A hashed timer wheel: O(1) insert, O(1) amortised expiry, no cancel.
//!
//! Deadlines in a reactor move constantly (every read pushes an idle deadline
//! back), so entries are never cancelled or moved. An entry carries the
//! instant it was armed for; when it fires, the owner compares that with its
//! current deadline and either acts, re-arms for the later deadline, or
//! ignores a stale entry. That keeps every operation constant-time without
//! intrusive lists.
//!
//! A bitmap of occupied slots lets [`TimerWheel::next_timeout`] name the
//! first tick that can hold a due entry, so a reactor whose only timers lie
//! far ahead sleeps until then instead of waking on every tick. It is a
//! lower bound: a slot may hold only entries of a later lap (one spurious
//! wake per lap at most), and it costs a few word scans, never an entry scan.

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
    /// Bit `i` is set while slot `i` holds an entry.
    occupied: Vec<u64>,
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
            occupied: vec![0; slots.div_ceil(64)],
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
        self.occupied[slot / 64] |= 1 << (slot % 64);
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
            if bucket.is_empty() {
                let slot = (tick % slots) as usize;
                self.occupied[slot / 64] &= !(1 << (slot % 64));
            }
        }
        self.next_tick = now_tick.saturating_add(1);
    }

    /// Time until the first tick whose slot holds an entry, if anything is
    /// armed (zero when something may be due already); the reactor uses it
    /// as its poll timeout.
    pub fn next_timeout(&self, now: Instant) -> Option<Duration> {
        if self.len == 0 {
            return None;
        }
        let now_tick = self.tick_of(now);
        let from = if self.next_tick <= now_tick {
            // Ticks not expired yet: an entry in one of them may be due.
            let behind = now_tick - self.next_tick + 1;
            if self.ticks_to_occupied(self.next_tick) < behind {
                return Some(Duration::ZERO);
            }
            now_tick.saturating_add(1)
        } else {
            self.next_tick
        };
        let at = self.start_of(from.saturating_add(self.ticks_to_occupied(from)));
        Some(at.saturating_duration_since(now))
    }

    /// The start of the first tick whose slot holds an entry (possibly
    /// past, when the wheel was not expired lately); `None` when empty.
    pub fn next_due(&self) -> Option<Instant> {
        if self.len == 0 {
            return None;
        }
        let from = self.next_tick;
        Some(self.start_of(from.saturating_add(self.ticks_to_occupied(from))))
    }

    /// How many ticks after tick `from` the first occupied slot comes,
    /// searching one lap of the bitmap (a full lap when none is).
    fn ticks_to_occupied(&self, from: u64) -> u64 {
        let slots = self.slots.len();
        let start = (from % slots as u64) as usize;
        let words = self.occupied.len();
        // Word by word from the start slot, wrapping once around.
        for step in 0..=words {
            let w = (start / 64 + step) % words;
            let bits = match step {
                0 => self.occupied[w] & (!0u64 << (start % 64)),
                // Back at the start word: only the bits below the start.
                _ if step == words => self.occupied[w] & !(!0u64 << (start % 64)),
                _ => self.occupied[w],
            };
            if bits != 0 {
                let slot = w * 64 + bits.trailing_zeros() as usize;
                return ((slot + slots - start) % slots) as u64;
            }
        }
        slots as u64
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
    fn the_poll_timeout_reaches_the_first_armed_slot() {
        let t0 = Instant::now();
        let tick = Duration::from_millis(10);
        let mut wheel = TimerWheel::new(tick, 128, t0);
        assert_eq!(wheel.next_timeout(t0), None);
        wheel.insert(t0 + Duration::from_millis(995), "late");
        // Armed for tick 100: the poll sleeps until then, not one tick.
        assert_eq!(wheel.next_timeout(t0), Some(Duration::from_millis(1000)));
        wheel.insert(t0 + Duration::from_millis(35), "soon");
        assert_eq!(wheel.next_timeout(t0), Some(Duration::from_millis(40)));
        let mut fired = Vec::new();
        wheel.expire(t0 + Duration::from_millis(40), &mut fired);
        assert_eq!(fired, vec!["soon"]);
        let at = t0 + Duration::from_millis(41);
        assert_eq!(wheel.next_timeout(at), Some(Duration::from_millis(959)));
        // An entry a lap or more ahead: its slot comes first, a lower bound.
        let mut lapped = TimerWheel::new(tick, 8, t0);
        lapped.insert(t0 + Duration::from_millis(195), ());
        assert_eq!(lapped.next_timeout(t0), Some(Duration::from_millis(40)));
        // A slot behind the start position is found after wrapping.
        let mut wrapped = TimerWheel::new(tick, 8, t0);
        wrapped.expire(t0 + Duration::from_millis(55), &mut Vec::new());
        wrapped.insert(t0 + Duration::from_millis(95), ());
        let at = t0 + Duration::from_millis(56);
        assert_eq!(wrapped.next_timeout(at), Some(Duration::from_millis(44)));
    }

    #[test]
    fn a_due_slot_is_a_zero_timeout() {
        let t0 = Instant::now();
        let mut wheel = TimerWheel::new(Duration::from_millis(10), 1024, t0);
        wheel.insert(t0 + Duration::from_millis(5), ());
        let late = t0 + Duration::from_millis(500);
        assert_eq!(wheel.next_timeout(late), Some(Duration::ZERO));
    }

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
        wheel.expire(later, &mut Vec::new());
        wheel.insert(later + Duration::from_millis(25), ());
        let timeout = wheel.next_timeout(later).unwrap();
        assert_eq!(timeout, Duration::from_millis(27), "to the entry's tick");
        let far = t0 + Duration::from_secs(10 * 365 * 86_400);
        wheel.expire(far, &mut Vec::new());
        wheel.insert(far + Duration::from_secs(5), ());
        let timeout = wheel.next_timeout(far).unwrap();
        assert!(
            timeout > Duration::ZERO && timeout <= tick * 8,
            "{timeout:?}"
        );
    }

    #[test]
    fn next_timeout_is_bounded_by_one_lap() {
        let t0 = Instant::now();
        let mut wheel = TimerWheel::new(Duration::from_millis(10), 8, t0);
        assert_eq!(wheel.next_timeout(t0), None);
        wheel.insert(t0 + Duration::from_secs(5), ());
        assert!(wheel.next_timeout(t0).unwrap() <= Duration::from_millis(80));
    }

    proptest::proptest! {
        /// The poll timeout never sleeps past the earliest armed entry, and
        /// every entry fires, once, no earlier than its deadline.
        #[test]
        fn the_timeout_never_oversleeps(
            deadlines in proptest::collection::vec(0u64..3_000, 1..40),
            steps in proptest::collection::vec(1u64..400, 1..40),
        ) {
            let t0 = Instant::now();
            let ms = Duration::from_millis;
            let mut wheel = TimerWheel::new(ms(10), 16, t0);
            for (i, d) in deadlines.iter().enumerate() {
                wheel.insert(t0 + ms(*d), i);
            }
            let mut now = t0;
            let mut fired = Vec::new();
            for step in steps {
                if let Some(timeout) = wheel.next_timeout(now) {
                    let earliest = deadlines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !fired.contains(i))
                        .map(|(_, d)| t0 + ms(*d))
                        .min()
                        .unwrap();
                    // Rounded up to a tick boundary at most.
                    proptest::prop_assert!(now + timeout <= earliest + ms(10));
                }
                now += ms(step);
                let before = fired.len();
                wheel.expire(now, &mut fired);
                for i in &fired[before..] {
                    proptest::prop_assert!(t0 + ms(deadlines[*i]) <= now);
                }
            }
            wheel.expire(t0 + ms(10_000), &mut fired);
            fired.sort();
            proptest::prop_assert_eq!(fired, (0..deadlines.len()).collect::<Vec<_>>());
        }
    }
}
