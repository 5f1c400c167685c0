//! E-mail verification codes. A code is six random digits kept in Redis
//! with a TTL; each address may ask for `codes.per_hour` codes an hour; a
//! code is single-use, and `codes.max_tries` wrong tries burn it. Codes are
//! compared in constant time and never logged. Without Redis there are no
//! codes: the answer is `unavailable`.
//!
//! Redis holds neither the address nor the code: the keys are named by an
//! HMAC of the (canonical) address, and the stored value is an HMAC of
//! the code, both under the codes key ([`crate::keys`]), so a copy of
//! Redis gives no list of addresses and no code to use.
//!
//! A code is bound to its [`Purpose`]: a sign-up code proves only that its
//! holder reads that address, and can never reset a password. A reset code
//! is only ever mailed to the address stored on an account and is bound to
//! that account's id, so it resets that account and no other, whatever
//! address a request names.

use super::Worker;
use crate::mailer::Mail;
use crate::password::same;
use authd_wire::{Refusal, Status};
use hmac::{Hmac, Mac};
use sha2::Sha256;

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

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// Registering with an address (`request_code`, `register`).
    SignUp,
    /// Resetting the password of the account it was mailed for.
    Reset,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Purpose::SignUp => "signup",
            Purpose::Reset => "reset",
        }
    }

    /// What the mail says the code is for.
    fn mail_purpose(self) -> &'static str {
        match self {
            Purpose::SignUp => "sign-up",
            Purpose::Reset => "password reset",
        }
    }
}

impl Worker {
    /// The code's key (per purpose and address) and the address's hourly
    /// allowance counter (shared by the purposes: one mailbox).
    /// HMAC-SHA256 under the codes key of `parts`, in hex.
    fn code_mac(&self, parts: &[&[u8]]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.shared.keys.codes)
            .expect("HMAC takes any key length");
        for part in parts {
            mac.update(part);
            mac.update(b"\0");
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// The code's key and the mailbox's hourly allowance counter, both
    /// per purpose (so sign-up codes anyone can ask for never use up the
    /// owner's reset codes), named by a keyed hash of the address, which
    /// is canonical already ([`crate::validate::email`]).
    fn code_keys(&self, purpose: Purpose, email: &str) -> (String, String) {
        let mailbox = self.code_mac(&[b"mailbox", email.as_bytes()]);
        let named = format!("{}:{mailbox}", purpose.tag());
        (
            self.cache.key("code", &named),
            self.cache.key("codes", &named),
        )
    }

    /// What Redis keeps of `code` for `email`'s `purpose`.
    fn stored_code(&self, purpose: Purpose, email: &str, code: &str) -> String {
        self.code_mac(&[
            b"code",
            purpose.tag().as_bytes(),
            email.as_bytes(),
            code.as_bytes(),
        ])
    }

    /// Makes and mails a code for `purpose` to `email`, bound to account
    /// `user` when given; the seconds it lives, or why not.
    pub(super) fn issue_code(
        &mut self,
        purpose: Purpose,
        email: &str,
        user: Option<u64>,
    ) -> Result<u32, Refusal> {
        let cfg = self.shared.cfg.codes.clone();
        let (code_key, count_key) = self.code_keys(purpose, email);
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
        let stored_code = self.stored_code(purpose, email, &code);
        let ttl = cfg.ttl.as_secs().max(1);
        let stored = self.cache.run(|c| {
            redis::pipe()
                .cmd("DEL")
                .arg(&code_key)
                .ignore()
                .hset(&code_key, "code", &stored_code)
                .ignore()
                .hset(&code_key, "tries", 0)
                .ignore()
                .hset(&code_key, "user", user.unwrap_or(0))
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
            purpose: purpose.mail_purpose(),
            code: Some(code),
            detail: None,
        };
        if self.shared.mail.try_send(mail).is_err() {
            return Err(Refusal::new(Status::Busy));
        }
        Ok(ttl as u32)
    }

    /// Checks a code for `purpose` without using it up, and says which
    /// account it is bound to (0: none). Every refusal reads the same —
    /// no code pending, a wrong one, a burned one — so the answer never
    /// tells whether a code was sent to an address (and so whether a name
    /// and an address belong together). A guess at a pending code counts
    /// against the global guess limit first ([`super::flood`]); a wrong one
    /// counts a try, and the last allowed wrong try burns the code.
    pub(super) fn check_code(
        &mut self,
        purpose: Purpose,
        email: &str,
        code: &str,
    ) -> Result<u64, Refusal> {
        let wrong = || Refusal::reason(Status::InvalidCode, "the code is wrong, used or expired");
        let (code_key, _) = self.code_keys(purpose, email);
        let max = self.shared.cfg.codes.max_tries;
        let stored: Option<(Option<String>, Option<u64>)> = self.cache.run(|c| {
            redis::cmd("HMGET")
                .arg(&code_key)
                .arg("code")
                .arg("user")
                .query(c)
        });
        let Some(stored) = stored else {
            return Err(Refusal::reason(
                Status::Unavailable,
                "verification codes are unavailable",
            ));
        };
        let (Some(stored), user) = stored else {
            return Err(wrong());
        };
        self.admit_guess()?;
        if crate::validate::code(code) && same(&stored, &self.stored_code(purpose, email, code)) {
            self.forgive_guess();
            return Ok(user.unwrap_or(0));
        }
        let ttl = self.shared.cfg.codes.ttl.as_secs().max(1);
        let tries: Option<(i64,)> = self.cache.run(|c| {
            redis::pipe()
                .cmd("HINCRBY")
                .arg(&code_key)
                .arg("tries")
                .arg(1)
                // The code may have expired since it was read: the hash
                // HINCRBY made then must not stay forever.
                .cmd("EXPIRE")
                .arg(&code_key)
                .arg(ttl)
                .arg("NX")
                .ignore()
                .query(c)
        });
        let tries = tries.map_or(i64::from(max), |(t,)| t);
        if tries >= i64::from(max) {
            self.cache
                .run(|c| redis::cmd("DEL").arg(&code_key).query::<()>(c));
        }
        Err(wrong())
    }

    /// Uses the code up. False if another request used it first.
    pub(super) fn consume_code(&mut self, purpose: Purpose, email: &str) -> bool {
        let (code_key, _) = self.code_keys(purpose, email);
        self.cache
            .run(|c| redis::cmd("DEL").arg(&code_key).query::<i64>(c))
            == Some(1)
    }
}
