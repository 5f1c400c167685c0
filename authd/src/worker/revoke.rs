//! Ending every session of an account at once: a password reset does it
//! (a thief's stolen session with it), and so do "sign out everywhere", a
//! lock and a change of roles. Rather than deleting each session through
//! an index kept in Redis on the sign-in path (measured: a sorted set per
//! user tripled the Redis time of a sign-in, 6.3 → 18.7 µs, and cut warm
//! sign-in from 35,500 to 24,300/s), an account carries a mark in Redis,
//! `sv:<uuid>` = the instant (ms) its sessions were ended: a session made
//! at or before it is over. Sessions carry the instant they were made, so
//! a sign-in costs nothing more, and a validation one `MGET` per batch. The
//! mark lives `sessions.max_age`, past which every older session is over
//! anyway. Fallback sessions in MySQL carry their user id and are deleted.
//! The session index that lists an account's sessions lives in MySQL,
//! written off the request path (`store/history.rs`); it is told here, and
//! closes the rows.

use super::Worker;
use crate::store::User;

impl Worker {
    pub(super) fn mark_key(&self, uuid: &[u8; 16]) -> String {
        self.cache.key("sv", &hex::encode(uuid))
    }

    /// Ends every session of `user`, in Redis and in MySQL, and tells the
    /// history writer why (`reason`). False when a store could not be told
    /// (a session may live on).
    pub(super) fn end_all_sessions(&mut self, user: &User, reason: &'static str) -> bool {
        let now = crate::records::now_ms();
        let max_age = self.shared.cfg.sessions.max_age.as_secs();
        let redis_done = self.cache.mark_sessions_ended(&user.uuid, now, max_age);
        let mysql_done = match self.shared.db.delete_user_sessions(user.id) {
            Ok(()) => true,
            Err(e) => {
                log::error!("ending the fallback sessions of a user: {e}");
                false
            }
        };
        // The grants made in any of them end with them.
        self.user_grants_end(user.id);
        // The index closes only sessions that did end.
        if redis_done && mysql_done {
            self.tell_history(crate::records::Entry::AllSessionsEnded {
                user_id: user.id,
                reason,
                at_ms: now,
            });
        }
        redis_done && mysql_done
    }

    /// Locks the account in Redis first (`lock:<uuid>`: every session of it
    /// over, every sign-in refused, even one whose user was cached or
    /// verified a moment before), then ends its sessions. False when Redis
    /// could not be told: the caller then changes nothing in MySQL.
    pub(super) fn lock_sessions(&mut self, user: &User) -> bool {
        self.cache.set_lock(&user.uuid, true) && self.end_all_sessions(user, "locked")
    }

    /// When the sessions of each user were last ended (ms; 0: never;
    /// `u64::MAX` while the account is locked), or `None` when Redis cannot
    /// say. One `MGET` of both keys of every account.
    pub(super) fn sessions_ended(&mut self, uuids: &[[u8; 16]]) -> Option<Vec<u64>> {
        if uuids.is_empty() {
            return Some(Vec::new());
        }
        let keys: Vec<String> = uuids
            .iter()
            .flat_map(|u| [self.mark_key(u), self.cache.lock_key(u)])
            .collect();
        let got: Vec<Option<u64>> = self.cache.run(|c| redis::cmd("MGET").arg(&keys).query(c))?;
        Some(
            got.chunks(2)
                .map(|pair| match pair {
                    [_, Some(_)] => u64::MAX,
                    [mark, None] => mark.unwrap_or(0),
                    _ => 0,
                })
                .collect(),
        )
    }
}
