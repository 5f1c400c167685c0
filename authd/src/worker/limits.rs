//! The failure limits of sign-in and TryLogin: per account and per client
//! address, within `limits.window`. Counted first, then decided: every
//! attempt that goes to argon2 (a wrong password, an unknown name, a cold
//! sign-in) adds one to both counters *before* it is verified, and is
//! refused when that makes either exceed its limit, so concurrent guesses
//! cannot all slip past a limit read before any of them was counted. A
//! success gives its address slot back and clears the account's failures.
//! An attempt whose fast verifier matched needs no argon2 and counts
//! nothing (only the check before, which refuses even a right password
//! while the account is locked). Without a client address there is no
//! address counter: no shared bucket that one caller could fill for all.
//! An address the account signed in from before (`known`, see
//! [`super::signin`]) is locked by its own counter for that account
//! (`fail:ap`, the same limit) instead of the account's, so nobody can lock
//! an owner out of their own account from elsewhere, and a guesser behind
//! the owner's address still gets only the account's limit. While Redis cannot be reached the
//! same counting runs in this process ([`crate::local_limits`]), without
//! that exception.

use super::signin::Creds;
use super::Worker;
use std::time::Instant;

/// The counter keys of one attempt.
pub(super) struct FailKeys {
    pub account: String,
    pub address: Option<String>,
    /// The address is known to the account: instead of the account's
    /// counter, its own counter for this account (`pair`) locks it.
    pub known: bool,
    /// Failures of this account from this address (`None` without one).
    pub pair: Option<String>,
}

impl Worker {
    pub(super) fn fail_keys(&self, c: &Creds) -> FailKeys {
        FailKeys {
            account: self.cache.key("fail:a", &c.username.to_ascii_lowercase()),
            address: (!c.ip.is_empty())
                .then(|| self.cache.key("fail:ip", &crate::address::bucket(&c.ip))),
            known: c.known == Some(true),
            pair: (!c.ip.is_empty()).then(|| {
                let name = c.username.to_ascii_lowercase();
                self.cache.key(
                    "fail:ap",
                    &format!("{name}:{}", crate::address::bucket(&c.ip)),
                )
            }),
        }
    }

    /// The key that says `c`'s address signed in to `c`'s account before.
    pub(super) fn known_key(&self, c: &Creds) -> Option<String> {
        (!c.ip.is_empty()).then(|| {
            let name = c.username.to_ascii_lowercase();
            self.cache.key(
                "known",
                &format!("{name}:{}", crate::address::bucket(&c.ip)),
            )
        })
    }

    /// Counts one attempt of each of `attempts` and says, for each, whether
    /// it may go on (`None`) or is refused (`Some(retry after, s)`).
    pub(super) fn count_attempts(&mut self, attempts: &[&Creds]) -> Vec<Option<u32>> {
        let limits = self.shared.cfg.limits.clone();
        let window = limits.window.as_secs().max(1);
        let keys: Vec<FailKeys> = attempts.iter().map(|c| self.fail_keys(c)).collect();
        let counted: Option<Vec<i64>> = self.cache.run(|conn| {
            let mut p = redis::pipe();
            for k in &keys {
                let pair = k.pair.iter().filter(|_| k.known);
                for key in std::iter::once(&k.account).chain(&k.address).chain(pair) {
                    p.incr(key, 1);
                    p.cmd("EXPIRE").arg(key).arg(window).arg("NX").ignore();
                }
            }
            p.query(conn)
        });
        let now = Instant::now();
        let shared = self.shared.clone();
        let local = &shared.local_limits;
        let mut counts = counted.map(|v| v.into_iter());
        let mut next = |key: &str| -> u32 {
            match counts.as_mut() {
                Some(it) => it
                    .next()
                    .map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX)),
                None => local.count_one(key, now),
            }
        };
        let over: Vec<bool> = keys
            .iter()
            .map(|k| {
                let account = next(&k.account);
                let address = k.address.as_deref().map(&mut next);
                let pair = k.pair.as_deref().filter(|_| k.known).map(&mut next);
                let locked = match pair {
                    Some(pair) => pair > limits.account_failures,
                    None => account > limits.account_failures,
                };
                locked || address.is_some_and(|n| n > limits.ip_failures)
            })
            .collect();
        let refused: Vec<&Creds> = attempts
            .iter()
            .zip(&over)
            .filter(|(_, over)| **over)
            .map(|(c, _)| *c)
            .collect();
        self.give_back(&refused);
        attempts
            .iter()
            .zip(over)
            .map(|(c, over)| over.then(|| self.retry_after(c)))
            .collect()
    }

    /// Attempts refused over a limit never reach argon2: their counts come
    /// back, so the counters hold what was verified (or is being) and
    /// nothing else. Without this a burst of legitimate sign-ins from one
    /// address (a NAT, a front without proxy support) kept every refused
    /// one counted and locked the address for the whole window.
    fn give_back(&mut self, refused: &[&Creds]) {
        if refused.is_empty() {
            return;
        }
        let keys: Vec<FailKeys> = refused.iter().map(|c| self.fail_keys(c)).collect();
        let shared = self.shared.clone();
        let ok = self.cache.run(|conn| {
            let mut p = redis::pipe();
            for k in &keys {
                let pair = k.pair.iter().filter(|_| k.known);
                for key in std::iter::once(&k.account).chain(&k.address).chain(pair) {
                    p.cmd("DECR").arg(key).ignore();
                }
            }
            p.query::<()>(conn)
        });
        if ok.is_none() {
            for k in &keys {
                let pair = k.pair.iter().filter(|_| k.known);
                for key in std::iter::once(&k.account).chain(&k.address).chain(pair) {
                    shared.local_limits.give_back(key);
                }
            }
        }
    }

    /// A counted attempt succeeded: its address slot comes back and the
    /// account's failures are over.
    pub(super) fn forgive(&mut self, c: &Creds) {
        let k = self.fail_keys(c);
        let shared = self.shared.clone();
        shared.local_limits.clear(&k.account);
        if let Some(address) = &k.address {
            shared.local_limits.give_back(address);
        }
        self.cache.run(|conn| {
            let mut p = redis::pipe();
            p.del(&k.account).ignore();
            if let Some(pair) = &k.pair {
                p.del(pair).ignore();
            }
            if let Some(address) = &k.address {
                p.cmd("DECR").arg(address).ignore();
            }
            p.query::<()>(conn)
        });
    }

    /// Seconds until the longer of the two failure windows ends.
    pub(super) fn retry_after(&mut self, c: &Creds) -> u32 {
        let k = self.fail_keys(c);
        let window = self.shared.cfg.limits.window.as_secs() as i64;
        let ttls: Option<(i64, i64)> = self.cache.run(|conn| {
            let address = k.address.as_deref().unwrap_or(&k.account);
            redis::pipe().ttl(&k.account).ttl(address).query(conn)
        });
        match ttls {
            Some((a, b)) => a.max(b).clamp(1, window.max(1)) as u32,
            None => {
                let now = Instant::now();
                let local = &self.shared.local_limits;
                let address = k.address.as_deref().unwrap_or(&k.account);
                local
                    .retry_after(&k.account, now)
                    .max(local.retry_after(address, now))
            }
        }
    }
}
