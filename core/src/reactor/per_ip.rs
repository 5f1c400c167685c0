//! The per-address connection cap, shared by every reactor of a server.
//!
//! One address must not be able to take every connection slot of a daemon
//! (the global `max_connections`), so each source IP may hold at most
//! `max_per_ip` connections at once. The count lives in a few sharded
//! maps: a lock is taken only on accept and close, never per request, and
//! only when the cap is on (`0` turns it off and costs nothing).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;

const SHARDS: usize = 16;

/// Open connections per source address, bounded by `max`.
#[derive(Debug)]
pub struct PerIpLimit {
    max: usize,
    hasher: RandomState,
    shards: Vec<Mutex<HashMap<IpAddr, u32>>>,
}

impl PerIpLimit {
    /// A cap of `max` connections per address; `0` means no cap.
    pub fn new(max: usize) -> Self {
        PerIpLimit {
            max,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, ip: &IpAddr) -> std::sync::MutexGuard<'_, HashMap<IpAddr, u32>> {
        let i = (self.hasher.hash_one(ip) as usize) % SHARDS;
        // A poisoned shard only means a panic elsewhere while counting; the
        // counts themselves are still whole numbers, so go on with them.
        self.shards[i]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one more connection from `ip`, or refuses it at the cap.
    pub fn try_acquire(&self, ip: IpAddr) -> bool {
        if self.max == 0 {
            return true;
        }
        let mut shard = self.shard(&ip);
        let count = shard.entry(ip).or_insert(0);
        if *count as usize >= self.max {
            return false;
        }
        *count += 1;
        true
    }

    /// A connection from `ip` that [`PerIpLimit::try_acquire`] counted closed.
    pub fn release(&self, ip: IpAddr) {
        if self.max == 0 {
            return;
        }
        let mut shard = self.shard(&ip);
        if let Some(count) = shard.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                shard.remove(&ip);
            }
        }
    }

    /// Connections counted for `ip` now.
    pub fn count(&self, ip: IpAddr) -> usize {
        if self.max == 0 {
            return 0;
        }
        self.shard(&ip).get(&ip).map_or(0, |c| *c as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_cap_and_slots_come_back() {
        let limit = PerIpLimit::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "::1".parse().unwrap();
        assert!(limit.try_acquire(a) && limit.try_acquire(a));
        assert!(!limit.try_acquire(a), "a third from one address is refused");
        assert!(limit.try_acquire(b), "another address is not affected");
        limit.release(a);
        assert!(limit.try_acquire(a));
        limit.release(a);
        limit.release(a);
        assert_eq!(limit.count(a), 0);
        let off = PerIpLimit::new(0);
        assert!((0..10_000).all(|_| off.try_acquire(a)));
    }
}
