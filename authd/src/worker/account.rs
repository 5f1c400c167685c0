//! The account operations that are not batched: sign-up and register
//! (hash on the argon2 pool, then one transaction), the code-based flows,
//! profile changes (cache deleted before and after the MySQL write, and
//! refused when Redis cannot be told) and log-out. Sign-ups, codes and
//! resets pass the flood limits first ([`super::flood`]). E-mail addresses
//! arrive canonical ([`crate::validate::email`]) and are compared as bytes.

use super::codes::Purpose;
use super::flood::Flood;
use super::users::By;
use super::Worker;
use crate::hasher::{AfterHash, Task};
use crate::ops::{Job, Secret};
use crate::store::db::DbError;
use crate::store::User;
use authd_wire::ops::{
    ChangeAvatar, ChangeNickname, CheckAccount, CodeSent, Logout, LogoutEverywhere, Register,
    Registered, RequestCode, ResetPassword, SignUp, SignedUp,
};
use authd_wire::{Refusal, Request, Status};

impl Worker {
    pub(super) fn one(&mut self, job: Job) {
        match job.op.clone() {
            Request::SignUp(SignUp {
                username,
                password,
                ip,
                ..
            }) => match self.admit(Flood::SignUps, &ip) {
                Ok(()) => self.sign_up(job, &username, password),
                Err(refusal) => job.refuse(refusal),
            },
            Request::Register(Register {
                username,
                password,
                email,
                code,
                ip,
            }) => match self.admit(Flood::SignUps, &ip) {
                Ok(()) => self.register(job, &username, password, &email, &code),
                Err(refusal) => job.refuse(refusal),
            },
            Request::RequestCode(RequestCode { email, ip }) => {
                let sent = self
                    .admit(Flood::Codes, &ip)
                    .and_then(|()| self.issue_code(Purpose::SignUp, &email, None))
                    .map(|expires_in| CodeSent { expires_in });
                job.answer::<RequestCode>(sent)
            }
            Request::CheckAccount(CheckAccount {
                username,
                email,
                ip,
            }) => match self.admit(Flood::Codes, &ip) {
                Ok(()) => self.check_account(job, &username, &email),
                Err(refusal) => job.refuse(refusal),
            },
            Request::ResetPassword(ResetPassword {
                email,
                code,
                password,
                ip,
            }) => match self.admit(Flood::Resets, &ip) {
                Ok(()) => self.reset_password(job, &email, &code, password),
                Err(refusal) => job.refuse(refusal),
            },
            Request::ChangeNickname(ChangeNickname { token, nickname }) => self
                .change_profile::<ChangeNickname>(job, &token, None, |db, id| {
                    db.set_nickname(id, &nickname)
                }),
            // Each accepted avatar is a file kept on webd's disk: bounded
            // per account.
            Request::ChangeAvatar(ChangeAvatar { token, photo }) => self
                .change_profile::<ChangeAvatar>(job, &token, Some(Flood::Avatars), |db, id| {
                    db.set_avatar(id, &photo)
                }),
            Request::Logout(Logout { token }) => {
                let ended = self.logout(token.as_str());
                job.answer::<Logout>(ended)
            }
            Request::LogoutEverywhere(LogoutEverywhere { token }) => {
                match self.session_user(token.as_str()) {
                    Ok(user) if self.end_all_sessions(&user, "everywhere") => {
                        job.ok::<LogoutEverywhere>(&())
                    }
                    Ok(_) => job.refuse(Status::Unavailable),
                    Err(status) => job.refuse(status),
                }
            }
            Request::SecurityOverview(_) | Request::EndSession(_) => self.security(job),
            Request::AdminOverview(_)
            | Request::AdminFindUsers(_)
            | Request::AdminUser(_)
            | Request::AdminLock(_)
            | Request::AdminEndSessions(_)
            | Request::AdminSetRole(_)
            | Request::AdminAudit(_)
            | Request::AdminInsight(_) => self.admin(job),
            Request::OidcMetadata(_)
            | Request::OidcAuthorize(_)
            | Request::OidcToken(_)
            | Request::OidcUserinfo(_)
            | Request::OidcIntrospect(_)
            | Request::OidcRevoke(_)
            | Request::OidcLogout(_) => self.oidc(job),
            Request::SsoStart(_) | Request::SsoFinish(_) | Request::SsoUnlink(_) => self.sso(job),
            // Batched operations never arrive here.
            Request::SignIn(_)
            | Request::TryLogin(_)
            | Request::ValidateSession(_)
            | Request::Whoami(_)
            | Request::Lookup(_) => job.refuse(Status::Internal),
        }
    }

    fn hash_then(&self, job: Job, password: Secret, then: AfterHash) {
        if let Err(task) = self.shared.hasher.submit(Task::Hash {
            job,
            password,
            then,
        }) {
            task.into_job().refuse(Status::Busy);
        }
    }

    fn sign_up(&mut self, job: Job, username: &str, password: Secret) {
        // A cheap check first, so a taken name costs no argon2; the unique
        // key still decides races.
        match self.user(By::Name(username)) {
            Ok(Some(_)) => job.refuse(Status::Taken),
            Ok(None) => self.hash_then(job, password, AfterHash::Create { email: None }),
            Err(()) => job.refuse(Status::Unavailable),
        }
    }

    fn register(&mut self, job: Job, username: &str, password: Secret, email: &str, code: &Secret) {
        if let Err(refusal) = self.check_code(Purpose::SignUp, email, code.as_str()) {
            return job.refuse(refusal);
        }
        match (
            self.user(By::Name(username)),
            self.shared.db.user_by_email(email),
        ) {
            (Ok(Some(_)), _) => return job.refuse(Status::Taken),
            (_, Ok(Some(_))) => return job.refuse(Status::EmailTaken),
            (Ok(None), Ok(None)) => {}
            _ => return job.refuse(Status::Unavailable),
        }
        // The code is used up once the hash exists (`hashed`), so a busy
        // argon2 lane does not cost the caller their code.
        self.hash_then(
            job,
            password,
            AfterHash::Create {
                email: Some(email.to_owned()),
            },
        );
    }

    /// Always `ok` for valid input, so nobody learns whether an account
    /// exists; when the username and e-mail belong together, a reset code
    /// bound to that account goes to the address stored on it — never to
    /// the address as the request spelled it (from the mail thread, so the
    /// answer takes as long either way).
    fn check_account(&mut self, job: Job, username: &str, email: &str) {
        // From MySQL: the cache keeps no e-mail.
        match self
            .shared
            .db
            .user_by_name(username)
            .map_err(|e| log::error!("loading a user: {e}"))
        {
            Ok(Some(user)) if user.email.as_deref() == Some(email) => {
                if let Some(stored) = user.email.as_deref() {
                    let _ = self.issue_code(Purpose::Reset, stored, Some(user.id));
                }
                job.ok::<CheckAccount>(&());
            }
            Ok(_) => job.ok::<CheckAccount>(&()),
            Err(()) => job.refuse(Status::Unavailable),
        }
    }

    fn reset_password(&mut self, job: Job, email: &str, code: &Secret, password: Secret) {
        // Only a reset code, and it names its account: the address is only
        // where the code was mailed, never how the account is found.
        // Checked here, used up once the new hash exists (`hashed`).
        let bound = match self.check_code(Purpose::Reset, email, code.as_str()) {
            Ok(bound) => bound,
            Err(refusal) => return job.refuse(refusal),
        };
        let found = match bound {
            0 => Ok(None),
            id => self.shared.db.user_by_id(id),
        };
        match found {
            Ok(Some(user)) if user.email.as_deref() == Some(email) => self.hash_then(
                job,
                password,
                AfterHash::Reset {
                    user: Box::new(user),
                },
            ),
            // Gone, or its address changed since the code was mailed.
            Ok(_) => job.refuse(Status::NotFound),
            Err(e) => job.refuse(super::store_failed("loading a user", e)),
        }
    }

    fn change_profile<O: authd_wire::Operation<Answer = ()>>(
        &mut self,
        job: Job,
        token: &Secret,
        limit: Option<Flood>,
        write: impl FnOnce(&crate::store::db::Db, u64) -> Result<(), mysql::Error>,
    ) {
        let user = match self.session_user(token.as_str()) {
            Ok(user) => user,
            Err(status) => return job.refuse(status),
        };
        if let Some(what) = limit {
            if let Err(refusal) = self.admit(what, &format!("account:{}", user.uuid_hex())) {
                return job.refuse(refusal);
            }
        }
        if !self.forget_user(&user, false) {
            return job.refuse(Status::Unavailable);
        }
        if let Err(e) = write(&self.shared.db, user.id) {
            return job.refuse(super::store_failed("updating a profile", e));
        }
        self.forget_user(&user, false);
        job.ok::<O>(&());
    }

    /// argon2 made a new hash: create the account or replace the password.
    pub(super) fn hashed(&mut self, job: Job, phc: Result<String, String>, then: AfterHash) {
        let phc = match phc {
            Ok(phc) => phc,
            Err(e) => {
                log::error!("argon2 failed: {e}");
                return job.refuse(Status::Internal);
            }
        };
        // The code of a register or a reset is used up now, not before the
        // hash: a `busy` lane or a failed hash leaves it for another try.
        let code = match &then {
            AfterHash::Create { email: Some(e) } => Some((Purpose::SignUp, e.clone())),
            AfterHash::Reset { user } => user.email.clone().map(|e| (Purpose::Reset, e)),
            AfterHash::Create { email: None } => None,
        };
        if let Some((purpose, email)) = code {
            if !self.consume_code(purpose, &email) {
                return job.refuse(Refusal::reason(
                    Status::InvalidCode,
                    "the code is wrong, used or expired",
                ));
            }
        }
        match then {
            AfterHash::Create { email } => {
                let (username, nickname) = match &job.op {
                    Request::SignUp(op) => (op.username.clone(), op.nickname.clone()),
                    Request::Register(op) => (op.username.clone(), op.username.clone()),
                    _ => return job.refuse(Status::Internal),
                };
                let uuid = *uuid::Uuid::new_v4().as_bytes();
                match self.shared.db.create_user(
                    &uuid,
                    &username,
                    email.as_deref(),
                    &phc,
                    &nickname,
                ) {
                    Ok(_) if matches!(job.op, Request::Register(_)) => {
                        job.ok::<Register>(&Registered { user: uuid })
                    }
                    Ok(_) => job.ok::<SignUp>(&SignedUp { user: uuid }),
                    Err(DbError::Taken) => job.refuse(Status::Taken),
                    Err(DbError::EmailTaken) => job.refuse(Status::EmailTaken),
                    Err(DbError::Mysql(e)) => job.refuse(super::store_failed("creating a user", e)),
                }
            }
            AfterHash::Reset { user } => self.replace_password(job, &user, &phc),
        }
    }

    fn replace_password(&mut self, job: Job, user: &User, phc: &str) {
        if !self.forget_user(user, true) {
            return job.refuse(Status::Unavailable);
        }
        // Identities linked with a password go with it: whoever knew the
        // old one may have linked their own (first, so a failure here
        // leaves the old password, and the reset can be tried again).
        if let Err(e) = self.shared.db.unlink_password_links(user.id) {
            return job.refuse(super::store_failed("unlinking identities", e));
        }
        if let Err(e) = self.shared.db.set_password(user.id, phc) {
            return job.refuse(super::store_failed("replacing a password", e));
        }
        self.forget_user(user, true);
        // After the change, so a session made with the old password just
        // before it ends too.
        if !self.end_all_sessions(user, "reset") {
            return job.refuse(Status::Unavailable);
        }

        // The owner hears of it, whoever reset it (a full mail queue costs
        // the notice, not the reset).
        if let Some(to) = &user.email {
            let _ = self.shared.mail.try_send(crate::mailer::Mail {
                to: to.clone(),
                purpose: "password changed",
                code: None,
                detail: None,
            });
        }
        job.ok::<ResetPassword>(&());
    }
}
