//! Sign-in and TryLogin, batched. One pipeline reads, for every attempt of
//! the batch, the cached user, its fast verifier and both failure counters;
//! users missing from the cache come from MySQL. An attempt whose password
//! matches its fast verifier finishes at once; the rest go to argon2 and
//! finish in [`Worker::verified`]. Failures count per account and per
//! client address; over the limit the answer is `too_many_attempts` with
//! the time to wait. Every attempt leaves a login record.

use super::sessions::profile_fields;
use super::users::By;
use super::Worker;
use crate::hasher::Task;
use crate::nodes;
use crate::ops::{body, Job, Op, Secret};
use crate::password::{fast_verifier, same};
use crate::records::now_ms;
use crate::store::db::LoginRecord;
use crate::store::User;
use throng_core::proto::Status;

/// The credentials of a SignIn or TryLogin job.
struct Creds {
    username: String,
    password: Secret,
    ip: String,
    agent: String,
}

fn creds(job: &Job) -> Creds {
    match &job.op {
        Op::SignIn {
            username,
            password,
            ip,
            agent,
        } => Creds {
            username: username.clone(),
            password: password.clone(),
            ip: ip.clone(),
            agent: agent.clone(),
        },
        Op::TryLogin { username, password } => Creds {
            username: username.clone(),
            password: password.clone(),
            ip: String::new(),
            agent: String::new(),
        },
        _ => unreachable!("only sign-in jobs reach the sign-in batch"),
    }
}

impl Worker {
    fn fail_keys(&self, c: &Creds) -> (String, String) {
        let ip = if c.ip.is_empty() { "-" } else { &c.ip };
        (
            self.cache.key("fail:a", &c.username.to_ascii_lowercase()),
            self.cache.key("fail:ip", ip),
        )
    }

    pub(super) fn sign_in_batch(&mut self, jobs: Vec<Job>) {
        let all: Vec<Creds> = jobs.iter().map(creds).collect();
        let mut keys = Vec::with_capacity(all.len() * 3);
        for c in &all {
            let (acct, ip) = self.fail_keys(c);
            keys.push(self.cache.key("fv", &c.username.to_ascii_lowercase()));
            keys.push(acct);
            keys.push(ip);
        }
        let got: Option<Vec<Option<String>>> = self.cache.run(|conn| {
            let mut p = redis::pipe();
            for k in &keys {
                p.get(k);
            }
            p.query(conn)
        });
        let got = got.unwrap_or_else(|| vec![None; keys.len()]);
        let by: Vec<By<'_>> = all.iter().map(|c| By::Name(&c.username)).collect();
        let users = self.users(&by);
        let limits = self.shared.cfg.limits.clone();
        for (((job, c), user), row) in jobs
            .into_iter()
            .zip(all.iter())
            .zip(users)
            .zip(got.chunks(3))
        {
            let count = |v: &Option<String>| {
                v.as_deref()
                    .and_then(|s| s.parse::<u32>().ok())
                    .unwrap_or(0)
            };
            if count(&row[1]) >= limits.account_failures || count(&row[2]) >= limits.ip_failures {
                let retry = self.retry_after(c);
                self.record_attempt(c, None, "too_many_attempts");
                job.answer(
                    Status::TooManyAttempts,
                    body(|w| {
                        w.u32(retry);
                    }),
                );
                continue;
            }
            let user = match user {
                Ok(Some(user)) => user,
                Ok(None) => {
                    self.failed(job, c, None, "unknown_user");
                    continue;
                }
                Err(()) => {
                    job.answer(Status::Unavailable, Vec::new());
                    continue;
                }
            };
            let verifiers_on = !self.shared.cfg.argon2.verifier_ttl.is_zero();
            let warm = verifiers_on
                && row[0].as_deref().is_some_and(|v| {
                    same(
                        v,
                        &fast_verifier(
                            &self.shared.secret,
                            user.id,
                            &user.pwhash,
                            c.password.as_str(),
                        ),
                    )
                });
            if warm {
                self.succeeded(job, c, user, false);
                continue;
            }
            let task = Task::Verify {
                job,
                user: Box::new(user),
                password: c.password.clone(),
            };
            if let Err(task) = self.shared.hasher.submit(task) {
                task.into_job().answer(Status::Busy, Vec::new());
            }
        }
    }

    /// argon2 has spoken on a cold attempt.
    pub(super) fn verified(&mut self, job: Job, user: User, ok: bool) {
        match &job.op {
            Op::SignIn { .. } | Op::TryLogin { .. } => {
                let c = creds(&job);
                if ok {
                    self.succeeded(job, &c, user, true);
                } else {
                    self.failed(job, &c, Some(user.id), "bad_password");
                }
            }
            _ => job.answer(Status::Internal, Vec::new()),
        }
    }

    fn succeeded(&mut self, job: Job, c: &Creds, user: User, store_verifier: bool) {
        let (acct, _) = self.fail_keys(c);
        let fv_key = self.cache.key("fv", &c.username.to_ascii_lowercase());
        let fv = fast_verifier(
            &self.shared.secret,
            user.id,
            &user.pwhash,
            c.password.as_str(),
        );
        let fv_ttl = self.shared.cfg.argon2.verifier_ttl.as_secs();
        self.cache.run(|conn| {
            let mut p = redis::pipe();
            p.del(&acct).ignore();
            if store_verifier && fv_ttl > 0 {
                p.set_ex(&fv_key, &fv, fv_ttl).ignore();
            }
            p.query::<()>(conn)
        });
        match job.op {
            Op::TryLogin { .. } => {
                let (status, answer) = self.pick_node(&user);
                self.record_attempt(
                    c,
                    Some(user.id),
                    if status == Status::Ok {
                        "ok_trylogin"
                    } else {
                        "ok_no_node"
                    },
                );
                job.answer(status, answer);
            }
            _ => match self.create_session(&user) {
                Ok(token) => {
                    self.record_attempt(c, Some(user.id), "ok");
                    job.answer(
                        Status::Ok,
                        body(|w| {
                            w.str(&token);
                            profile_fields(w, &user);
                        }),
                    );
                }
                Err(status) => job.answer(status, Vec::new()),
            },
        }
    }

    fn failed(&mut self, job: Job, c: &Creds, user_id: Option<u64>, why: &'static str) {
        let (acct, ip) = self.fail_keys(c);
        let window = self.shared.cfg.limits.window.as_secs().max(1);
        self.cache.run(|conn| {
            let mut p = redis::pipe();
            for k in [&acct, &ip] {
                p.incr(k, 1).ignore();
                p.cmd("EXPIRE").arg(k).arg(window).arg("NX").ignore();
            }
            p.query::<()>(conn)
        });
        self.record_attempt(c, user_id, why);
        job.answer(Status::BadCredentials, Vec::new());
    }

    /// Seconds until the longer of the two failure windows ends.
    fn retry_after(&mut self, c: &Creds) -> u32 {
        let (acct, ip) = self.fail_keys(c);
        let ttls: Option<(i64, i64)> = self
            .cache
            .run(|conn| redis::pipe().ttl(&acct).ttl(&ip).query(conn));
        let window = self.shared.cfg.limits.window.as_secs() as i64;
        let (a, b) = ttls.unwrap_or((window, window));
        a.max(b).clamp(1, window.max(1)) as u32
    }

    fn record_attempt(&self, c: &Creds, user_id: Option<u64>, result: &'static str) {
        self.record(LoginRecord {
            user_id,
            username: c.username.clone(),
            at_ms: now_ms(),
            ip: c.ip.clone(),
            agent: c.agent.clone(),
            result,
        });
    }

    /// The least-loaded live massd node and a token for it.
    fn pick_node(&mut self, user: &User) -> (Status, Vec<u8>) {
        let set = self.cache.key("massd", "nodes");
        let Some(ids) = self
            .cache
            .run(|c| redis::cmd("SMEMBERS").arg(&set).query::<Vec<String>>(c))
        else {
            return (Status::Unavailable, Vec::new());
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
                None => return (Status::Unavailable, Vec::new()),
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
        let Some(node) = nodes::least_loaded(live) else {
            return (Status::NoNode, Vec::new());
        };
        let expires = now_ms() / 1000 + self.shared.cfg.massd.token_ttl.as_secs();
        let token = nodes::token(&self.shared.secret, &user.uuid_hex(), &node.id, expires);
        (
            Status::Ok,
            body(|w| {
                w.str(&node.host)
                    .u32(u32::from(node.port))
                    .str(&token)
                    .u64(expires);
            }),
        )
    }
}
