//! The account operations that are not batched: sign-up and register
//! (hash on the argon2 pool, then one transaction), the code-based flows,
//! profile changes (cache deleted before and after the MySQL write, and
//! refused when Redis cannot be told) and log-out.

use super::users::By;
use super::Worker;
use crate::hasher::{AfterHash, Task};
use crate::ops::{body, Job, Op, Secret};
use crate::store::db::DbError;
use crate::store::User;
use throng_core::proto::Status;

impl Worker {
    pub(super) fn one(&mut self, job: Job) {
        match job.op.clone() {
            Op::SignUp {
                username, password, ..
            } => self.sign_up(job, &username, password),
            Op::Register {
                username,
                password,
                email,
                code,
            } => self.register(job, &username, password, &email, &code),
            Op::RequestCode { email } => match self.issue_code(&email, "sign-up") {
                Ok(ttl) => job.answer(
                    Status::Ok,
                    body(|w| {
                        w.u32(ttl);
                    }),
                ),
                Err((status, retry)) => job.answer(
                    status,
                    retry
                        .map(|r| {
                            body(|w| {
                                w.u32(r);
                            })
                        })
                        .unwrap_or_default(),
                ),
            },
            Op::CheckAccount { username, email } => self.check_account(job, &username, &email),
            Op::ResetPassword {
                email,
                code,
                password,
            } => self.reset_password(job, &email, &code, password),
            Op::ChangeNickname { token, nickname } => {
                self.change_profile(job, &token, |db, id| db.set_nickname(id, &nickname))
            }
            Op::ChangeAvatar { token, photo } => {
                self.change_profile(job, &token, |db, id| db.set_avatar(id, &photo))
            }
            Op::Logout { token } => {
                let status = self.logout(token.as_str());
                job.answer(status, Vec::new());
            }
            // Batched operations never arrive here.
            Op::SignIn { .. }
            | Op::TryLogin { .. }
            | Op::ValidateSession { .. }
            | Op::Lookup { .. } => job.answer(Status::Internal, Vec::new()),
        }
    }

    fn hash_then(&self, job: Job, password: Secret, then: AfterHash) {
        if let Err(task) = self.shared.hasher.submit(Task::Hash {
            job,
            password,
            then,
        }) {
            task.into_job().answer(Status::Busy, Vec::new());
        }
    }

    fn sign_up(&mut self, job: Job, username: &str, password: Secret) {
        // A cheap check first, so a taken name costs no argon2; the unique
        // key still decides races.
        match self.user(By::Name(username)) {
            Ok(Some(_)) => job.answer(Status::Taken, Vec::new()),
            Ok(None) => self.hash_then(job, password, AfterHash::Create { email: None }),
            Err(()) => job.answer(Status::Unavailable, Vec::new()),
        }
    }

    fn register(&mut self, job: Job, username: &str, password: Secret, email: &str, code: &Secret) {
        if let Err((status, reason)) = self.check_code(email, code.as_str()) {
            return job.answer(
                status,
                body(|w| {
                    w.str(&reason);
                }),
            );
        }
        match (
            self.user(By::Name(username)),
            self.shared.db.user_by_email(email),
        ) {
            (Ok(Some(_)), _) => return job.answer(Status::Taken, Vec::new()),
            (_, Ok(Some(_))) => return job.answer(Status::EmailTaken, Vec::new()),
            (Ok(None), Ok(None)) => {}
            _ => return job.answer(Status::Unavailable, Vec::new()),
        }
        if !self.consume_code(email) {
            return job.answer(
                Status::InvalidCode,
                body(|w| {
                    w.str("the code was just used");
                }),
            );
        }
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
    /// goes to that e-mail (from the mail thread, so the answer takes as
    /// long either way).
    fn check_account(&mut self, job: Job, username: &str, email: &str) {
        match self.user(By::Name(username)) {
            Ok(Some(user))
                if user
                    .email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email)) =>
            {
                let _ = self.issue_code(email, "password reset");
                job.answer(Status::Ok, Vec::new());
            }
            Ok(_) => job.answer(Status::Ok, Vec::new()),
            Err(()) => job.answer(Status::Unavailable, Vec::new()),
        }
    }

    fn reset_password(&mut self, job: Job, email: &str, code: &Secret, password: Secret) {
        if let Err((status, reason)) = self.redeem_code(email, code.as_str()) {
            return job.answer(
                status,
                body(|w| {
                    w.str(&reason);
                }),
            );
        }
        match self.shared.db.user_by_email(email) {
            Ok(Some(user)) => self.hash_then(
                job,
                password,
                AfterHash::Reset {
                    user: Box::new(user),
                },
            ),
            Ok(None) => job.answer(Status::NotFound, Vec::new()),
            Err(e) => job.answer(
                super::store_failed("loading a user by e-mail", e),
                Vec::new(),
            ),
        }
    }

    fn change_profile(
        &mut self,
        job: Job,
        token: &Secret,
        write: impl FnOnce(&crate::store::db::Db, u64) -> Result<(), mysql::Error>,
    ) {
        let user = match self.session_user(token.as_str()) {
            Ok(user) => user,
            Err(status) => return job.answer(status, Vec::new()),
        };
        if !self.forget_user(&user, false) {
            return job.answer(Status::Unavailable, Vec::new());
        }
        if let Err(e) = write(&self.shared.db, user.id) {
            return job.answer(super::store_failed("updating a profile", e), Vec::new());
        }
        self.forget_user(&user, false);
        job.answer(Status::Ok, Vec::new());
    }

    /// argon2 made a new hash: create the account or replace the password.
    pub(super) fn hashed(&mut self, job: Job, phc: Result<String, String>, then: AfterHash) {
        let phc = match phc {
            Ok(phc) => phc,
            Err(e) => {
                log::error!("argon2 failed: {e}");
                return job.answer(Status::Internal, Vec::new());
            }
        };
        match then {
            AfterHash::Create { email } => {
                let (username, nickname) = match &job.op {
                    Op::SignUp {
                        username, nickname, ..
                    } => (username.clone(), nickname.clone()),
                    Op::Register { username, .. } => (username.clone(), username.clone()),
                    _ => return job.answer(Status::Internal, Vec::new()),
                };
                let uuid = *uuid::Uuid::new_v4().as_bytes();
                match self.shared.db.create_user(
                    &uuid,
                    &username,
                    email.as_deref(),
                    &phc,
                    &nickname,
                ) {
                    Ok(_) => job.answer(
                        Status::Ok,
                        body(|w| {
                            w.uuid(uuid);
                        }),
                    ),
                    Err(DbError::Taken) => job.answer(Status::Taken, Vec::new()),
                    Err(DbError::EmailTaken) => job.answer(Status::EmailTaken, Vec::new()),
                    Err(DbError::Mysql(e)) => {
                        job.answer(super::store_failed("creating a user", e), Vec::new())
                    }
                }
            }
            AfterHash::Reset { user } => self.replace_password(job, &user, &phc),
        }
    }

    fn replace_password(&mut self, job: Job, user: &User, phc: &str) {
        if !self.forget_user(user, true) {
            return job.answer(Status::Unavailable, Vec::new());
        }
        if let Err(e) = self.shared.db.set_password(user.id, phc) {
            return job.answer(super::store_failed("replacing a password", e), Vec::new());
        }
        self.forget_user(user, true);
        job.answer(Status::Ok, Vec::new());
    }
}
