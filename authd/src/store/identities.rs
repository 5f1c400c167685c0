//! Identities at other OpenID providers linked to accounts
//! (`user_identities`, migration `0007_oidc`): found by (provider, sub) at
//! every "Sign in with …", listed on `/security`, unlinked from there.

use super::db::Db;
use authd_wire::ops::IdentityRow;
use mysql::prelude::Queryable;

/// A linked identity as the sign-in needs it.
#[derive(Debug, Clone)]
pub struct Linked {
    pub id: u64,
    pub user_id: u64,
    pub made_account: bool,
}

impl Db {
    /// The account linked to `subject` at `provider`, if any.
    pub fn linked_identity(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Linked>, mysql::Error> {
        self.run(true, |c| {
            c.exec_first(
                "SELECT id, user_id, made_account FROM user_identities \
                 WHERE provider = ? AND subject = ?",
                (provider, subject),
            )
            .map(|row| {
                row.map(|(id, user_id, made_account)| Linked {
                    id,
                    user_id,
                    made_account,
                })
            })
        })
    }

    /// Links `subject` at `provider` to `user_id`. An identity already
    /// linked (to this account or another) stays as it was: false.
    pub fn link_identity(
        &self,
        user_id: u64,
        provider: &str,
        subject: &str,
        email: Option<&str>,
        made_account: bool,
    ) -> Result<bool, mysql::Error> {
        self.run(false, |c| {
            c.exec_drop(
                "INSERT IGNORE INTO user_identities (user_id, provider, subject, email, made_account) \
                 VALUES (?, ?, ?, ?, ?)",
                (user_id, provider, subject, email, made_account),
            )?;
            Ok(c.affected_rows() == 1)
        })
    }

    /// Deletes an account made a moment ago for an identity whose link
    /// another first sign-in made first (two at once): it has no way in
    /// (no password anyone knows, no identity) and nothing refers to it
    /// yet. An account that has an identity is never deleted here.
    pub fn delete_unlinked_new_user(&self, user_id: u64) -> Result<(), mysql::Error> {
        self.run(false, |c| {
            c.exec_drop(
                "DELETE FROM users WHERE id = ? \
                 AND NOT EXISTS (SELECT 1 FROM user_identities WHERE user_id = ?)",
                (user_id, user_id),
            )
        })
    }

    pub fn identities_of(&self, user_id: u64) -> Result<Vec<IdentityRow>, mysql::Error> {
        self.run(true, |c| {
            c.exec_map(
                "SELECT id, provider, COALESCE(email, ''), \
                 CAST(UNIX_TIMESTAMP(linked_at) * 1000 AS UNSIGNED), made_account \
                 FROM user_identities WHERE user_id = ? ORDER BY linked_at",
                (user_id,),
                |(id, provider, email, linked_ms, made_account)| IdentityRow {
                    id,
                    provider,
                    email,
                    linked_ms,
                    made_account,
                },
            )
        })
    }

    /// Removes identity `id` of `user_id` unless it made the account;
    /// `Ok(None)` when the account has no such identity, `Ok(Some(false))`
    /// when it made the account (kept).
    pub fn unlink_identity(&self, user_id: u64, id: u64) -> Result<Option<bool>, mysql::Error> {
        self.run(false, |c| {
            let made: Option<bool> = c.exec_first(
                "SELECT made_account FROM user_identities WHERE id = ? AND user_id = ?",
                (id, user_id),
            )?;
            match made {
                None => Ok(None),
                Some(true) => Ok(Some(false)),
                Some(false) => {
                    c.exec_drop(
                        "DELETE FROM user_identities WHERE id = ? AND user_id = ?",
                        (id, user_id),
                    )?;
                    Ok(Some(true))
                }
            }
        })
    }

    /// Unlinks every identity of `user_id` that a password linked (not
    /// the one that made the account): a reset's doing. How many went.
    pub fn unlink_password_links(&self, user_id: u64) -> Result<u64, mysql::Error> {
        self.run(false, |c| {
            c.exec_drop(
                "DELETE FROM user_identities WHERE user_id = ? AND made_account = FALSE",
                (user_id,),
            )?;
            Ok(c.affected_rows())
        })
    }
}
