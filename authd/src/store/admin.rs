//! What the console and `authd admin` read and change in MySQL: roles and
//! the permissions they hold, who has which role, locked accounts, account
//! search, and the append-only audit log. Every change an operator makes
//! is written with its audit entry in one transaction: no change without
//! its entry, no entry without its change.

use super::db::Db;
use mysql::prelude::Queryable;

/// An account as the console lists it.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: u64,
    pub uuid: [u8; 16],
    pub username: String,
    pub nickname: String,
    pub email: Option<String>,
    pub created_ms: u64,
    pub locked: bool,
}

/// A role with its permissions.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
}

/// One line of the audit log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: u64,
    pub at_ms: u64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
}

/// Who did something, for the audit log.
#[derive(Debug, Clone)]
pub struct Who<'a> {
    /// `None` for the `authd admin` command (the operator at the host).
    pub id: Option<u64>,
    pub name: &'a str,
    pub ip: &'a str,
}

/// What an operator did to whom.
#[derive(Debug, Clone)]
pub struct Action<'a> {
    pub action: &'a str,
    pub target_id: Option<u64>,
    pub target: &'a str,
    pub detail: &'a str,
}

const ACCOUNT_COLUMNS: &str = "SELECT u.id, u.uuid, u.username, p.nickname, u.email, \
     CAST(UNIX_TIMESTAMP(u.created_at) * 1000 AS UNSIGNED), u.locked_at IS NOT NULL \
     FROM users u JOIN profiles p ON p.user_id = u.id";

type AccountTuple = (u64, Vec<u8>, String, String, Option<String>, u64, bool);

fn to_account(t: AccountTuple) -> Option<AccountRow> {
    let (id, uuid, username, nickname, email, created_ms, locked) = t;
    Some(AccountRow {
        id,
        uuid: uuid.try_into().ok()?,
        username,
        nickname,
        email,
        created_ms,
        locked,
    })
}

fn audit(
    tx: &mut mysql::Transaction<'_>,
    who: &Who<'_>,
    what: &Action<'_>,
) -> Result<(), mysql::Error> {
    tx.exec_drop(
        "INSERT INTO audit_log (actor_id, actor, action, target_id, target, detail, ip) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            who.id,
            who.name,
            what.action,
            what.target_id,
            what.target,
            crate::validate::clip(what.detail, 255),
            who.ip,
        ),
    )
}

impl Db {
    /// The permissions `user_id` holds through its roles, from MySQL (the
    /// check of every privileged operation).
    pub fn permissions_of(&self, user_id: u64) -> Result<Vec<String>, mysql::Error> {
        self.run(true, |c| {
            c.exec(
                "SELECT DISTINCT rp.permission FROM user_roles ur \
                 JOIN role_permissions rp ON rp.role = ur.role WHERE ur.user_id = ? ORDER BY 1",
                (user_id,),
            )
        })
    }

    pub fn roles_of(&self, user_id: u64) -> Result<Vec<String>, mysql::Error> {
        self.run(true, |c| {
            c.exec(
                "SELECT role FROM user_roles WHERE user_id = ? ORDER BY role",
                (user_id,),
            )
        })
    }

    /// Every role with its permissions.
    pub fn roles(&self) -> Result<Vec<Role>, mysql::Error> {
        let rows: Vec<(String, String, bool, Option<String>)> = self.run(true, |c| {
            c.query(
                "SELECT r.name, r.description, r.builtin, GROUP_CONCAT(rp.permission ORDER BY rp.permission) \
                 FROM roles r LEFT JOIN role_permissions rp ON rp.role = r.name \
                 GROUP BY r.name, r.description, r.builtin ORDER BY r.builtin DESC, r.name",
            )
        })?;
        Ok(rows
            .into_iter()
            .map(|(name, description, builtin, perms)| Role {
                name,
                description,
                builtin,
                permissions: perms
                    .unwrap_or_default()
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
            .collect())
    }

    /// Defines a role (or replaces a non-built-in one's permissions).
    pub fn define_role(
        &self,
        who: &Who<'_>,
        name: &str,
        description: &str,
        permissions: &[&str],
    ) -> Result<(), mysql::Error> {
        self.run(false, |c| {
            let mut tx = c.start_transaction(mysql::TxOpts::default())?;
            tx.exec_drop(
                "INSERT INTO roles (name, description) VALUES (?, ?) \
                 ON DUPLICATE KEY UPDATE description = VALUES(description)",
                (name, description),
            )?;
            tx.exec_drop("DELETE FROM role_permissions WHERE role = ?", (name,))?;
            for p in permissions {
                tx.exec_drop(
                    "INSERT INTO role_permissions (role, permission) VALUES (?, ?)",
                    (name, p),
                )?;
            }
            audit(
                &mut tx,
                who,
                &Action {
                    action: "role.define",
                    target_id: None,
                    target: "",
                    detail: &format!("{name}: {}", permissions.join(" ")),
                },
            )?;
            tx.commit()
        })
    }

    pub fn role_exists(&self, name: &str) -> Result<bool, mysql::Error> {
        let found: Option<String> = self.run(true, |c| {
            c.exec_first("SELECT name FROM roles WHERE name = ?", (name,))
        })?;
        Ok(found.is_some())
    }

    /// Grants or revokes a role, with its audit entry; false when it
    /// changed nothing (granted already, or not held).
    pub fn set_role(
        &self,
        who: &Who<'_>,
        user_id: u64,
        username: &str,
        role: &str,
        grant: bool,
    ) -> Result<bool, mysql::Error> {
        self.run(false, |c| {
            let mut tx = c.start_transaction(mysql::TxOpts::default())?;
            if grant {
                tx.exec_drop(
                    "INSERT IGNORE INTO user_roles (user_id, role) VALUES (?, ?)",
                    (user_id, role),
                )?;
            } else {
                tx.exec_drop(
                    "DELETE FROM user_roles WHERE user_id = ? AND role = ?",
                    (user_id, role),
                )?;
            }
            let changed = tx.affected_rows() == 1;
            audit(
                &mut tx,
                who,
                &Action {
                    action: if grant { "role.grant" } else { "role.revoke" },
                    target_id: Some(user_id),
                    target: username,
                    detail: &format!("{role}{}", if changed { "" } else { " (no change)" }),
                },
            )?;
            tx.commit()?;
            Ok(changed)
        })
    }

    /// Locks or unlocks an account, with its audit entry.
    pub fn set_locked(
        &self,
        who: &Who<'_>,
        user_id: u64,
        username: &str,
        locked: bool,
    ) -> Result<(), mysql::Error> {
        self.run(false, |c| {
            let mut tx = c.start_transaction(mysql::TxOpts::default())?;
            tx.exec_drop(
                if locked {
                    "UPDATE users SET locked_at = COALESCE(locked_at, NOW(3)) WHERE id = ?"
                } else {
                    "UPDATE users SET locked_at = NULL WHERE id = ?"
                },
                (user_id,),
            )?;
            audit(
                &mut tx,
                who,
                &Action {
                    action: if locked { "user.lock" } else { "user.unlock" },
                    target_id: Some(user_id),
                    target: username,
                    detail: "",
                },
            )?;
            tx.commit()
        })
    }

    /// Writes an audit entry on its own (for actions whose change is not
    /// in MySQL: ending sessions, views).
    pub fn audit(&self, who: &Who<'_>, what: &Action<'_>) -> Result<(), mysql::Error> {
        self.run(false, |c| {
            let mut tx = c.start_transaction(mysql::TxOpts::default())?;
            audit(&mut tx, who, what)?;
            tx.commit()
        })
    }

    /// Accounts for a console search: by uuid (32 hex digits), e-mail
    /// (with `@`, canonical form), or username (exact first, then those
    /// starting with it), at most `limit`; every branch is an index lookup
    /// or an index range, whatever the number of accounts.
    pub fn find_accounts(
        &self,
        uuid: Option<[u8; 16]>,
        email: Option<&str>,
        username: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccountRow>, mysql::Error> {
        let rows: Vec<AccountTuple> = self.run(true, |c| {
            if let Some(uuid) = uuid {
                c.exec(
                    format!("{ACCOUNT_COLUMNS} WHERE u.uuid = ?").as_str(),
                    (uuid.to_vec(),),
                )
            } else if let Some(email) = email {
                c.exec(format!("{ACCOUNT_COLUMNS} WHERE u.email = ?").as_str(), (email,))
            } else {
                // The exact name first, then the names after it in index
                // order: two index reads, never a sort of every match.
                let name = username.unwrap_or("");
                let prefix = format!(
                    "{}%",
                    name.replace('!', "!!").replace('%', "!%").replace('_', "!_")
                );
                let mut rows: Vec<AccountTuple> =
                    c.exec(format!("{ACCOUNT_COLUMNS} WHERE u.username = ?").as_str(), (name,))?;
                let more: Vec<AccountTuple> = c.exec(
                    format!(
                        "{ACCOUNT_COLUMNS} WHERE u.username LIKE ? ESCAPE '!' AND u.username <> ? ORDER BY u.username LIMIT ?"
                    )
                    .as_str(),
                    (prefix, name, limit),
                )?;
                rows.extend(more);
                rows.truncate(limit as usize);
                Ok(rows)
            }
        })?;
        Ok(rows.into_iter().filter_map(to_account).collect())
    }

    pub fn account(&self, uuid: &[u8; 16]) -> Result<Option<AccountRow>, mysql::Error> {
        Ok(self.find_accounts(Some(*uuid), None, None, 1)?.pop())
    }

    /// The audit log, newest first, `limit` entries older than `before`
    /// (an id; 0: from the newest).
    pub fn audit_page(&self, before: u64, limit: u32) -> Result<Vec<AuditEntry>, mysql::Error> {
        let before = if before == 0 { u64::MAX } else { before };
        let rows: Vec<(u64, u64, String, String, String, String, String)> = self.run(true, |c| {
            c.exec(
                "SELECT id, CAST(UNIX_TIMESTAMP(at) * 1000 AS UNSIGNED), actor, action, target, detail, ip \
                 FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?",
                (before, limit),
            )
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at_ms, actor, action, target, detail, ip)| AuditEntry {
                    id,
                    at_ms,
                    actor,
                    action,
                    target,
                    detail,
                    ip,
                },
            )
            .collect())
    }
}
