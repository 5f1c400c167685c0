//! An account's own security page: its recent sign-ins and its open
//! sessions (`security_overview`), and ending one of them (`end_session`).
//! The same history serves the console's view of an account
//! ([`super::admin`]).
//!
//! Open sessions come from the session index (MySQL) and are each checked
//! where the session lives, as a validation would judge it: in Redis (its
//! value, the account's "all ended" mark, its password fingerprint, its
//! absolute lifetime) or in the fallback table. A session's last use is
//! read off its sliding TTL: `now - (ttl - remaining)`.

use super::Worker;
use crate::ops::Job;
use crate::password::token_hash;
use crate::records::now_ms;
use crate::store::history::IndexedSession;
use crate::store::User;
use authd_wire::ops::{EndSession, History, SecurityOverview, SessionRow, SignInRow};
use authd_wire::{Refusal, Request, Status};

/// Sign-ins a history shows; sessions it lists at most.
const SIGN_INS: u32 = 20;
const SESSIONS: u32 = 30;

impl Worker {
    pub(super) fn security(&mut self, job: Job) {
        match job.op.clone() {
            Request::SecurityOverview(SecurityOverview { token }) => {
                let answer = self
                    .session_user(token.as_str())
                    .and_then(|user| self.history(&user, Some(token_hash(token.as_str()))))
                    .map_err(Refusal::new);
                job.answer::<SecurityOverview>(answer)
            }
            Request::EndSession(EndSession { token, session }) => {
                let ended = self
                    .session_user(token.as_str())
                    .map_err(Refusal::new)
                    .and_then(|user| self.end_own_session(&user, session, "ended"));
                job.answer::<EndSession>(ended)
            }
            _ => job.refuse(Status::Internal),
        }
    }

    /// Ends session `id` of the index if it is `user`'s: another account's
    /// session id is `not_found`, exactly as an id that does not exist.
    pub(super) fn end_own_session(
        &mut self,
        user: &User,
        id: u64,
        reason: &'static str,
    ) -> Result<(), Refusal> {
        let row = self
            .shared
            .db
            .indexed_session(id)
            .map_err(|e| Refusal::from(super::store_failed("reading the session index", e)))?;
        match row {
            Some(row) if row.user_id == user.id => {
                self.end_session_by_hash(row.token_hash, true, true, reason)
            }
            _ => Err(Refusal::new(Status::NotFound)),
        }
    }

    /// `user`'s recent sign-ins and open sessions; `current` marks the
    /// session that asked.
    pub(super) fn history(
        &mut self,
        user: &User,
        current: Option<[u8; 32]>,
    ) -> Result<History, Status> {
        let db = &self.shared.db;
        let sign_ins = db
            .recent_sign_ins(user.id, SIGN_INS)
            .map_err(|e| super::store_failed("reading sign-ins", e))?;
        let max_age_ms = self.shared.cfg.sessions.max_age.as_millis() as u64;
        let open = db
            .open_sessions(user.id, now_ms().saturating_sub(max_age_ms), SESSIONS)
            .map_err(|e| super::store_failed("reading the session index", e))?;
        let alive = self.alive(user, &open)?;
        let identities = self
            .shared
            .db
            .identities_of(user.id)
            .map_err(|e| super::store_failed("reading linked identities", e))?;
        Ok(History {
            identities,
            sign_ins: sign_ins
                .into_iter()
                .map(|s| {
                    let (browser, platform) = crate::agent::describe(&s.agent);
                    SignInRow {
                        at_ms: s.at_ms,
                        ip: s.ip,
                        country: s.country,
                        city: s.city,
                        browser,
                        platform,
                        result: s.result,
                        warnings: s.warnings,
                    }
                })
                .collect(),
            sessions: open
                .into_iter()
                .zip(alive)
                .filter_map(|(s, last_seen)| {
                    let last_seen_ms = last_seen?;
                    let (browser, platform) = crate::agent::describe(&s.agent);
                    Some(SessionRow {
                        id: s.id,
                        created_ms: s.created_ms,
                        last_seen_ms,
                        ip: s.ip,
                        country: s.country,
                        city: s.city,
                        browser,
                        platform,
                        current: current == Some(s.token_hash),
                    })
                })
                .collect(),
        })
    }

    /// For each indexed session: when it was last used if it is alive,
    /// `None` if it is over.
    fn alive(&mut self, user: &User, open: &[IndexedSession]) -> Result<Vec<Option<u64>>, Status> {
        if open.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = open
            .iter()
            .map(|s| self.cache.key("s", &hex::encode(s.token_hash)))
            .collect();
        let got: Option<Vec<(Option<String>, i64)>> = self.cache.run(|c| {
            let mut p = redis::pipe();
            for k in &keys {
                p.cmd("GET").arg(k).cmd("PTTL").arg(k);
            }
            p.query(c)
        });
        let Some(got) = got else {
            return Err(Status::Unavailable);
        };
        let ended_at = self
            .sessions_ended(&[user.uuid])
            .and_then(|m| m.first().copied())
            .ok_or(Status::Unavailable)?;
        let missing: Vec<[u8; 32]> = open
            .iter()
            .zip(&got)
            .filter(|(_, (v, _))| v.is_none())
            .map(|(s, _)| s.token_hash)
            .collect();
        let fallback = self
            .shared
            .db
            .live_fallback_sessions(&missing)
            .map_err(|e| super::store_failed("reading fallback sessions", e))?;
        let now = now_ms();
        let ttl_ms = self.shared.cfg.sessions.ttl.as_millis() as u64;
        Ok(open
            .iter()
            .zip(got)
            .map(|(s, (value, pttl))| match value {
                Some(v) => {
                    let (_, made, fingerprint) = self.live_session(&v)?;
                    let current = made > ended_at
                        && crate::password::same(&fingerprint, &user.pw_fingerprint);
                    current.then(|| {
                        let idle = ttl_ms.saturating_sub(u64::try_from(pttl).unwrap_or(0));
                        now.saturating_sub(idle).max(s.created_ms)
                    })
                }
                None if fallback.contains(&s.token_hash) => {
                    Some(s.last_seen_ms.unwrap_or(s.created_ms))
                }
                None => None,
            })
            .collect())
    }
}
