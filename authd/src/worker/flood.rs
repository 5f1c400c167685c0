//! Flood limits on the operations that mail codes, take code guesses or
//! create accounts: per client address per hour, and for all callers
//! together per minute. Counted first, like the sign-in limits: every
//! request adds one to both counters before any work, and is refused when
//! that makes either exceed its limit, so concurrent requests cannot slip
//! past a limit read before they were counted.
//!
//! Why each exists (SECURITY.md §3): codes cost a mail (mailbox flooding,
//! and our sender's reputation); sign-ups cost an argon2 hash and a row;
//! reset tries are bounded per address. Guesses at *pending* codes
//! (`register`, `reset_password` when a code exists for the address) are
//! bounded for all callers together ([`Worker::admit_guess`]): that bounds
//! how fast six-digit codes can be guessed across many addresses whatever
//! the attacker's address count, while guesses at addresses with no code
//! (which cannot succeed) cost nobody's budget. Without a client address
//! only the global counters apply. While Redis cannot be reached the
//! counting runs in this process ([`crate::local_limits`]); codes live in
//! Redis only, so there are no guesses then.

use super::Worker;
use authd_wire::{Refusal, Status};
use std::time::Instant;

/// What is being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flood {
    /// A code mailed (`request_code`, `check_account`).
    Codes,
    /// An account made (`sign_up`, `register`).
    SignUps,
    /// A reset tried (`reset_password`), per address only.
    Resets,
    /// An avatar taken (`change_avatar`), per account (its "address" is
    /// `account:<uuid>`).
    Avatars,
}

impl Flood {
    fn tag(self) -> &'static str {
        match self {
            Flood::Codes => "codes",
            Flood::SignUps => "signups",
            Flood::Resets => "resets",
            Flood::Avatars => "avatars",
        }
    }

    fn refusal_status(self) -> Status {
        match self {
            Flood::Codes => Status::TooManyCodes,
            Flood::SignUps | Flood::Resets | Flood::Avatars => Status::TooManyAttempts,
        }
    }
}

const HOUR: u64 = 3600;
const MINUTE: u64 = 60;

impl Worker {
    /// Counts one request of kind `what` from `ip` ("" when unknown); the
    /// refusal with the seconds to wait when it is over a limit.
    pub(super) fn admit(&mut self, what: Flood, ip: &str) -> Result<(), Refusal> {
        let limits = &self.shared.cfg.limits;
        let (per_ip, global) = match what {
            Flood::Codes => (limits.ip_codes_per_hour, limits.codes_per_minute),
            Flood::SignUps => (limits.ip_sign_ups_per_hour, limits.sign_ups_per_minute),
            Flood::Resets => (limits.ip_resets_per_hour, u32::MAX),
            Flood::Avatars => (limits.account_avatars_per_hour, u32::MAX),
        };
        let address = (!ip.is_empty()).then(|| {
            let bucket = crate::address::bucket(ip);
            self.cache
                .key("flood:ip", &format!("{}:{bucket}", what.tag()))
        });
        let all = self.cache.key("flood:all", what.tag());
        // (count, ttl) of the global window, then of the address's.
        let counted: Option<Vec<i64>> = self.cache.run(|conn| {
            let mut p = redis::pipe();
            for (key, window) in
                std::iter::once((&all, MINUTE)).chain(address.iter().map(|k| (k, HOUR)))
            {
                p.incr(key, 1)
                    .cmd("EXPIRE")
                    .arg(key)
                    .arg(window)
                    .arg("NX")
                    .ignore()
                    .ttl(key);
            }
            p.query(conn)
        });
        let over = |n: i64, limit: u32| n > i64::from(limit);
        let retry = match counted {
            Some(v) => {
                let at = |i: usize| v.get(i).copied().unwrap_or(i64::MAX);
                let (n_all, ttl_all) = (at(0), at(1));
                let (n_ip, ttl_ip) = (at(2), at(3));
                let ip_over = address.is_some() && over(n_ip, per_ip);
                let all_over = over(n_all, global);
                match (ip_over, all_over) {
                    (false, false) => None,
                    (true, false) => Some(ttl_ip.clamp(1, HOUR as i64) as u32),
                    (false, true) => Some(ttl_all.clamp(1, MINUTE as i64) as u32),
                    (true, true) => Some(ttl_ip.max(ttl_all).clamp(1, HOUR as i64) as u32),
                }
            }
            None => {
                let now = Instant::now();
                let shared = self.shared.clone();
                let (hourly, minutely) = (&shared.flood_hourly, &shared.flood_minutely);
                let ip_over = address
                    .as_deref()
                    .is_some_and(|k| hourly.count_one(k, now) > per_ip);
                let all_over = minutely.count_one(&all, now) > global;
                match (ip_over, all_over) {
                    (false, false) => None,
                    (true, _) => Some(hourly.retry_after(address.as_deref().unwrap_or(&all), now)),
                    (false, true) => Some(minutely.retry_after(&all, now)),
                }
            }
        };
        match retry {
            None => Ok(()),
            Some(seconds) => Err(Refusal::retry_after(what.refusal_status(), seconds)),
        }
    }

    /// Counts one guess at a pending code against
    /// `limits.code_guesses_per_minute` (all callers), before the code is
    /// compared; the refusal when over it.
    pub(super) fn admit_guess(&mut self) -> Result<(), Refusal> {
        let key = self.cache.key("flood:all", "guesses");
        let limit = self.shared.cfg.limits.code_guesses_per_minute;
        let counted: Option<(i64, i64)> = self.cache.run(|c| {
            redis::pipe()
                .incr(&key, 1)
                .cmd("EXPIRE")
                .arg(&key)
                .arg(MINUTE)
                .arg("NX")
                .ignore()
                .ttl(&key)
                .query(c)
        });
        match counted {
            Some((n, ttl)) if n > i64::from(limit) => Err(Refusal::retry_after(
                Status::TooManyAttempts,
                ttl.clamp(1, MINUTE as i64) as u32,
            )),
            // Redis answered the code a moment ago; if it cannot count now,
            // the code cannot be used up either: refuse.
            None => Err(Refusal::new(Status::Unavailable)),
            _ => Ok(()),
        }
    }

    /// A counted guess was right: its slot comes back.
    pub(super) fn forgive_guess(&mut self) {
        let key = self.cache.key("flood:all", "guesses");
        self.cache
            .run(|c| redis::cmd("DECR").arg(&key).query::<()>(c));
    }
}
