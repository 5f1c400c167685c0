//! MySQL/MariaDB access: prepared statements only, through a `mysql::Pool`
//! shared by the workers. Users and profiles, fallback sessions and the
//! batched login records.

use super::replicas::{node_unusable, Replicas};
use super::User;
use mysql::prelude::Queryable;
use mysql::TxOpts;
use std::sync::Arc;
use std::time::Duration;

/// Why a write did not happen, when it is the caller's business.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the username is taken")]
    Taken,
    #[error("the e-mail is taken")]
    EmailTaken,
    #[error("mysql: {0}")]
    Mysql(#[from] mysql::Error),
}

/// A user with its profile, whether it is locked, and the permissions its
/// roles give (one correlated subquery: loaded only on a cache miss).
const USER_COLUMNS: &str =
    "SELECT u.id, u.uuid, u.username, u.email, u.pwhash, p.nickname, p.avatar, \
     u.locked_at IS NOT NULL, \
     (SELECT GROUP_CONCAT(DISTINCT rp.permission) FROM user_roles ur \
      JOIN role_permissions rp ON rp.role = ur.role WHERE ur.user_id = u.id) \
     FROM users u JOIN profiles p ON p.user_id = u.id";

type UserRow = (
    u64,
    Vec<u8>,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    bool,
    Option<String>,
);

fn to_user(row: UserRow) -> Option<User> {
    let (id, uuid, username, email, pwhash, nickname, avatar, locked, permissions) = row;
    Some(User {
        id,
        uuid: uuid.try_into().ok()?,
        username,
        has_email: email.is_some(),
        email,
        pw_fingerprint: super::user::fingerprint(&pwhash),
        pwhash: Some(pwhash),
        nickname,
        avatar,
        locked,
        permissions: authd_wire::ops::Permission::bits_of(
            permissions.as_deref().unwrap_or("").split(','),
        ),
    })
}

/// A login attempt, as written to `login_records`, with what the sign-in
/// learnt about it and, for one that made a session, the session's token
/// hash for the session index.
#[derive(Debug, Clone, Default)]
pub struct LoginRecord {
    pub user_id: Option<u64>,
    pub username: String,
    pub at_ms: u64,
    pub ip: String,
    pub agent: String,
    pub result: &'static str,
    /// ISO country code and city of `ip`, empty when unknown.
    pub country: String,
    pub city: String,
    /// A hash of the browser's device id (never the id itself).
    pub device: Option<[u8; 16]>,
    /// The origin of the page that sent the visitor to the sign-in form.
    pub referrer: String,
    /// `authd_wire::ops::warnings` bits.
    pub warnings: u32,
    /// The SHA-256 of the token of the session it made.
    pub session: Option<[u8; 32]>,
}

/// The database: its nodes ([`Replicas`]) and the statements authd runs.
#[derive(Clone)]
pub struct Db {
    replicas: Arc<Replicas>,
}

impl Db {
    /// `url`: one `mysql://` URL, or a Galera cluster's nodes' URLs
    /// separated by commas, in the order authd prefers them.
    pub fn connect(url: &str, min: usize, max: usize) -> Result<Db, mysql::Error> {
        Ok(Db {
            replicas: Arc::new(Replicas::new(url, min, max)?),
        })
    }

    /// Runs `f` on a connection as [`Db::with`] does, for the statements
    /// of the other store modules (`history`, `admin`, `insight`).
    pub(super) fn run<T>(
        &self,
        again: bool,
        f: impl FnMut(&mut mysql::PooledConn) -> Result<T, mysql::Error>,
    ) -> Result<T, mysql::Error> {
        self.with(again, f)
    }

    /// A connection for work of the caller's own (migrations, the seeder).
    pub fn conn(&self) -> Result<mysql::PooledConn, mysql::Error> {
        self.replicas.conn().map(|(_, c)| c)
    }

    /// Runs `f` on a connection. An error that says the node is unusable
    /// moves later calls to the next node; a read (`again`) is then tried
    /// once more there, since running it twice changes nothing. A
    /// transaction the server rolled back whole (1213: a deadlock, or on
    /// Galera a certification conflict or one aborted by a membership
    /// change) is run again, write or not: nothing of it was applied.
    fn with<T>(
        &self,
        again: bool,
        mut f: impl FnMut(&mut mysql::PooledConn) -> Result<T, mysql::Error>,
    ) -> Result<T, mysql::Error> {
        let (idx, mut conn) = self.replicas.conn()?;
        let mut result = f(&mut conn);
        for pause_ms in ROLLED_BACK_PAUSES_MS {
            match &result {
                Err(e) if rolled_back(e) => {
                    std::thread::sleep(Duration::from_millis(pause_ms));
                    result = f(&mut conn);
                }
                _ => break,
            }
        }
        match result {
            Err(e) if node_unusable(&e) => {
                drop(conn);
                self.replicas.failed(idx, &e);
                if again && self.replicas.count() > 1 {
                    let (_, mut conn) = self.replicas.conn()?;
                    return f(&mut conn);
                }
                Err(e)
            }
            other => other,
        }
    }

    pub fn migrate(&self) -> Result<Vec<String>, mysql::Error> {
        super::migrate::migrate(&mut self.conn()?)
    }

    fn user_where(&self, clause: &str, param: mysql::Value) -> Result<Option<User>, mysql::Error> {
        let sql = format!("{USER_COLUMNS} WHERE {clause}");
        let row: Option<UserRow> =
            self.with(true, |c| c.exec_first(sql.as_str(), (param.clone(),)))?;
        Ok(row.and_then(to_user))
    }

    pub fn user_by_name(&self, username: &str) -> Result<Option<User>, mysql::Error> {
        self.user_where("u.username = ?", username.into())
    }

    pub fn user_by_uuid(&self, uuid: &[u8; 16]) -> Result<Option<User>, mysql::Error> {
        self.user_where("u.uuid = ?", uuid.to_vec().into())
    }

    pub fn user_by_id(&self, id: u64) -> Result<Option<User>, mysql::Error> {
        self.user_where("u.id = ?", id.into())
    }

    pub fn user_by_email(&self, email: &str) -> Result<Option<User>, mysql::Error> {
        self.user_where("u.email = ?", email.into())
    }

    /// Creates the user and its profile in one transaction.
    pub fn create_user(
        &self,
        uuid: &[u8; 16],
        username: &str,
        email: Option<&str>,
        pwhash: &str,
        nickname: &str,
    ) -> Result<u64, DbError> {
        // Not tried again elsewhere: a commit whose answer was lost may
        // have happened, and a second try would say the name is taken.
        self.with(false, |conn| {
            let mut tx = conn.start_transaction(TxOpts::default())?;
            tx.exec_drop(
                "INSERT INTO users (uuid, username, email, pwhash) VALUES (?, ?, ?, ?)",
                (uuid.to_vec(), username, email, pwhash),
            )?;
            let id = tx
                .last_insert_id()
                .ok_or_else(|| mysql::Error::IoError(std::io::Error::other("no insert id")))?;
            tx.exec_drop(
                "INSERT INTO profiles (user_id, nickname) VALUES (?, ?)",
                (id, nickname),
            )?;
            tx.commit()?;
            Ok(id)
        })
        .map_err(duplicate)
    }

    // Setting a value twice leaves it set: tried again on another node.
    pub fn set_nickname(&self, id: u64, nickname: &str) -> Result<(), mysql::Error> {
        self.with(true, |c| {
            c.exec_drop(
                "UPDATE profiles SET nickname = ? WHERE user_id = ?",
                (nickname, id),
            )
        })
    }

    pub fn set_avatar(&self, id: u64, photo: &str) -> Result<(), mysql::Error> {
        self.with(true, |c| {
            c.exec_drop(
                "UPDATE profiles SET avatar = ? WHERE user_id = ?",
                (photo, id),
            )
        })
    }

    pub fn set_password(&self, id: u64, pwhash: &str) -> Result<(), mysql::Error> {
        self.with(true, |c| {
            c.exec_drop("UPDATE users SET pwhash = ? WHERE id = ?", (pwhash, id))
        })
    }

    /// A fallback session (made while Redis was down).
    pub fn insert_session(
        &self,
        token_hash: &[u8; 32],
        user_id: u64,
        pw_fingerprint: &str,
        ttl: Duration,
    ) -> Result<(), mysql::Error> {
        self.with(false, |c| {
            c.exec_drop(
                "INSERT INTO sessions (token_hash, user_id, pw_fingerprint, expires_at) \
                 VALUES (?, ?, ?, NOW(3) + INTERVAL ? SECOND)",
                (token_hash.to_vec(), user_id, pw_fingerprint, ttl.as_secs()),
            )
        })
    }

    /// The user of a live fallback session (within its idle and its
    /// absolute lifetime) and the password fingerprint it was made with,
    /// sliding its expiry.
    pub fn touch_session(
        &self,
        token_hash: &[u8; 32],
        ttl: Duration,
        max_age: Duration,
    ) -> Result<Option<(u64, String)>, mysql::Error> {
        // A read and a slide of the expiry: both fine to do twice.
        self.with(true, |conn| {
            let id: Option<(u64, String)> = conn.exec_first(
                "SELECT user_id, pw_fingerprint FROM sessions WHERE token_hash = ? \
                 AND expires_at > NOW(3) AND created_at > NOW(3) - INTERVAL ? SECOND",
                (token_hash.to_vec(), max_age.as_secs()),
            )?;
            if id.is_some() {
                conn.exec_drop(
                    "UPDATE sessions SET expires_at = NOW(3) + INTERVAL ? SECOND WHERE token_hash = ?",
                    (ttl.as_secs(), token_hash.to_vec()),
                )?;
            }
            Ok(id)
        })
    }

    /// Ends every fallback session of a user.
    pub fn delete_user_sessions(&self, user_id: u64) -> Result<(), mysql::Error> {
        self.with(true, |c| {
            c.exec_drop("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        })
    }

    pub fn delete_session(&self, token_hash: &[u8; 32]) -> Result<(), mysql::Error> {
        self.with(true, |c| {
            c.exec_drop(
                "DELETE FROM sessions WHERE token_hash = ?",
                (token_hash.to_vec(),),
            )
        })
    }

    /// Writes a batch of login records in one transaction: the records,
    /// the session index rows of those that made a session, and the
    /// analysis rollups of them all ([`super::rollup`]). Multi-row
    /// statements of 1,000, 100, 10 or 1 rows: a handful of statement
    /// texts, so the prepared-statement cache holds them all, and one
    /// commit per batch (on Galera one write set to certify and replicate).
    pub fn insert_records(
        &self,
        records: &[LoginRecord],
        rollup: &super::rollup::Rollup,
    ) -> Result<(), mysql::Error> {
        let sessions: Vec<&LoginRecord> = records.iter().filter(|r| r.session.is_some()).collect();
        // Not again: a batch whose commit answer was lost may be in.
        self.with(false, |c| {
            let mut tx = c.start_transaction(TxOpts::default())?;
            in_chunks(records, |rows| insert_record_rows(&mut tx, rows))?;
            in_chunks(&sessions, |rows| {
                super::history::insert_index_rows(&mut tx, rows)
            })?;
            rollup.write(&mut tx)?;
            tx.commit()
        })
    }
}

/// Runs `write` over `items` in chunks of 1,000, 100, 10 or 1: the few
/// multi-row statement texts the prepared-statement cache keeps.
pub(super) fn in_chunks<T>(
    items: &[T],
    mut write: impl FnMut(&[T]) -> Result<(), mysql::Error>,
) -> Result<(), mysql::Error> {
    let mut rest = items;
    while !rest.is_empty() {
        let n = [1000, 100, 10, 1]
            .into_iter()
            .find(|n| *n <= rest.len())
            .unwrap_or(1);
        write(&rest[..n])?;
        rest = &rest[n..];
    }
    Ok(())
}

fn insert_record_rows(
    tx: &mut mysql::Transaction<'_>,
    records: &[LoginRecord],
) -> Result<(), mysql::Error> {
    let row = "(?, ?, FROM_UNIXTIME(? / 1000), ?, ?, ?, ?, ?, ?, ?, ?)";
    let sql = format!(
        "INSERT INTO login_records (user_id, username, at, ip, user_agent, result, \
         country, city, device, referrer, warnings) VALUES {}",
        vec![row; records.len()].join(", ")
    );
    let mut params: Vec<mysql::Value> = Vec::with_capacity(records.len() * 11);
    for r in records {
        params.push(r.user_id.into());
        params.push(r.username.as_str().into());
        params.push(r.at_ms.into());
        params.push(r.ip.as_str().into());
        params.push(r.agent.as_str().into());
        params.push(r.result.into());
        params.push(r.country.as_str().into());
        params.push(r.city.as_str().into());
        params.push(r.device.map(|d| d.to_vec()).into());
        params.push(r.referrer.as_str().into());
        params.push(r.warnings.into());
    }
    tx.exec_drop(sql.as_str(), params)
}

/// Pauses before each new try of a rolled-back transaction: three more
/// tries within ~0.2 s, the time a Galera membership change takes here.
const ROLLED_BACK_PAUSES_MS: [u64; 3] = [5, 40, 150];

/// The server rolled the whole transaction back (ER_LOCK_DEADLOCK).
fn rolled_back(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if m.code == 1213)
}

/// Maps a duplicate-key error to which key it was.
fn duplicate(e: mysql::Error) -> DbError {
    if let mysql::Error::MySqlError(inner) = &e {
        if inner.code == 1062 {
            if inner.message.contains("users_email") {
                return DbError::EmailTaken;
            }
            return DbError::Taken;
        }
    }
    DbError::Mysql(e)
}
