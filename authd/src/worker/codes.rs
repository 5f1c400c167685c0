//! E-mail verification codes. A code is six random digits kept in Redis
//! with a TTL; each address may ask for `codes.per_hour` codes an hour; a
//! code is single-use, and `codes.max_tries` wrong tries burn it. Codes are
//! compared in constant time and never logged. Without Redis there are no
//! codes: the answer is `unavailable`.

use super::Worker;
use crate::mailer::Mail;
use crate::password::same;
use authd_wire::{Refusal, Status};

fn six_digits() -> Result<String, Status> {
    // Rejection sampling keeps the digits uniform.
    loop {
        let mut raw = [0u8; 4];
        getrandom::fill(&mut raw).map_err(|_| Status::Internal)?;
        let n = u32::from_be_bytes(raw);
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

impl Worker {
    fn code_keys(&self, email: &str) -> (String, String) {
        let email = email.to_lowercase();
        (
            self.cache.key("code", &email),
            self.cache.key("codes", &email),
        )
    }

    /// Makes and mails a code; the seconds it lives, or why not.
    pub(super) fn issue_code(
        &mut self,
        email: &str,
        purpose: &'static str,
    ) -> Result<u32, Refusal> {
        let cfg = self.shared.cfg.codes.clone();
        let (code_key, count_key) = self.code_keys(email);
        let counted: Option<(i64, i64)> = self.cache.run(|c| {
            redis::pipe()
                .incr(&count_key, 1)
                .cmd("EXPIRE")
                .arg(&count_key)
                .arg(3600)
                .arg("NX")
                .ignore()
                .ttl(&count_key)
                .query(c)
        });
        let Some((count, ttl)) = counted else {
            return Err(Refusal::new(Status::Unavailable));
        };
        if count > i64::from(cfg.per_hour) {
            return Err(Refusal::retry_after(
                Status::TooManyCodes,
                ttl.clamp(1, 3600) as u32,
            ));
        }
        let code = six_digits().map_err(Refusal::new)?;
        let ttl = cfg.ttl.as_secs().max(1);
        let stored = self.cache.run(|c| {
            redis::pipe()
                .cmd("DEL")
                .arg(&code_key)
                .ignore()
                .hset(&code_key, "code", &code)
                .ignore()
                .hset(&code_key, "tries", 0)
                .ignore()
                .expire(&code_key, ttl as i64)
                .ignore()
                .query::<()>(c)
        });
        if stored.is_none() {
            return Err(Refusal::new(Status::Unavailable));
        }
        let mail = Mail {
            to: email.to_owned(),
            purpose,
            code,
        };
        if self.shared.mail.try_send(mail).is_err() {
            return Err(Refusal::new(Status::Busy));
        }
        Ok(ttl as u32)
    }

    /// Checks a code without using it up; a wrong one counts a try and the
    /// last allowed wrong try burns the code.
    pub(super) fn check_code(&mut self, email: &str, code: &str) -> Result<(), Refusal> {
        let (code_key, _) = self.code_keys(email);
        let max = self.shared.cfg.codes.max_tries;
        let stored: Option<Option<String>> = self
            .cache
            .run(|c| redis::cmd("HGET").arg(&code_key).arg("code").query(c));
        let Some(stored) = stored else {
            return Err(Refusal::reason(
                Status::Unavailable,
                "verification codes are unavailable",
            ));
        };
        let Some(stored) = stored else {
            return Err(Refusal::reason(
                Status::InvalidCode,
                "no code is pending for this e-mail (expired, used or never sent)",
            ));
        };
        if crate::validate::code(code) && same(&stored, code) {
            return Ok(());
        }
        let tries: Option<i64> = self.cache.run(|c| {
            redis::cmd("HINCRBY")
                .arg(&code_key)
                .arg("tries")
                .arg(1)
                .query(c)
        });
        let tries = tries.unwrap_or(i64::from(max));
        if tries >= i64::from(max) {
            self.cache
                .run(|c| redis::cmd("DEL").arg(&code_key).query::<()>(c));
            return Err(Refusal::reason(
                Status::InvalidCode,
                "wrong code; it is now burned, ask for a new one",
            ));
        }
        Err(Refusal::reason(
            Status::InvalidCode,
            format!("wrong code; {} tries left", i64::from(max) - tries),
        ))
    }

    /// Uses the code up. False if another request used it first.
    pub(super) fn consume_code(&mut self, email: &str) -> bool {
        let (code_key, _) = self.code_keys(email);
        self.cache
            .run(|c| redis::cmd("DEL").arg(&code_key).query::<i64>(c))
            == Some(1)
    }

    /// `check_code` then `consume_code`, as one step for the caller.
    pub(super) fn redeem_code(&mut self, email: &str, code: &str) -> Result<(), Refusal> {
        self.check_code(email, code)?;
        if self.consume_code(email) {
            Ok(())
        } else {
            Err(Refusal::reason(
                Status::InvalidCode,
                "the code was just used",
            ))
        }
    }
}
