//! Counters of connections that have closed, by [`Key`]. The original's map kept every
//! key forever; here they are kept up to a cap, oldest closed first out, and
//! optionally only for a while, so a server that sees millions of short
//! connections keeps bounded memory. Per reactor thread, so no locks.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A connection's key: the client's `IP:PORT` and the listener it came to
/// (its index in the service's list of listener addresses). One client
/// address may reach several addresses and ports of one process (the kernel
/// reuses a source port per destination), so the server side is part of it;
/// an index of 2 bytes instead of an address of 32 keeps a closed counter
/// at 64 bytes in the map and 56 in the order queue instead of 88 and 80.
pub type Key = (SocketAddr, u16);

/// The closed counters of one reactor.
#[derive(Debug)]
pub struct ClosedCounters {
    counts: HashMap<Key, (u64, Instant)>,
    /// Keys in the order they closed; an entry is stale when the key was
    /// re-opened or closed again since (its instant no longer matches).
    order: VecDeque<(Key, Instant)>,
    cap: usize,
    ttl: Option<Duration>,
    evicted: u64,
}

impl ClosedCounters {
    pub fn new(cap: usize, ttl: Duration) -> Self {
        ClosedCounters {
            counts: HashMap::new(),
            order: VecDeque::new(),
            cap,
            ttl: (!ttl.is_zero()).then_some(ttl),
            evicted: 0,
        }
    }

    /// Keeps the final count of a connection that closed at `now`.
    pub fn insert(&mut self, key: Key, count: u64, now: Instant) {
        if self.cap == 0 {
            self.evicted += 1;
            return;
        }
        self.counts.insert(key, (count, now));
        self.order.push_back((key, now));
        while self.counts.len() > self.cap {
            self.pop_oldest();
        }
        // Stale order entries never outnumber live ones by much.
        if self.order.len() > 2 * self.counts.len() + 1024 {
            let counts = &self.counts;
            self.order
                .retain(|(k, at)| counts.get(k).is_some_and(|(_, t)| t == at));
        }
    }

    /// A new connection reuses `key` (the same address and port): the old
    /// connection's counter is superseded. Returns it, if there was one.
    pub fn reopen(&mut self, key: &Key) -> Option<u64> {
        self.counts.remove(key).map(|(count, _)| count)
    }

    /// When the oldest closed counter outlives the TTL (an early answer
    /// when that key was re-opened since: harmless); `None` without a TTL,
    /// without counters, or for a TTL beyond any clock.
    pub fn next_expiry(&self) -> Option<Instant> {
        let ttl = self.ttl?;
        self.order.front().and_then(|(_, at)| at.checked_add(ttl))
    }

    /// Drops counters older than the TTL.
    pub fn expire(&mut self, now: Instant) {
        let Some(ttl) = self.ttl else { return };
        while let Some(&(key, at)) = self.order.front() {
            if now.saturating_duration_since(at) < ttl {
                break;
            }
            self.order.pop_front();
            if self.counts.get(&key).is_some_and(|(_, t)| *t == at) {
                self.counts.remove(&key);
                self.evicted += 1;
            }
        }
    }

    fn pop_oldest(&mut self) {
        while let Some((key, at)) = self.order.pop_front() {
            if self.counts.get(&key).is_some_and(|(_, t)| *t == at) {
                self.counts.remove(&key);
                self.evicted += 1;
                return;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Counters dropped by the cap or the TTL so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    pub fn iter(&self) -> impl Iterator<Item = (Key, u64)> + '_ {
        self.counts.iter().map(|(k, (c, _))| (*k, *c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> Key {
        (SocketAddr::from(([127, 0, 0, 1], port)), 0)
    }

    #[test]
    fn a_closed_counter_stays_small() {
        // What a million closed connections cost: the map's entry and the
        // order queue's, before the tables' own slack.
        assert!(std::mem::size_of::<(Key, (u64, Instant))>() <= 64);
        assert!(std::mem::size_of::<(Key, Instant)>() <= 56);
    }

    #[test]
    fn the_cap_pushes_out_the_oldest_closed_first() {
        let now = Instant::now();
        let mut c = ClosedCounters::new(2, Duration::ZERO);
        c.insert(addr(1), 10, now);
        c.insert(addr(2), 20, now + Duration::from_secs(1));
        c.insert(addr(3), 30, now + Duration::from_secs(2));
        let mut keys: Vec<_> = c.iter().collect();
        keys.sort();
        assert_eq!(keys, vec![(addr(2), 20), (addr(3), 30)]);
        assert_eq!(c.evicted(), 1);
    }

    #[test]
    fn a_reopened_key_is_superseded_and_its_stale_order_entry_ignored() {
        let now = Instant::now();
        let mut c = ClosedCounters::new(2, Duration::ZERO);
        c.insert(addr(1), 10, now);
        assert_eq!(c.reopen(&addr(1)), Some(10));
        c.insert(addr(2), 20, now);
        c.insert(addr(1), 5, now + Duration::from_secs(1));
        c.insert(addr(3), 30, now + Duration::from_secs(2));
        let mut keys: Vec<_> = c.iter().collect();
        keys.sort();
        assert_eq!(keys, vec![(addr(1), 5), (addr(3), 30)]);
    }

    #[test]
    fn the_ttl_drops_old_counters() {
        let now = Instant::now();
        let mut c = ClosedCounters::new(10, Duration::from_secs(5));
        c.insert(addr(1), 1, now);
        c.insert(addr(2), 2, now + Duration::from_secs(4));
        c.expire(now + Duration::from_secs(6));
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![(addr(2), 2)]);
    }
}
