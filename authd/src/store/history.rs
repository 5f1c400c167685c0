//! An account's history in MySQL: its sign-in attempts (`login_records`)
//! and the session index (`session_index`), one row per session a sign-in
//! made. The index is written with the login records, off the request
//! path; the session itself lives in Redis (or the fallback `sessions`
//! table), which alone says whether it is alive. Rows are closed
//! (`ended_at`) when a session is ended on purpose, and by the sweep of
//! the record writer when one is found expired.

use super::db::{Db, LoginRecord};
use mysql::prelude::Queryable;

/// A past sign-in attempt of an account.
#[derive(Debug, Clone)]
pub struct PastSignIn {
    pub at_ms: u64,
    pub ip: String,
    pub country: String,
    pub city: String,
    pub agent: String,
    pub result: String,
    pub warnings: u32,
}

/// A session of the index not known to have ended.
#[derive(Debug, Clone)]
pub struct IndexedSession {
    pub id: u64,
    pub user_id: u64,
    pub user_uuid: [u8; 16],
    pub token_hash: [u8; 32],
    pub created_ms: u64,
    pub last_seen_ms: Option<u64>,
    pub ip: String,
    pub country: String,
    pub city: String,
    pub agent: String,
}

/// Which sessions an ending is about.
#[derive(Debug, Clone, Copy)]
pub enum Ended {
    /// The session of this token hash.
    Token([u8; 32]),
    /// Every session of the account made at or before the time.
    AllOf(u64),
}

const SESSION_COLUMNS: &str = "SELECT s.id, s.user_id, u.uuid, s.token_hash, \
     CAST(UNIX_TIMESTAMP(s.created_at) * 1000 AS UNSIGNED), \
     CAST(UNIX_TIMESTAMP(s.last_seen_at) * 1000 AS UNSIGNED), s.ip, s.country, s.city, s.user_agent \
     FROM session_index s JOIN users u ON u.id = s.user_id";

type SessionTuple = (
    u64,
    u64,
    Vec<u8>,
    Vec<u8>,
    u64,
    Option<u64>,
    String,
    String,
    String,
    String,
);

fn to_session(t: SessionTuple) -> Option<IndexedSession> {
    let (id, user_id, uuid, hash, created_ms, last_seen_ms, ip, country, city, agent) = t;
    Some(IndexedSession {
        id,
        user_id,
        user_uuid: uuid.try_into().ok()?,
        token_hash: hash.try_into().ok()?,
        created_ms,
        last_seen_ms,
        ip,
        country,
        city,
        agent,
    })
}

/// The index rows of a batch's records that made a session (in the record
/// writer's transaction, [`Db::insert_records`]).
pub(super) fn insert_index_rows(
    tx: &mut mysql::Transaction<'_>,
    rows: &[&LoginRecord],
) -> Result<(), mysql::Error> {
    let row = "(?, ?, FROM_UNIXTIME(? / 1000), ?, ?, ?, ?)";
    let sql = format!(
        "INSERT IGNORE INTO session_index (token_hash, user_id, created_at, ip, country, city, user_agent) VALUES {}",
        vec![row; rows.len()].join(", ")
    );
    let mut params: Vec<mysql::Value> = Vec::with_capacity(rows.len() * 7);
    for r in rows {
        params.push(r.session.map(|h| h.to_vec()).into());
        params.push(r.user_id.into());
        params.push(r.at_ms.into());
        params.push(r.ip.as_str().into());
        params.push(r.country.as_str().into());
        params.push(r.city.as_str().into());
        params.push(r.agent.as_str().into());
    }
    tx.exec_drop(sql.as_str(), params)
}

impl Db {
    /// The account's latest sign-in attempts, newest first.
    pub fn recent_sign_ins(
        &self,
        user_id: u64,
        limit: u32,
    ) -> Result<Vec<PastSignIn>, mysql::Error> {
        let rows: Vec<(u64, String, String, String, String, String, u32)> = self.run(true, |c| {
            c.exec(
                "SELECT CAST(UNIX_TIMESTAMP(at) * 1000 AS UNSIGNED), ip, country, city, user_agent, result, warnings \
                 FROM login_records WHERE user_id = ? ORDER BY at DESC LIMIT ?",
                (user_id, limit),
            )
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(at_ms, ip, country, city, agent, result, warnings)| PastSignIn {
                    at_ms,
                    ip,
                    country,
                    city,
                    agent,
                    result,
                    warnings,
                },
            )
            .collect())
    }

    /// The account's sessions made since `since_ms` and not known to have
    /// ended, newest first.
    pub fn open_sessions(
        &self,
        user_id: u64,
        since_ms: u64,
        limit: u32,
    ) -> Result<Vec<IndexedSession>, mysql::Error> {
        let sql = format!(
            "{SESSION_COLUMNS} WHERE s.user_id = ? AND s.created_at > FROM_UNIXTIME(? / 1000) \
             AND s.ended_at IS NULL ORDER BY s.created_at DESC LIMIT ?"
        );
        let rows: Vec<SessionTuple> =
            self.run(true, |c| c.exec(sql.as_str(), (user_id, since_ms, limit)))?;
        Ok(rows.into_iter().filter_map(to_session).collect())
    }

    /// One session of the index by id.
    pub fn indexed_session(&self, id: u64) -> Result<Option<IndexedSession>, mysql::Error> {
        let sql = format!("{SESSION_COLUMNS} WHERE s.id = ?");
        let row: Option<SessionTuple> = self.run(true, |c| c.exec_first(sql.as_str(), (id,)))?;
        Ok(row.and_then(to_session))
    }

    /// Closes the index rows of sessions that were ended (`reason`) at
    /// `at_ms`; returns how long each closed one had lasted, in seconds,
    /// for the analysis. A row already closed is left as it is.
    pub fn end_indexed(
        &self,
        which: Ended,
        user_id: Option<u64>,
        reason: &str,
        at_ms: u64,
    ) -> Result<Vec<u64>, mysql::Error> {
        self.run(false, |c| {
            let mut tx = c.start_transaction(mysql::TxOpts::default())?;
            let open: Vec<(u64, u64)> = match which {
                Ended::Token(hash) => tx.exec(
                    "SELECT id, CAST(UNIX_TIMESTAMP(created_at) * 1000 AS UNSIGNED) FROM session_index \
                     WHERE token_hash = ? AND ended_at IS NULL FOR UPDATE",
                    (hash.to_vec(),),
                )?,
                Ended::AllOf(made_by_ms) => tx.exec(
                    "SELECT id, CAST(UNIX_TIMESTAMP(created_at) * 1000 AS UNSIGNED) FROM session_index \
                     WHERE user_id = ? AND ended_at IS NULL AND created_at <= FROM_UNIXTIME(? / 1000) FOR UPDATE",
                    (user_id.unwrap_or(0), made_by_ms),
                )?,
            };
            let mut lasted = Vec::with_capacity(open.len());
            for (id, created_ms) in open {
                tx.exec_drop(
                    "UPDATE session_index SET ended_at = FROM_UNIXTIME(? / 1000), end_reason = ? \
                     WHERE id = ? AND ended_at IS NULL",
                    (at_ms.max(created_ms), reason, id),
                )?;
                if tx.affected_rows() == 1 {
                    lasted.push(at_ms.saturating_sub(created_ms) / 1000);
                }
            }
            tx.commit()?;
            Ok(lasted)
        })
    }

    /// Open index rows not checked since `checked_before_ms`, the least
    /// recently checked first: what the sweep looks at next.
    pub fn sessions_to_check(
        &self,
        checked_before_ms: u64,
        limit: u32,
    ) -> Result<Vec<IndexedSession>, mysql::Error> {
        let sql = format!(
            "{SESSION_COLUMNS} WHERE s.ended_at IS NULL AND \
             (s.checked_at IS NULL OR s.checked_at < FROM_UNIXTIME(? / 1000)) ORDER BY s.checked_at LIMIT ?"
        );
        let rows: Vec<SessionTuple> =
            self.run(true, |c| c.exec(sql.as_str(), (checked_before_ms, limit)))?;
        Ok(rows.into_iter().filter_map(to_session).collect())
    }

    /// What the sweep saw: sessions alive (with when they were last used)
    /// and sessions found expired (closed at their estimated end). Returns
    /// (end, length in seconds) of each row it closed.
    pub fn sweep_seen(
        &self,
        alive: &[(u64, u64)],
        expired: &[(u64, u64, u64)],
        now_ms: u64,
    ) -> Result<Vec<(u64, u64)>, mysql::Error> {
        self.run(false, |c| {
            let mut tx = c.start_transaction(mysql::TxOpts::default())?;
            for (id, last_seen_ms) in alive {
                tx.exec_drop(
                    "UPDATE session_index SET last_seen_at = FROM_UNIXTIME(? / 1000), \
                     checked_at = FROM_UNIXTIME(? / 1000) WHERE id = ?",
                    (last_seen_ms, now_ms, id),
                )?;
            }
            let mut lasted = Vec::with_capacity(expired.len());
            for (id, created_ms, ended_ms) in expired {
                tx.exec_drop(
                    "UPDATE session_index SET ended_at = FROM_UNIXTIME(? / 1000), end_reason = 'expired', \
                     checked_at = FROM_UNIXTIME(? / 1000) WHERE id = ? AND ended_at IS NULL",
                    (ended_ms, now_ms, id),
                )?;
                if tx.affected_rows() == 1 {
                    lasted.push((*ended_ms, ended_ms.saturating_sub(*created_ms) / 1000));
                }
            }
            tx.commit()?;
            Ok(lasted)
        })
    }

    /// Which of these token hashes have a live fallback session in MySQL.
    pub fn live_fallback_sessions(
        &self,
        hashes: &[[u8; 32]],
    ) -> Result<Vec<[u8; 32]>, mysql::Error> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT token_hash FROM sessions WHERE expires_at > NOW(3) AND token_hash IN ({})",
            vec!["?"; hashes.len()].join(", ")
        );
        let params: Vec<mysql::Value> = hashes.iter().map(|h| h.to_vec().into()).collect();
        let rows: Vec<Vec<u8>> = self.run(true, |c| c.exec(sql.as_str(), params.clone()))?;
        Ok(rows.into_iter().filter_map(|h| h.try_into().ok()).collect())
    }
}
