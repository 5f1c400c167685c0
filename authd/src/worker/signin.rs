//! Sign-in and TryLogin, batched. One pipeline reads, for every attempt of
//! the batch, the cached user, its fast verifier and both failure counters;
//! users missing from the cache come from MySQL. Attempts whose password
//! matches their fast verifier win at once; the rest go to argon2 and come
//! back through [`Worker::verified`], counted against the failure limits
//! first ([`super::limits`]). The writes of all winners (sessions,
//! verifiers, cleared counters) go in one more pipeline. Over a limit the
//! answer is `too_many_attempts` with the time to wait. Every attempt leaves
//! a login record.
//!
//! An address that signed in to an account is *known* to it for 30 days,
//! and is locked by its own failures on that account instead of the
//! account's ([`super::limits`]): guesses from elsewhere can lock an
//! account against the rest of the world, never against where its owner
//! signs in.

use super::sessions::profile;
use super::unusual::Look;
use super::Worker;
use crate::hasher::Task;
use crate::nodes;
use crate::ops::{Job, Secret};
use crate::password::{fast_verifier, same};
use crate::records::now_ms;
use crate::store::db::LoginRecord;
use crate::store::User;
use authd_wire::ops::{NodeTicket, SignIn, SignedIn, TryLogin};
use authd_wire::Status;
use authd_wire::{Refusal, Request};

/// The credentials of a SignIn or TryLogin job.
pub(super) struct Creds {
    pub username: String,
    pub password: Secret,
    pub ip: String,
    pub agent: String,
    /// The browser's device id (a long-lived random cookie) and the page
    /// that sent the visitor to the sign-in form; empty for TryLogin.
    pub device: String,
    pub referrer: String,
    /// This address signed in to this account before (within
    /// [`KNOWN_FOR`]): its own failures on the account lock it, not the
    /// account's. `None` until read: only attempts the account lock could
    /// refuse, and cold ones, need to know.
    pub known: Option<bool>,
}

/// How long an address that signed in to an account stays known to it.
const KNOWN_FOR: u64 = 30 * 24 * 3600;

fn creds(job: &Job) -> Creds {
    match &job.op {
        Request::SignIn(SignIn {
            username,
            password,
            ip,
            agent,
            device,
            referrer,
            ..
        }) => Creds {
            username: username.clone(),
            password: password.clone(),
            ip: ip.clone(),
            agent: agent.clone(),
            device: device.clone(),
            referrer: referrer.clone(),
            known: None,
        },
        Request::TryLogin(TryLogin {
            username,
            password,
            ip,
        }) => Creds {
            username: username.clone(),
            password: password.clone(),
            ip: ip.clone(),
            agent: String::new(),
            device: String::new(),
            referrer: String::new(),
            known: None,
        },
        _ => unreachable!("only sign-in jobs reach the sign-in batch"),
    }
}

/// A verified attempt waiting for its writes.
pub(super) struct Win {
    pub job: Job,
    pub creds: Creds,
    pub user: User,
    clear_failures: bool,
    store_verifier: bool,
    /// It was counted against the limits before argon2 (give it back).
    counted: bool,
}

fn count(v: &Option<String>) -> u32 {
    v.as_deref().and_then(|s| s.parse().ok()).unwrap_or(0)
}

impl Worker {
    pub(super) fn sign_in_batch(&mut self, jobs: Vec<Job>) {
        let mut all: Vec<Creds> = jobs.iter().map(creds).collect();
        let mut keys = Vec::with_capacity(all.len() * 4);
        for c in &all {
            let name = c.username.to_ascii_lowercase();
            let fail = self.fail_keys(c);
            keys.push(self.cache.key("u:n", &name));
            keys.push(self.cache.key("fv", &name));
            // Without an address, its slot reads the account again.
            keys.push(fail.address.clone().unwrap_or_else(|| fail.account.clone()));
            keys.push(fail.account);
        }
        let got: Vec<Option<String>> = self
            .cache
            // One MGET for the whole batch: one command for Redis to run
            // instead of four per attempt.
            .run(|conn| redis::cmd("MGET").arg(&keys).query(conn))
            .filter(|got: &Vec<Option<String>>| got.len() == keys.len())
            .unwrap_or_else(|| vec![None; keys.len()]);
        // Only where the account has failures can the account lock refuse,
        // and only there does it matter whether the address is known: a
        // second read for those attempts alone (none, normally).
        let mut pair_failures = vec![0u32; all.len()];
        let suspect: Vec<usize> = (0..all.len())
            .filter(|&i| !all[i].ip.is_empty() && count(&got[i * 4 + 3]) > 0)
            .collect();
        if !suspect.is_empty() {
            let mut refs: Vec<&mut Creds> = all
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| suspect.contains(i))
                .map(|(_, c)| c)
                .collect();
            let counts = self.read_known(&mut refs);
            for (&i, n) in suspect.iter().zip(counts) {
                pair_failures[i] = n;
            }
        }
        let limits = self.shared.cfg.limits.clone();
        let verifiers_on = !self.shared.cfg.argon2.verifier_ttl.is_zero();
        let mut wins = Vec::new();
        let mut loaded = Vec::new();
        let mut cold = Vec::new();
        for (i, ((job, c), row)) in jobs.into_iter().zip(all).zip(got.chunks(4)).enumerate() {
            let address_count = if c.ip.is_empty() { 0 } else { count(&row[2]) };
            let account_locked = match c.known {
                Some(true) => pair_failures[i] >= limits.account_failures,
                _ => count(&row[3]) >= limits.account_failures,
            };
            if account_locked || address_count >= limits.ip_failures {
                let retry = self.retry_after(&c);
                self.record_attempt(&c, None, "too_many_attempts");
                job.refuse(Refusal::retry_after(Status::TooManyAttempts, retry));
                continue;
            }
            let user = match row[0].as_deref().and_then(User::decode) {
                Some(user) => user,
                None => match self.shared.db.user_by_name(&c.username) {
                    Ok(Some(user)) => {
                        loaded.push(user.clone());
                        user
                    }
                    // Verified against the decoy, so the refusal takes as
                    // long as a wrong password's.
                    Ok(None) => self.decoy(),
                    Err(e) => {
                        job.refuse(super::store_failed("loading a user", e));
                        continue;
                    }
                },
            };
            let warm = verifiers_on
                && user.id != super::decoy::DECOY_ID
                && row[1].as_deref().is_some_and(|v| {
                    same(
                        v,
                        &fast_verifier(
                            &self.shared.keys.fast_verifier,
                            user.id,
                            &user.pw_fingerprint,
                            c.password.as_str(),
                        ),
                    )
                });
            if warm {
                let clear_failures = count(&row[3]) > 0;
                wins.push(Win {
                    job,
                    creds: c,
                    user,
                    clear_failures,
                    store_verifier: false,
                    counted: false,
                });
                continue;
            }
            cold.push((job, c, user));
        }
        if !loaded.is_empty() {
            self.cache_users(&loaded);
        }
        self.verify_counted(cold);
        self.finish_wins(wins);
    }

    /// Attempts that need argon2: each counted against the limits first,
    /// then refused or verified.
    fn verify_counted(&mut self, cold: Vec<(Job, Creds, User)>) {
        if cold.is_empty() {
            return;
        }
        // Cold attempts are counted on the account or, from a known
        // address, on that pair: read which, where not read yet.
        let mut cold = cold;
        let mut unread: Vec<&mut Creds> = cold
            .iter_mut()
            .map(|(_, c, _)| c)
            .filter(|c| c.known.is_none())
            .collect();
        self.read_known(&mut unread);
        let creds: Vec<&Creds> = cold.iter().map(|(_, c, _)| c).collect();
        let verdicts = self.count_attempts(&creds);
        for ((job, c, user), refused) in cold.into_iter().zip(verdicts) {
            if let Some(retry) = refused {
                self.record_attempt(&c, None, "too_many_attempts");
                job.refuse(Refusal::retry_after(Status::TooManyAttempts, retry));
                continue;
            }
            // The cache holds no hash: a cached user's comes from MySQL.
            let user = match user.pwhash {
                Some(_) => user,
                None => match self.shared.db.user_by_id(user.id) {
                    Ok(Some(fresh)) => fresh,
                    Ok(None) => self.decoy(),
                    Err(e) => {
                        self.forgive(&c);
                        job.refuse(super::store_failed("loading a user", e));
                        continue;
                    }
                },
            };
            let task = Task::Verify {
                job,
                user: Box::new(user),
                password: c.password.clone(),
            };
            if let Err(task) = self.shared.hasher.submit(task) {
                self.forgive(&c);
                task.into_job().refuse(Status::Busy);
            }
        }
    }

    /// argon2 has spoken on a cold attempt.
    pub(super) fn verified(&mut self, job: Job, user: User, ok: bool) {
        if !matches!(job.op, Request::SignIn(_) | Request::TryLogin(_)) {
            return job.refuse(Status::Internal);
        }
        let c = creds(&job);
        if user.id == super::decoy::DECOY_ID {
            return self.failed(job, &c, None, "unknown_user");
        }
        if ok {
            let win = Win {
                job,
                creds: c,
                user,
                clear_failures: true,
                store_verifier: true,
                counted: true,
            };
            self.finish_wins(vec![win]);
        } else {
            self.failed(job, &c, Some(user.id), "bad_password");
        }
    }

    /// Writes what the winners need in one pipeline, then answers them. A
    /// locked account is refused here, once its password was found right:
    /// a wrong password on it is an ordinary failure and tells nothing.
    /// The lock is read twice: from the user (MySQL, or the cache) and from
    /// the account's `lock:<uuid>` key in Redis, which a lock sets before
    /// anything else — so a user cached just before the lock, or a sign-in
    /// verified while it was being set, is refused all the same.
    fn finish_wins(&mut self, wins: Vec<Win>) {
        if wins.is_empty() {
            return;
        }
        for win in wins.iter().filter(|w| w.counted) {
            self.forgive(&win.creds);
        }
        let (locked, wins): (Vec<Win>, Vec<Win>) = wins.into_iter().partition(|w| w.user.locked);
        for win in locked {
            self.refuse_locked(win);
        }
        if wins.is_empty() {
            return;
        }
        let session_ttl = self.shared.cfg.sessions.ttl.as_secs().max(1);
        let fv_ttl = self.shared.cfg.argon2.verifier_ttl.as_secs();
        let made = now_ms();
        let mut sessions: Vec<Option<(String, String)>> = Vec::with_capacity(wins.len());
        let mut p = redis::pipe();
        for win in &wins {
            let name = win.creds.username.to_ascii_lowercase();
            if win.clear_failures && !win.counted {
                let k = self.fail_keys(&win.creds);
                p.del(k.account).ignore();
                if let Some(pair) = k.pair {
                    p.del(pair).ignore();
                }
            }
            // An argon2-verified sign-in makes its address known, or keeps
            // it known 30 more days (a warm one needs no write: a verified
            // one came before it).
            if let Some(known) = self.known_key(&win.creds).filter(|_| win.counted) {
                p.set_ex(known, 1, KNOWN_FOR).ignore();
            }
            if win.store_verifier && fv_ttl > 0 {
                let fv = fast_verifier(
                    &self.shared.keys.fast_verifier,
                    win.user.id,
                    &win.user.pw_fingerprint,
                    win.creds.password.as_str(),
                );
                p.set_ex(self.cache.key("fv", &name), fv, fv_ttl).ignore();
            }
            let session = match win.job.op {
                Request::SignIn(_) => self.new_redis_token().ok(),
                _ => None,
            };
            if let Some((_, key)) = &session {
                p.set_ex(key, Self::session_value(&win.user, made), session_ttl)
                    .ignore();
            }
            // The one answer this pipeline gives per winner.
            p.get(self.cache.lock_key(&win.user.uuid));
            sessions.push(session);
        }
        let marks: Option<Vec<Option<String>>> = self.cache.run(|c| p.query(c));
        let stored = marks.is_some();
        let marks = marks.unwrap_or_else(|| vec![None; wins.len()]);
        let mut kept: Vec<(Win, Option<(String, String)>)> = Vec::with_capacity(wins.len());
        for ((win, session), mark) in wins.into_iter().zip(sessions).zip(marks) {
            if mark.is_some() {
                self.refuse_locked(win);
            } else {
                kept.push((win, session));
            }
        }
        let wins = kept;
        let looks = self.looks(&wins, made);
        for ((win, session), (look, warnings)) in wins.into_iter().zip(looks) {
            let Win {
                job, creds, user, ..
            } = win;
            if warnings != 0 {
                self.warn(&user, &creds, &look, warnings);
            }
            if let Request::TryLogin(_) = job.op {
                let ticket = self.pick_node(&user);
                let result = if ticket.is_ok() {
                    "ok_trylogin"
                } else {
                    "ok_no_node"
                };
                self.record(LoginRecord {
                    user_id: Some(user.id),
                    result,
                    warnings,
                    ..self.login_record(&creds, &look, made)
                });
                job.answer::<TryLogin>(ticket.map_err(Refusal::new));
                continue;
            }
            let token = match session {
                Some((token, _)) if stored => Ok(token),
                _ => self.mysql_session(&user),
            };
            match token {
                Ok(token) => {
                    if let Request::SignIn(SignIn { link, .. }) = &job.op {
                        if !link.as_str().is_empty() {
                            self.complete_link(link.as_str(), &user);
                        }
                    }
                    self.record(LoginRecord {
                        user_id: Some(user.id),
                        result: "ok",
                        warnings,
                        session: Some(crate::password::token_hash(&token)),
                        ..self.login_record(&creds, &look, made)
                    });
                    job.ok::<SignIn>(&SignedIn {
                        token: Secret(token),
                        profile: profile(&user),
                        warnings,
                    });
                }
                Err(status) => job.refuse(status),
            }
        }
    }

    /// A right password on a locked account.
    fn refuse_locked(&self, win: Win) {
        self.record_attempt(&win.creds, Some(win.user.id), "locked");
        win.job.refuse(Status::AccountLocked);
    }

    /// Reads whether each attempt's address is known to its account, into
    /// its `known`, and returns each one's failures on that pair. Without
    /// an address: not known, 0.
    fn read_known(&mut self, creds: &mut [&mut Creds]) -> Vec<u32> {
        let mut keys = Vec::with_capacity(creds.len() * 2);
        let mut asked = Vec::with_capacity(creds.len());
        for (i, c) in creds.iter_mut().enumerate() {
            match (self.known_key(c), self.fail_keys(c).pair) {
                (Some(known), Some(pair)) => {
                    keys.push(known);
                    keys.push(pair);
                    asked.push(i);
                }
                _ => c.known = Some(false),
            }
        }
        let mut pair_failures = vec![0u32; creds.len()];
        if keys.is_empty() {
            return pair_failures;
        }
        let got: Vec<Option<String>> = self
            .cache
            .run(|conn| redis::cmd("MGET").arg(&keys).query(conn))
            .filter(|got: &Vec<Option<String>>| got.len() == keys.len())
            .unwrap_or_else(|| vec![None; keys.len()]);
        for (j, &i) in asked.iter().enumerate() {
            creds[i].known = Some(got[j * 2].as_deref() == Some("1"));
            pair_failures[i] = count(&got[j * 2 + 1]);
        }
        pair_failures
    }

    /// A refused attempt: already counted against the limits before argon2.
    fn failed(&mut self, job: Job, c: &Creds, user_id: Option<u64>, why: &'static str) {
        self.record_attempt(c, user_id, why);
        job.refuse(Status::BadCredentials);
    }

    fn record_attempt(&self, c: &Creds, user_id: Option<u64>, result: &'static str) {
        let look = Look::at(self.shared.geo.place(&c.ip));
        self.record(LoginRecord {
            user_id,
            result,
            ..self.login_record(c, &look, now_ms())
        });
    }

    /// The record of an attempt at `at_ms`, as far as its credentials and
    /// look say.
    fn login_record(&self, c: &Creds, look: &Look, at_ms: u64) -> LoginRecord {
        LoginRecord {
            user_id: None,
            username: c.username.clone(),
            at_ms,
            ip: c.ip.clone(),
            agent: c.agent.clone(),
            result: "",
            country: look.place.country.clone(),
            city: look.place.city.clone(),
            device: look.device,
            referrer: crate::store::rollup::referrer_origin(&c.referrer),
            warnings: 0,
            session: None,
        }
    }

    /// The least-loaded live massd node and a token for it.
    fn pick_node(&mut self, user: &User) -> Result<NodeTicket, Status> {
        let set = self.cache.key("massd", "nodes");
        let Some(ids) = self
            .cache
            .run(|c| redis::cmd("SMEMBERS").arg(&set).query::<Vec<String>>(c))
        else {
            return Err(Status::Unavailable);
        };
        let keys: Vec<String> = ids
            .iter()
            .map(|id| self.cache.key("massd:node", id))
            .collect();
        let values: Vec<Option<String>> = if keys.is_empty() {
            Vec::new()
        } else {
            match self.cache.run(|c| redis::cmd("MGET").arg(&keys).query(c)) {
                Some(v) => v,
                None => return Err(Status::Unavailable),
            }
        };
        let mut live = Vec::new();
        let mut dead = Vec::new();
        for (id, value) in ids.iter().zip(values) {
            match value.as_deref().and_then(|v| nodes::parse(id, v)) {
                Some(node) => live.push(node),
                None => dead.push(id.clone()),
            }
        }
        if !dead.is_empty() {
            self.cache
                .run(|c| redis::cmd("SREM").arg(&set).arg(&dead).query::<()>(c));
        }
        // A heartbeat outlives a killed node by up to its TTL: hand out
        // only nodes that accept connections now.
        let reachable = &self.shared.reachable;
        let live = live
            .into_iter()
            .filter(|n| reachable.check(&n.host, n.port));
        let Some(node) = nodes::least_loaded(live) else {
            return Err(Status::NoNode);
        };
        let expires = now_ms() / 1000 + self.shared.cfg.massd.token_ttl.as_secs();
        let token = nodes::token(
            &self.shared.keys.massd_token,
            &user.uuid_hex(),
            &node.id,
            expires,
        );
        Ok(NodeTicket {
            host: node.host,
            port: u32::from(node.port),
            token: Secret(token),
            expires,
        })
    }
}
