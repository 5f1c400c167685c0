//! Sessions. A sign-in gets a fresh random 128-bit token (never one the
//! client chose: no fixation). Normally the session lives in Redis under
//! the SHA-256 of the token with a sliding TTL (`r.` tokens); while Redis is
//! down it is written to MySQL instead (`m.` tokens), so sign-ins that MySQL
//! can answer still work. The prefix routes every later check to the right
//! store with no extra lookup.
//!
//! A session remembers the password it was made with (the fingerprint of
//! the hash) and is valid only while the account still has that password:
//! a sign-in with the old password that was in flight (queued for argon2,
//! say) while a reset ran makes a session that the reset's mark cannot
//! see, and this ends it at its first use.

use super::users::By;
use super::Worker;
use crate::ops::Job;
use crate::password::token_hash;
use crate::store::User;
use authd_wire::ops::{Identity, LookedUp, Lookup, Profile, ValidateSession, Whoami};
use authd_wire::{Refusal, Request, Status};

/// Where a token's session lives.
enum Home {
    Redis(String),
    Mysql([u8; 32]),
}

fn random_hex16() -> Result<String, Status> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|_| Status::Internal)?;
    Ok(hex::encode(raw))
}

/// A user's public profile, as answers carry it.
pub(super) fn profile(user: &User) -> Profile {
    Profile {
        user: user.uuid,
        username: user.username.clone(),
        nickname: user.nickname.clone(),
        avatar: user.avatar.clone(),
        permissions: user.permissions,
    }
}

impl Worker {
    fn home(&self, token: &str) -> Option<Home> {
        let (kind, rest) = token.split_once('.')?;
        if rest.len() != 32 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let hash = token_hash(token);
        match kind {
            "r" => Some(Home::Redis(self.cache.key("s", &hex::encode(hash)))),
            "m" => Some(Home::Mysql(hash)),
            _ => None,
        }
    }

    /// A fresh Redis session token and the key it is stored under.
    pub(super) fn new_redis_token(&self) -> Result<(String, String), Status> {
        let token = format!("r.{}", random_hex16()?);
        let key = self.cache.key("s", &hex::encode(token_hash(&token)));
        Ok((token, key))
    }

    /// The value of a Redis session: its user, when it was made (`made`,
    /// ms; the login record and the session index carry the same instant)
    /// and the password it was made with.
    pub(super) fn session_value(user: &User, made: u64) -> String {
        format!(
            "{}:{}:{made}:{}",
            user.id,
            user.uuid_hex(),
            user.pw_fingerprint
        )
    }

    /// A session in MySQL, for when Redis is down.
    pub(super) fn mysql_session(&mut self, user: &User) -> Result<String, Status> {
        let token = format!("m.{}", random_hex16()?);
        self.shared
            .db
            .insert_session(
                &token_hash(&token),
                user.id,
                &user.pw_fingerprint,
                self.shared.cfg.sessions.ttl,
            )
            .map_err(|e| super::store_failed("storing a fallback session", e))?;
        Ok(token)
    }

    /// The users of many tokens at once (one pipeline for the Redis ones),
    /// sliding each session's expiry.
    fn session_users(&mut self, tokens: &[&str]) -> Vec<Result<User, Status>> {
        self.session_users_made(tokens)
            .into_iter()
            .map(|r| r.map(|(user, _)| user))
            .collect()
    }

    /// As [`Worker::session_users`], with when each session was made (ms;
    /// `None` for a fallback session in MySQL, which does not say).
    pub(super) fn session_users_made(
        &mut self,
        tokens: &[&str],
    ) -> Vec<Result<(User, Option<u64>), Status>> {
        let ttl = self.shared.cfg.sessions.ttl.as_secs().max(1);
        let homes: Vec<Option<Home>> = tokens.iter().map(|t| self.home(t)).collect();
        let redis_keys: Vec<&String> = homes
            .iter()
            .filter_map(|h| match h {
                Some(Home::Redis(k)) => Some(k),
                _ => None,
            })
            .collect();
        let values: Option<Vec<Option<String>>> = if redis_keys.is_empty() {
            Some(Vec::new())
        } else {
            self.cache.run(|c| {
                let mut p = redis::pipe();
                for k in &redis_keys {
                    p.cmd("GETEX").arg(*k).arg("EX").arg(ttl);
                }
                p.query(c)
            })
        };
        let mut values = values.map(|v| v.into_iter());
        // The user uuid of each token, or the status to answer; and when
        // each Redis session was made (ms).
        let mut uuids: Vec<Result<[u8; 16], Status>> = Vec::with_capacity(tokens.len());
        let mut made: Vec<Option<u64>> = Vec::with_capacity(tokens.len());
        // The password fingerprint each session was made with.
        let mut passwords: Vec<String> = Vec::with_capacity(tokens.len());
        for home in &homes {
            let mut made_at = None;
            let mut password = String::new();
            uuids.push(match home {
                None => Err(Status::NoSession),
                Some(Home::Redis(_)) => match values.as_mut() {
                    None => Err(Status::Unavailable),
                    Some(vals) => match vals.next().flatten().and_then(|v| self.live_session(&v)) {
                        None => Err(Status::NoSession),
                        Some((uuid, at, fingerprint)) => {
                            made_at = Some(at);
                            password = fingerprint;
                            Ok(uuid)
                        }
                    },
                },
                Some(Home::Mysql(hash)) => match self.shared.db.touch_session(
                    hash,
                    self.shared.cfg.sessions.ttl,
                    self.shared.cfg.sessions.max_age,
                ) {
                    Ok(Some((id, fingerprint))) => match self.shared.db.user_by_id(id) {
                        Ok(Some(u)) => {
                            password = fingerprint;
                            Ok(u.uuid)
                        }
                        Ok(None) => Err(Status::NoSession),
                        Err(e) => Err(super::store_failed("loading a session user", e)),
                    },
                    Ok(None) => Err(Status::NoSession),
                    Err(e) => Err(super::store_failed("checking a fallback session", e)),
                },
            });
            made.push(made_at);
            passwords.push(password);
        }
        self.drop_ended(&mut uuids, &made);
        let wanted: Vec<[u8; 16]> = uuids
            .iter()
            .filter_map(|u| u.as_ref().ok().copied())
            .collect();
        let by: Vec<By<'_>> = wanted.iter().map(By::Uuid).collect();
        let mut found = self.users(&by).into_iter();
        uuids
            .into_iter()
            .zip(passwords)
            .zip(made)
            .map(|((u, password), made)| {
                u.and_then(|_| match found.next() {
                    // A locked account has no session, whatever its mark says.
                    Some(Ok(Some(user))) if user.locked => Err(Status::NoSession),
                    Some(Ok(Some(user)))
                        if crate::password::same(&user.pw_fingerprint, &password) =>
                    {
                        Ok((user, made))
                    }
                    // Made with a password the account no longer has.
                    Some(Ok(Some(_))) | Some(Ok(None)) => Err(Status::NoSession),
                    _ => Err(Status::Unavailable),
                })
            })
            .collect()
    }

    pub(super) fn session_user(&mut self, token: &str) -> Result<User, Status> {
        self.session_users(&[token])
            .pop()
            .unwrap_or(Err(Status::Internal))
    }

    /// `validate_session` and `whoami` jobs: one lookup of all their
    /// sessions, each answered in its operation's shape.
    pub(super) fn validate_batch(&mut self, jobs: Vec<Job>) {
        let tokens: Vec<String> = jobs
            .iter()
            .map(|j| match &j.op {
                Request::ValidateSession(ValidateSession { token })
                | Request::Whoami(Whoami { token }) => token.as_str().to_owned(),
                _ => String::new(),
            })
            .collect();
        let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let users = self.session_users(&refs);
        for (job, user) in jobs.into_iter().zip(users) {
            match (user, &job.op) {
                (Err(status), _) => job.refuse(status),
                (Ok(user), Request::Whoami(_)) => job.ok::<Whoami>(&Identity {
                    user: user.uuid,
                    username: user.username,
                }),
                (Ok(user), _) => job.ok::<ValidateSession>(&profile(&user)),
            }
        }
    }

    pub(super) fn lookup_batch(&mut self, jobs: Vec<Job>) {
        let uuids: Vec<[u8; 16]> = jobs
            .iter()
            .map(|j| match &j.op {
                Request::Lookup(Lookup { user }) => *user,
                _ => [0; 16],
            })
            .collect();
        let by: Vec<By<'_>> = uuids.iter().map(By::Uuid).collect();
        let found = self.users(&by);
        for (job, user) in jobs.into_iter().zip(found) {
            match user {
                Ok(Some(user)) => job.ok::<Lookup>(&LookedUp {
                    username: user.username,
                    nickname: user.nickname,
                    avatar: user.avatar,
                }),
                Ok(None) => job.refuse(Status::NotFound),
                Err(()) => job.refuse(Status::Unavailable),
            }
        }
    }

    /// Ends a session wherever it lives; `ok` also when it was already gone.
    pub(super) fn logout(&mut self, token: &str) -> Result<(), Refusal> {
        let (redis, mysql) = match self.home(token) {
            None => return Ok(()),
            Some(Home::Redis(_)) => (true, false),
            Some(Home::Mysql(_)) => (false, true),
        };
        self.end_session_by_hash(token_hash(token), redis, mysql, "logout")
    }

    /// Ends the session of a token hash in the homes named (an index row
    /// does not say which: both) and closes its index row; `ok` also when
    /// it was gone.
    pub(super) fn end_session_by_hash(
        &mut self,
        hash: [u8; 32],
        redis: bool,
        mysql: bool,
        reason: &'static str,
    ) -> Result<(), Refusal> {
        if redis {
            let key = self.cache.key("s", &hex::encode(hash));
            self.cache
                .run(|c| redis::cmd("DEL").arg(&key).query::<()>(c))
                .ok_or(Refusal::new(Status::Unavailable))?;
        }
        if mysql {
            self.shared.db.delete_session(&hash).map_err(|e| {
                Refusal::from(super::store_failed("deleting a fallback session", e))
            })?;
        }
        self.tell_history(crate::records::Entry::SessionEnded {
            token_hash: hash,
            reason,
            at_ms: crate::records::now_ms(),
        });
        self.session_grants_end(&hash);
        Ok(())
    }
}

impl Worker {
    /// The user uuid of a Redis session's value and when it was made,
    /// unless it outlived `sessions.max_age` (however often it slid).
    pub(super) fn live_session(&self, value: &str) -> Option<([u8; 16], u64, String)> {
        let (uuid, made, fingerprint) = parse_session(value)?;
        let age = crate::records::now_ms().saturating_sub(made);
        (u128::from(age) < self.shared.cfg.sessions.max_age.as_millis()).then_some((
            uuid,
            made,
            fingerprint,
        ))
    }

    /// Redis sessions made before their account's sessions were ended
    /// ([`super::revoke`]) are over; unknown while Redis cannot say.
    fn drop_ended(&mut self, uuids: &mut [Result<[u8; 16], Status>], made: &[Option<u64>]) {
        let checked: Vec<usize> = (0..uuids.len())
            .filter(|i| made[*i].is_some() && uuids[*i].is_ok())
            .collect();
        let wanted: Vec<[u8; 16]> = checked.iter().filter_map(|i| uuids[*i].ok()).collect();
        match self.sessions_ended(&wanted) {
            Some(ended) => {
                for (i, ended_at) in checked.into_iter().zip(ended) {
                    if made[i].is_some_and(|at| at <= ended_at) {
                        uuids[i] = Err(Status::NoSession);
                    }
                }
            }
            None => {
                for i in checked {
                    uuids[i] = Err(Status::Unavailable);
                }
            }
        }
    }
}

/// `"<id>:<uuid hex>:<made, unix ms>"` → (uuid, made).
/// `id:uuid:made_ms:password fingerprint`; a value without the
/// fingerprint (from before it was kept) matches no password.
pub(super) fn parse_session(v: &str) -> Option<([u8; 16], u64, String)> {
    let mut parts = v.split(':');
    let (_, uuid, made) = (parts.next()?, parts.next()?, parts.next()?);
    let fingerprint = parts.next().unwrap_or("").to_owned();
    let mut out = [0u8; 16];
    hex::decode_to_slice(uuid, &mut out).ok()?;
    Some((out, made.parse().ok()?, fingerprint))
}
