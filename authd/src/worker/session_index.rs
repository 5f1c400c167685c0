//! Every account's sessions, so they can all be ended: a password reset
//! ends them (a thief's stolen session with it), and so will "sign out
//! everywhere". In Redis a sorted set per user holds the keys of its
//! sessions, scored by when each was made; a sign-in adds to it, drops the
//! entries older than `sessions.max_age` (those sessions are over anyway)
//! and, past `sessions.max_per_user`, ends the oldest sessions themselves,
//! so neither the index nor an account's sessions grow without bound. The
//! fallback sessions in MySQL carry their user id and are ended by it.
//!
//! The scripts touch the session keys beside the index key: one Redis
//! node holds both (a Redis Cluster would need them in one slot).

use super::Worker;

/// Adds a session to its user's index (KEYS[1]): ARGV = now (ms), session
/// key, max age (s), max sessions. Ends the oldest sessions past the cap.
const ADD: &str = r"
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - 1000 * tonumber(ARGV[3]))
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, extra - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
  redis.call('DEL', unpack(oldest))
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 0
";

/// Ends every session in the index KEYS[1], and the index.
const END_ALL: &str = r"
local keys = redis.call('ZRANGE', KEYS[1], 0, -1)
if #keys > 0 then
  redis.call('DEL', unpack(keys))
end
redis.call('DEL', KEYS[1])
return #keys
";

impl Worker {
    fn index_key(&self, user_id: u64) -> String {
        self.cache.key("su", &user_id.to_string())
    }

    /// Queues the indexing of session `key` of `user_id` in `p`.
    pub(super) fn index_session(&self, p: &mut redis::Pipeline, user_id: u64, key: &str) {
        let cfg = &self.shared.cfg.sessions;
        let now = crate::records::now_ms();
        p.cmd("EVAL")
            .arg(ADD)
            .arg(1)
            .arg(self.index_key(user_id))
            .arg(now)
            .arg(key)
            .arg(cfg.max_age.as_secs().max(1))
            .arg(cfg.max_per_user.max(1))
            .ignore();
    }

    /// Ends every session of `user_id`, in Redis and in MySQL. False when
    /// a store could not be told (some session may live on).
    pub(super) fn end_all_sessions(&mut self, user_id: u64) -> bool {
        let index = self.index_key(user_id);
        let redis_done = self
            .cache
            .run(|c| {
                redis::cmd("EVAL")
                    .arg(END_ALL)
                    .arg(1)
                    .arg(&index)
                    .query::<i64>(c)
            })
            .is_some();
        let mysql_done = match self.shared.db.delete_user_sessions(user_id) {
            Ok(()) => true,
            Err(e) => {
                log::error!("ending the fallback sessions of a user: {e}");
                false
            }
        };
        redis_done && mysql_done
    }
}
