//! The console's operations (`admin_*`). Each one checks, here in authd,
//! the session of the person at the console and then the permission the
//! operation needs, read from MySQL on every request (the permission bits
//! a profile carries are for showing and hiding only). What changes an
//! account is written with its audit entry in one transaction
//! ([`crate::store::admin`]); a change of roles or a lock ends every
//! session of the account, so it meets its new privileges, or none, only
//! with a new session.

use super::Worker;
use crate::ops::Job;
use crate::records::now_ms;
use crate::store::admin::{AccountRow, Action, Who};
use crate::store::insight::Counted;
use crate::store::rollup::hour_of;
use crate::store::User;
use authd_wire::ops::{
    Actor, AddressRow, AdminAudit, AdminEndSessions, AdminFindUsers, AdminInsight, AdminLock,
    AdminOverview, AdminSetRole, AdminUser, AuditPage, AuditRow, Console, DimensionRow, FoundUsers,
    HourRow, Insight, Permission, RoleRow, SessionLengthRow, UserDetail, UserRow, UsernameRow,
};
use authd_wire::{Refusal, Request, Status};

/// Accounts a search answers at most; audit entries a page holds.
const FOUND: u32 = 50;
const AUDIT_PAGE: u32 = 50;

/// The person at the console, once checked.
struct Admin {
    user: User,
    ip: String,
    permissions: Vec<String>,
}

impl Admin {
    fn may(&self, p: Permission) -> Result<(), Refusal> {
        if self.permissions.iter().any(|n| n == p.name()) {
            Ok(())
        } else {
            Err(Refusal::new(Status::Forbidden))
        }
    }

    /// An operator acts on an account only if it holds every permission
    /// that account holds: support cannot lock out, or end the sessions
    /// of, the admins it answers to; nobody takes a role from someone more
    /// privileged than themselves.
    fn outranks(&self, target: &[String]) -> Result<(), Refusal> {
        if target.iter().all(|p| self.permissions.contains(p)) {
            Ok(())
        } else {
            Err(Refusal::new(Status::Forbidden))
        }
    }

    fn who(&self) -> Who<'_> {
        Who {
            id: Some(self.user.id),
            name: &self.user.username,
            ip: &self.ip,
        }
    }
}

fn user_row(a: &AccountRow) -> UserRow {
    UserRow {
        user: a.uuid,
        username: a.username.clone(),
        nickname: a.nickname.clone(),
        email: a.email.clone(),
        created_ms: a.created_ms,
        locked: a.locked,
    }
}

fn failed(what: &str, e: mysql::Error) -> Refusal {
    Refusal::new(super::store_failed(what, e))
}

impl Worker {
    pub(super) fn admin(&mut self, job: Job) {
        let result = self.admin_op(&job.op);
        match result {
            Ok(answer) => answer.send(job),
            Err(refusal) => job.refuse(refusal),
        }
    }

    /// The session's account and its permissions, from MySQL.
    fn admin_of(&mut self, actor: &Actor) -> Result<Admin, Refusal> {
        let user = self
            .session_user(actor.token.as_str())
            .map_err(Refusal::new)?;
        let permissions = self
            .shared
            .db
            .permissions_of(user.id)
            .map_err(|e| failed("reading permissions", e))?;
        Ok(Admin {
            user,
            ip: actor.ip.clone(),
            permissions,
        })
    }

    /// The account a change is about, if `admin` outranks it.
    fn target_below(
        &mut self,
        admin: &Admin,
        uuid: &[u8; 16],
    ) -> Result<(AccountRow, User), Refusal> {
        let (account, user) = self.target(uuid)?;
        let theirs = self
            .shared
            .db
            .permissions_of(account.id)
            .map_err(|e| failed("reading permissions", e))?;
        admin.outranks(&theirs)?;
        Ok((account, user))
    }

    /// The account an operation is about, with what a history needs.
    fn target(&mut self, uuid: &[u8; 16]) -> Result<(AccountRow, User), Refusal> {
        let account = self
            .shared
            .db
            .account(uuid)
            .map_err(|e| failed("reading an account", e))?
            .ok_or(Refusal::new(Status::NotFound))?;
        let user = self
            .shared
            .db
            .user_by_id(account.id)
            .map_err(|e| failed("reading an account", e))?
            .ok_or(Refusal::new(Status::NotFound))?;
        Ok((account, user))
    }

    fn admin_op(&mut self, op: &Request) -> Result<AdminAnswer, Refusal> {
        match op {
            Request::AdminOverview(AdminOverview { actor }) => {
                let admin = self.admin_of(actor)?;
                if admin.permissions.is_empty() {
                    return Err(Refusal::new(Status::Forbidden));
                }
                let roles = self
                    .shared
                    .db
                    .roles()
                    .map_err(|e| failed("reading roles", e))?;
                Ok(AdminAnswer::Overview(Console {
                    permissions: admin.permissions,
                    roles: roles
                        .into_iter()
                        .map(|r| RoleRow {
                            name: r.name,
                            description: r.description,
                            builtin: r.builtin,
                            permissions: r.permissions,
                        })
                        .collect(),
                }))
            }
            Request::AdminFindUsers(AdminFindUsers { actor, query }) => {
                let admin = self.admin_of(actor)?;
                admin.may(Permission::UsersRead)?;
                let found = self.find(query)?;
                self.audit(&admin, "user.find", None, &format!("query: {query}"))?;
                Ok(AdminAnswer::Found(FoundUsers {
                    users: found.iter().map(user_row).collect(),
                }))
            }
            Request::AdminUser(AdminUser { actor, user }) => {
                let admin = self.admin_of(actor)?;
                admin.may(Permission::UsersRead)?;
                let (account, target) = self.target(user)?;
                let roles = self
                    .shared
                    .db
                    .roles_of(account.id)
                    .map_err(|e| failed("reading roles", e))?;
                let history = self.history(&target, None).map_err(Refusal::new)?;
                let all_roles = self
                    .shared
                    .db
                    .roles()
                    .map_err(|e| failed("reading roles", e))?
                    .into_iter()
                    .map(|r| r.name)
                    .collect();
                self.audit(&admin, "user.view", Some(&account), "")?;
                Ok(AdminAnswer::User(UserDetail {
                    user: user_row(&account),
                    roles,
                    history,
                    all_roles,
                    caller_permissions: admin.permissions,
                }))
            }
            Request::AdminLock(AdminLock {
                actor,
                user,
                locked,
            }) => {
                let admin = self.admin_of(actor)?;
                admin.may(Permission::UsersLock)?;
                let (account, target) = self.target_below(&admin, user)?;
                let unavailable = || Refusal::new(Status::Unavailable);
                if *locked {
                    // Redis first: from here every session and sign-in of
                    // the account is refused, whatever is cached.
                    if !self.lock_sessions(&target) || !self.forget_user(&target, true) {
                        return Err(unavailable());
                    }
                    if let Err(e) =
                        self.shared
                            .db
                            .set_locked(&admin.who(), account.id, &account.username, true)
                    {
                        // Not locked after all (its sessions stay ended).
                        self.cache.set_lock(&target.uuid, false);
                        return Err(failed("locking an account", e));
                    }
                    self.forget_user(&target, true);
                } else {
                    self.shared
                        .db
                        .set_locked(&admin.who(), account.id, &account.username, false)
                        .map_err(|e| failed("unlocking an account", e))?;
                    self.forget_user(&target, true);
                    if !self.cache.set_lock(&target.uuid, false) {
                        return Err(unavailable());
                    }
                }
                Ok(AdminAnswer::Done)
            }
            Request::AdminEndSessions(AdminEndSessions {
                actor,
                user,
                session,
            }) => {
                let admin = self.admin_of(actor)?;
                admin.may(Permission::SessionsRevoke)?;
                let (account, target) = self.target_below(&admin, user)?;
                if *session == 0 {
                    if !self.end_all_sessions(&target, "admin") {
                        return Err(Refusal::new(Status::Unavailable));
                    }
                } else {
                    self.end_own_session(&target, *session, "admin")?;
                }
                let detail = if *session == 0 {
                    "all".to_owned()
                } else {
                    format!("session {session}")
                };
                self.audit(&admin, "sessions.end", Some(&account), &detail)?;
                Ok(AdminAnswer::Done)
            }
            Request::AdminSetRole(AdminSetRole {
                actor,
                user,
                role,
                grant,
            }) => {
                let admin = self.admin_of(actor)?;
                admin.may(Permission::RolesGrant)?;
                // The role exists, and gives nothing its granter lacks: a
                // holder of roles.grant alone cannot make anyone (itself
                // included) an admin.
                let roles = self
                    .shared
                    .db
                    .roles()
                    .map_err(|e| failed("reading roles", e))?;
                let the_role = roles
                    .iter()
                    .find(|r| &r.name == role)
                    .ok_or(Refusal::new(Status::UnknownRole))?;
                admin.outranks(&the_role.permissions)?;
                let (account, target) = self.target_below(&admin, user)?;
                self.shared
                    .db
                    .set_role(&admin.who(), account.id, &account.username, role, *grant)
                    .map_err(|e| failed("changing a role", e))?;
                self.forget_user(&target, false);
                if !self.end_all_sessions(&target, "privileges") {
                    return Err(Refusal::new(Status::Unavailable));
                }
                Ok(AdminAnswer::Done)
            }
            Request::AdminAudit(AdminAudit { actor, before }) => {
                let admin = self.admin_of(actor)?;
                admin.may(Permission::AuditRead)?;
                self.audit(&admin, "audit.read", None, &format!("before {before}"))?;
                let entries = self
                    .shared
                    .db
                    .audit_page(*before, AUDIT_PAGE)
                    .map_err(|e| failed("reading the audit log", e))?;
                Ok(AdminAnswer::Audit(AuditPage {
                    entries: entries
                        .into_iter()
                        .map(|e| AuditRow {
                            id: e.id,
                            at_ms: e.at_ms,
                            actor: e.actor,
                            action: e.action,
                            target: e.target,
                            detail: e.detail,
                            ip: e.ip,
                        })
                        .collect(),
                }))
            }
            Request::AdminInsight(AdminInsight { actor, hours, hour }) => {
                let admin = self.admin_of(actor)?;
                admin.may(Permission::InsightRead)?;
                self.audit(
                    &admin,
                    "insight.read",
                    None,
                    &format!("{hours} h, hour {hour}"),
                )?;
                self.insight(*hours, *hour)
                    .map(AdminAnswer::Insight)
                    .map_err(|e| failed("reading the analysis", e))
            }
            _ => Err(Refusal::new(Status::Internal)),
        }
    }

    /// Accounts for a search: a uuid, an e-mail address or a username
    /// (prefix); something that can be none of them finds nothing.
    fn find(&mut self, query: &str) -> Result<Vec<AccountRow>, Refusal> {
        let query = query.trim();
        let db = &self.shared.db;
        let found = if query.len() == 32 && query.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut uuid = [0u8; 16];
            let _ = hex::decode_to_slice(query, &mut uuid);
            db.find_accounts(Some(uuid), None, None, FOUND)
        } else if query.contains('@') {
            match crate::validate::email(query) {
                Ok(email) => db.find_accounts(None, Some(&email), None, FOUND),
                Err(_) => Ok(Vec::new()),
            }
        } else if crate::validate::username(query).is_ok() {
            db.find_accounts(None, None, Some(query), FOUND)
        } else {
            Ok(Vec::new())
        };
        found.map_err(|e| failed("searching accounts", e))
    }

    fn audit(
        &self,
        admin: &Admin,
        action: &str,
        target: Option<&AccountRow>,
        detail: &str,
    ) -> Result<(), Refusal> {
        self.shared
            .db
            .audit(
                &admin.who(),
                &Action {
                    action,
                    target_id: target.map(|t| t.id),
                    target: target.map_or("", |t| t.username.as_str()),
                    detail,
                },
            )
            .map_err(|e| failed("writing the audit log", e))
    }

    fn insight(&self, hours: u32, hour: u64) -> Result<Insight, mysql::Error> {
        let db = &self.shared.db;
        let now_hour = hour_of(now_ms());
        let hour = if hour == 0 {
            now_hour
        } else {
            hour.min(now_hour)
        };
        let hours = hours.clamp(1, 168);
        let from = now_hour.saturating_sub(u64::from(hours) - 1);
        let usernames = |rows: Vec<Counted>| -> Vec<UsernameRow> {
            rows.into_iter()
                .map(|c| UsernameRow {
                    username: c.key,
                    attempts: c.attempts,
                    successes: c.other,
                    addresses: c.distinct,
                })
                .collect()
        };
        let addresses = |rows: Vec<Counted>| -> Vec<AddressRow> {
            rows.into_iter()
                .map(|c| AddressRow {
                    ip: c.key,
                    attempts: c.attempts,
                    failures: c.other,
                    usernames: c.distinct,
                })
                .collect()
        };
        let lists = db.hour_lists(hour)?;
        Ok(Insight {
            hours,
            from_hour: from,
            hour,
            usernames: usernames(lists.usernames),
            failing_addresses: addresses(lists.failing),
            stuffing_addresses: addresses(lists.stuffing),
            stuffed_usernames: usernames(lists.stuffed),
            dimensions: db
                .dimensions(from, now_hour, 10)?
                .into_iter()
                .map(|(dimension, value, signins)| DimensionRow {
                    dimension,
                    value,
                    signins,
                })
                .collect(),
            by_hour: db
                .by_hour(from, now_hour)?
                .into_iter()
                .map(|(hour, attempts, successes)| HourRow {
                    hour,
                    attempts,
                    successes,
                })
                .collect(),
            session_lengths: db
                .session_lengths(from, now_hour)?
                .into_iter()
                .map(|(bucket_s, sessions, seconds)| SessionLengthRow {
                    bucket_s,
                    sessions,
                    seconds,
                })
                .collect(),
        })
    }
}

/// An `admin_*` answer, sent as its operation's type.
enum AdminAnswer {
    Overview(Console),
    Found(FoundUsers),
    User(UserDetail),
    Audit(AuditPage),
    Insight(Insight),
    Done,
}

impl AdminAnswer {
    fn send(self, job: Job) {
        match (self, &job.op) {
            (AdminAnswer::Overview(a), _) => job.ok::<AdminOverview>(&a),
            (AdminAnswer::Found(a), _) => job.ok::<AdminFindUsers>(&a),
            (AdminAnswer::User(a), _) => job.ok::<AdminUser>(&a),
            (AdminAnswer::Audit(a), _) => job.ok::<AdminAudit>(&a),
            (AdminAnswer::Insight(a), _) => job.ok::<AdminInsight>(&a),
            (AdminAnswer::Done, Request::AdminLock(_)) => job.ok::<AdminLock>(&()),
            (AdminAnswer::Done, Request::AdminSetRole(_)) => job.ok::<AdminSetRole>(&()),
            (AdminAnswer::Done, _) => job.ok::<AdminEndSessions>(&()),
        }
    }
}
