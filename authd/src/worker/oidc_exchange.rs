//! Code exchanges, a batch at a time ([`super::oidc_batch`]): one
//! pipeline takes every code, one `MGET` reads every user, one INSERT
//! stores every grant (its first refresh token is derived from it, not
//! stored: [`crate::oidc::first_refresh`]), one pipeline asks
//! whether the sessions that authorized the codes still live, one pipeline
//! stores every access token.
//!
//! A code stands for the session that authorized it, so it is worth
//! nothing once that session has ended (log-out, "sign out everywhere", a
//! reset, a lock): otherwise a code taken a moment before a reset would
//! still buy its taker tokens. The session is asked *after* its grant is
//! stored: a session ending meanwhile either is seen here (and the grant
//! ended here), or ends after the grant exists and so ends it itself
//! ([`super::oidc`]'s `session_grants_end`, `user_grants_end`).
//!
//! A code presented twice ends the grant it made (RFC 6749 4.1.2), also
//! when the two presentations race: one script takes the code and
//! records, in the same step, the id of the grant its exchange will make
//! ([`TAKE_CODE`]), so a second presentation always finds that record. It
//! marks the grant ended in Redis even before the grant is stored, and
//! the first exchange, which reads that mark after storing its access
//! token ([`Worker::issue_all`]), hands out nothing and ends the grant.

use super::oidc::{refuse, REFRESH_PREFIX, USED_CODE_TTL_S};
use super::users::By;
use super::Worker;
use crate::oidc::grants::CodeGrant;
use crate::oidc::{grant_id, pkce, Provider};
use crate::ops::Job;
use crate::store::oidc::{Client, Grant, GrantsOf};
use crate::store::User;
use authd_wire::ops::OidcToken;
use authd_wire::{Refusal, Request, Status};
use std::sync::Arc;

/// An exchange with its user, its grant (stored) and refresh token.
type Made = (Exchange, User, Grant, String);

/// A code exchange, and what it found.
struct Exchange {
    job: Job,
    client: Client,
    code: String,
    /// The id of the grant this exchange makes, drawn before the code is
    /// taken (the code's used record names it).
    grant_id: u64,
    grant: Option<CodeGrant>,
}

/// Takes a code (`KEYS[1]`) and, if it was there, records in the same
/// step that it was used, by the grant `ARGV[1]`, for `ARGV[2]` seconds
/// (`KEYS[2]`); if it was not, returns that record. One script, so no
/// other presentation of the code falls between the taking and the
/// record. Answers `{code, ''}` or `{'', record or ''}`: empty strings,
/// not Lua's `false`, which RESP3 would answer as a boolean.
const TAKE_CODE: &str = "local code = redis.call('GETDEL', KEYS[1]) \
if code then redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2]) return {code, ''} end \
return {'', redis.call('GET', KEYS[2]) or ''}";

/// A used record that names no grant: its exchange stored none.
const NO_GRANT: u64 = 0;

impl Worker {
    /// Code exchanges: one pipeline takes every code, one `MGET` reads
    /// every user, one INSERT stores every grant, one pipeline stores
    /// every access token.
    pub(super) fn exchange_batch(&mut self, provider: &Arc<Provider>, jobs: Vec<Job>) {
        let mut exchanges = Vec::with_capacity(jobs.len());
        for job in jobs {
            let Request::OidcToken(op) = job.op.clone() else {
                job.refuse(Status::Internal);
                continue;
            };
            match self.authenticated_client(provider, &op.client_id, op.client_secret.as_str()) {
                Ok(_) if op.code.as_str().is_empty() => {
                    job.refuse(refuse(Status::InvalidRequest, "code is missing"))
                }
                Ok(client) => match grant_id::next() {
                    Ok(grant_id) => exchanges.push(Exchange {
                        job,
                        client,
                        code: op.code.as_str().to_owned(),
                        grant_id,
                        grant: None,
                    }),
                    Err(_) => job.refuse(Status::Internal),
                },
                Err(refusal) => job.refuse(refusal),
            }
        }
        if exchanges.is_empty() {
            return;
        }
        let keys: Vec<(String, String, u64)> = exchanges
            .iter()
            .map(|e| {
                let used = self.used_code_key(&e.code);
                (self.code_key(&e.code), used, e.grant_id)
            })
            .collect();
        let taken: Option<Vec<(String, String)>> = self.cache.run(|c| {
            let mut p = redis::pipe();
            for (key, used, grant_id) in &keys {
                p.cmd("EVAL")
                    .arg(TAKE_CODE)
                    .arg(2)
                    .arg(key)
                    .arg(used)
                    .arg(*grant_id)
                    .arg(USED_CODE_TTL_S);
            }
            p.query(c)
        });
        let Some(taken) = taken.filter(|t| t.len() == exchanges.len()) else {
            for e in exchanges {
                e.job.refuse(Status::Unavailable);
            }
            return;
        };
        let mut live = Vec::with_capacity(exchanges.len());
        for (mut e, (value, used)) in exchanges.into_iter().zip(taken) {
            let value = Some(value).filter(|v| !v.is_empty());
            let used = used.parse::<u64>().ok();
            match self.check_exchanged_code(&mut e, value, used) {
                Ok(()) => live.push(e),
                Err(refusal) => e.job.refuse(refusal),
            }
        }
        if live.is_empty() {
            return;
        }
        let uuids: Vec<[u8; 16]> = live
            .iter()
            .map(|e| {
                let mut uuid = [0u8; 16];
                let hex_uuid = e.grant.as_ref().map_or("", |g| g.uuid.as_str());
                let _ = hex::decode_to_slice(hex_uuid, &mut uuid);
                uuid
            })
            .collect();
        let by: Vec<By<'_>> = uuids.iter().map(By::Uuid).collect();
        let users = self.users(&by);
        let mut ready = Vec::with_capacity(live.len());
        for (e, user) in live.into_iter().zip(users) {
            match user {
                // A new password since the code was made ends the
                // session that made it.
                Ok(Some(user))
                    if e.grant
                        .as_ref()
                        .is_some_and(|g| g.pw_fingerprint != user.pw_fingerprint) =>
                {
                    e.job.refuse(session_ended())
                }
                Ok(Some(user)) if !user.locked => ready.push((e, user)),
                Ok(_) => e
                    .job
                    .refuse(refuse(Status::InvalidGrant, "the account cannot sign in")),
                Err(()) => e.job.refuse(Status::Unavailable),
            }
        }
        if ready.is_empty() {
            return;
        }
        // Grant ids were drawn before the codes were taken (not
        // AUTO_INCREMENT), so one multi-row INSERT makes them all.
        let mut made = Vec::with_capacity(ready.len());
        for (e, user) in ready {
            let code = e.grant.as_ref().expect("checked");
            let grant = Grant {
                id: e.grant_id,
                user_id: code.user_id,
                client_id: e.client.client_id.clone(),
                scope: code.scope.clone(),
                sid: code.sid.clone(),
                auth_time: code.auth_time,
                revoked: false,
            };
            let refresh = format!("{REFRESH_PREFIX}{}", provider.first_refresh_token(&grant));
            made.push((e, user, grant, refresh));
        }
        if let Err(status) = self.store_grants(&made) {
            for (e, ..) in made {
                e.job.refuse(status);
            }
            return;
        }
        let made = self.drop_ended_sessions(made);
        if made.is_empty() {
            return;
        }
        let issued: Vec<_> = made
            .into_iter()
            .map(|(e, user, grant, refresh)| {
                let code = e.grant.expect("checked");
                let nonce = Some(code.nonce).filter(|n| !n.is_empty());
                (e.job, e.client, user, grant, code.scope, nonce, refresh)
            })
            .collect();
        self.issue_all(provider, issued);
    }

    /// Stores every grant (their first refresh tokens are derived from
    /// them, not stored). If that fails, the codes' used records are
    /// pointed at no grant: a failed insert may have been a clash with
    /// another process's grant id ([`grant_id`]), and presenting the code
    /// again must never end that grant. The batch is refused, not tried
    /// again with other ids (a replay meanwhile would have read the first
    /// ones).
    fn store_grants(&mut self, made: &[Made]) -> Result<(), Status> {
        let grants: Vec<&Grant> = made.iter().map(|(_, _, g, _)| g).collect();
        let Err(e) = self.shared.db.create_grants(&grants) else {
            return Ok(());
        };
        let records: Vec<String> = made
            .iter()
            .map(|(e, ..)| self.used_code_key(&e.code))
            .collect();
        let pointed = self.cache.run(|c| {
            let mut p = redis::pipe();
            for key in &records {
                p.cmd("SET")
                    .arg(key)
                    .arg(NO_GRANT)
                    .arg("XX")
                    .arg("KEEPTTL")
                    .ignore();
            }
            p.query::<()>(c)
        });
        if pointed.is_none() {
            log::error!("the used records of a refused batch could not be cleared");
        }
        Err(super::store_failed("storing grants", e))
    }

    /// Keeps the exchanges whose authorizing session still lives; the
    /// others are refused and their grants (stored already) ended. Redis
    /// sessions: one pipeline asks, for each, whether its key exists and
    /// for its account's `sv:` and `lock:` marks ([`super::revoke`]);
    /// fallback sessions are looked up in MySQL.
    fn drop_ended_sessions(&mut self, made: Vec<Made>) -> Vec<Made> {
        let in_redis: Vec<(String, String, String)> = made
            .iter()
            .filter_map(|(e, user, ..)| {
                let code = e.grant.as_ref()?;
                code.session_in_redis.then(|| {
                    (
                        self.cache.key("s", &code.session),
                        self.mark_key(&user.uuid),
                        self.cache.lock_key(&user.uuid),
                    )
                })
            })
            .collect();
        let answers: Option<Vec<(bool, Option<u64>, bool)>> = if in_redis.is_empty() {
            Some(Vec::new())
        } else {
            self.cache.run(|c| {
                let mut p = redis::pipe();
                for (session, mark, lock) in &in_redis {
                    p.cmd("EXISTS").arg(session);
                    p.cmd("GET").arg(mark);
                    p.cmd("EXISTS").arg(lock);
                }
                let flat: Vec<redis::Value> = p.query(c)?;
                Ok(flat
                    .chunks(3)
                    .map(|three| {
                        let exists: bool =
                            redis::from_redis_value(three[0].clone()).unwrap_or(false);
                        let mark: Option<u64> =
                            redis::from_redis_value(three[1].clone()).ok().flatten();
                        let locked: bool =
                            redis::from_redis_value(three[2].clone()).unwrap_or(true);
                        (exists, mark, locked)
                    })
                    .collect())
            })
        };
        let mut answers = answers
            .filter(|a| a.len() == in_redis.len())
            .map(Vec::into_iter);
        let mut kept = Vec::with_capacity(made.len());
        let mut ended = Vec::new();
        for entry in made {
            let Some(code) = entry.0.grant.as_ref() else {
                ended.push((entry, Status::Internal));
                continue;
            };
            let live = if code.session_in_redis {
                match answers.as_mut().and_then(Iterator::next) {
                    Some((exists, mark, locked)) => {
                        Ok(exists && !locked && mark.is_none_or(|at| code.session_made > at))
                    }
                    None => Err(Status::Unavailable),
                }
            } else {
                self.fallback_session_lives(code, entry.1.id)
            };
            match live {
                Ok(true) => kept.push(entry),
                Ok(false) => ended.push((entry, Status::InvalidGrant)),
                Err(status) => ended.push((entry, status)),
            }
        }
        for ((e, _, grant, _), status) in ended {
            // The grant is stored: it ends, or its refresh token would
            // outlive the refusal.
            if let Err(refusal) = self.end_grants(GrantsOf::Id(grant.id), false) {
                log::error!("ending the grant of a refused code: {:?}", refusal.status);
            }
            match status {
                Status::InvalidGrant => e.job.refuse(session_ended()),
                other => e.job.refuse(other),
            }
        }
        kept
    }

    /// Whether the MySQL fallback session of a code still lives (and is
    /// its user's).
    fn fallback_session_lives(&mut self, code: &CodeGrant, user_id: u64) -> Result<bool, Status> {
        let mut hash = [0u8; 32];
        if hex::decode_to_slice(&code.session, &mut hash).is_err() {
            return Ok(false);
        }
        let cfg = &self.shared.cfg.sessions;
        match self.shared.db.touch_session(&hash, cfg.ttl, cfg.max_age) {
            Ok(found) => Ok(found.is_some_and(|(id, _)| id == user_id)),
            Err(e) => Err(super::store_failed("reading a fallback session", e)),
        }
    }

    /// The code `value` taken for `e` (and whether it was used before),
    /// checked against the exchange: client, redirect URI, PKCE. A code
    /// used before ends the grant it made.
    fn check_exchanged_code(
        &mut self,
        e: &mut Exchange,
        value: Option<String>,
        used: Option<u64>,
    ) -> Result<(), Refusal> {
        let Some(value) = value else {
            if let Some(grant_id) = used {
                log::warn!(
                    "a code of client {} was presented again: its grant ends",
                    e.client.client_id
                );
                // The grant may not be stored yet (its exchange is still
                // running): `end_grants` marks it all the same.
                if grant_id != NO_GRANT {
                    self.end_grants(GrantsOf::Id(grant_id), false)?;
                }
                return Err(refuse(Status::InvalidGrant, "the code was used already"));
            }
            return Err(refuse(
                Status::InvalidGrant,
                "the code is unknown or expired",
            ));
        };
        let grant: CodeGrant =
            serde_json::from_str(&value).map_err(|_| Refusal::new(Status::Internal))?;
        let Request::OidcToken(op) = &e.job.op else {
            return Err(Refusal::new(Status::Internal));
        };
        check_exchange(&grant, &e.client, op)?;
        e.grant = Some(grant);
        Ok(())
    }
}

/// The refusal of a code whose session has ended.
fn session_ended() -> Refusal {
    refuse(
        Status::InvalidGrant,
        "the session that authorized the code has ended",
    )
}

/// What a code exchange must match of the authorization request.
fn check_exchange(grant: &CodeGrant, client: &Client, op: &OidcToken) -> Result<(), Refusal> {
    if grant.client_id != client.client_id {
        return Err(refuse(
            Status::InvalidGrant,
            "the code was issued to another client",
        ));
    }
    if grant.redirect_uri != op.redirect_uri {
        return Err(refuse(
            Status::InvalidGrant,
            "redirect_uri is not the authorization request's",
        ));
    }
    let verifier = op.code_verifier.as_str();
    match (grant.challenge.is_empty(), verifier.is_empty()) {
        (true, true) => Ok(()),
        // A verifier for a request that sent no challenge is a downgrade
        // attempt.
        (true, false) => Err(refuse(
            Status::InvalidGrant,
            "code_verifier given, but the authorization request had no code_challenge",
        )),
        (false, _) if !pkce::verifies(verifier, &grant.challenge) => Err(refuse(
            Status::InvalidGrant,
            "code_verifier does not match the code_challenge",
        )),
        (false, _) => Ok(()),
    }
}
