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

/// One counting window: its key, length and limit.
struct Window {
    key: String,
    secs: u64,
    limit: u32,
}

const HOUR: u64 = 3600;
const MINUTE: u64 = 60;

impl Worker {
    /// Counts one request of kind `what` from `ip` ("" when unknown); the
    /// refusal with the seconds to wait when it is over a limit.
    pub(super) fn admit(&mut self, what: Flood, ip: &str) -> Result<(), Refusal> {
        let limits = &self.shared.cfg.limits;
        let (per_address, global) = match what {
            Flood::Codes => (limits.ip_codes_per_hour, Some(limits.codes_per_minute)),
            Flood::SignUps => (
                limits.ip_sign_ups_per_hour,
                Some(limits.sign_ups_per_minute),
            ),
            Flood::Resets => (limits.ip_resets_per_hour, None),
            Flood::Avatars => (limits.account_avatars_per_hour, None),
        };
        let mut windows = Vec::with_capacity(2);
        if !ip.is_empty() {
            let bucket = crate::address::bucket(ip);
            windows.push(Window {
                key: self
                    .cache
                    .key("flood:ip", &format!("{}:{bucket}", what.tag())),
                secs: HOUR,
                limit: per_address,
            });
        }
        if let Some(limit) = global {
            windows.push(Window {
                key: self.cache.key("flood:all", what.tag()),
                secs: MINUTE,
                limit,
            });
        }
        let retry = match self.count_windows(&windows) {
            Some(retry) => retry,
            None => self.count_windows_here(&windows),
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
        let window = Window {
            key: self.cache.key("flood:all", "guesses"),
            secs: MINUTE,
            limit: self.shared.cfg.limits.code_guesses_per_minute,
        };
        match self.count_windows(&[window]) {
            Some(None) => Ok(()),
            Some(Some(seconds)) => Err(Refusal::retry_after(Status::TooManyAttempts, seconds)),
            // Redis answered the code a moment ago; if it cannot count now,
            // the code cannot be used up either: refuse.
            None => Err(Refusal::new(Status::Unavailable)),
        }
    }

    /// Counts one more in each window (`INCR`, `EXPIRE NX`) in one
    /// pipeline: `None` when Redis cannot be reached, else the seconds to
    /// wait when any window is over its limit (the longest of those).
    fn count_windows(&mut self, windows: &[Window]) -> Option<Option<u32>> {
        if windows.is_empty() {
            return Some(None);
        }
        let counted: Vec<i64> = self.cache.run(|conn| {
            let mut p = redis::pipe();
            for w in windows {
                p.incr(&w.key, 1)
                    .cmd("EXPIRE")
                    .arg(&w.key)
                    .arg(w.secs)
                    .arg("NX")
                    .ignore()
                    .ttl(&w.key);
            }
            p.query(conn)
        })?;
        let retry = windows
            .iter()
            .enumerate()
            .filter_map(|(i, w)| {
                let n = counted.get(2 * i).copied().unwrap_or(i64::MAX);
                let ttl = counted.get(2 * i + 1).copied().unwrap_or(w.secs as i64);
                (n > i64::from(w.limit)).then(|| ttl.clamp(1, w.secs as i64) as u32)
            })
            .max();
        Some(retry)
    }

    /// [`Self::count_windows`] in this process, for while Redis is down.
    fn count_windows_here(&self, windows: &[Window]) -> Option<u32> {
        let now = Instant::now();
        windows
            .iter()
            .filter_map(|w| {
                let local = match w.secs {
                    HOUR => &self.shared.flood_hourly,
                    _ => &self.shared.flood_minutely,
                };
                (local.count_one(&w.key, now) > w.limit).then(|| local.retry_after(&w.key, now))
            })
            .max()
    }

    /// A counted guess was right: its slot comes back.
    pub(super) fn forgive_guess(&mut self) {
        let key = self.cache.key("flood:all", "guesses");
        self.cache
            .run(|c| redis::cmd("DECR").arg(&key).query::<()>(c));
    }
}
