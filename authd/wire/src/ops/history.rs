//! The rows of an account's history, as `security_overview` and
//! `admin_user` answer them: its recent sign-in attempts, its sessions and
//! the identities at other providers linked to it.
//! Browser and platform are parsed from the User-Agent by authd, so every
//! caller shows the same names.

use super::string;
use crate::Message;
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// One sign-in attempt: `u64` at (unix ms), `str` ip, `str` country (ISO
/// code, empty when unknown), `str` city, `str` browser, `str` platform,
/// `str` result, `u32` warnings ([`crate::ops::Warnings`] bits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRow {
    pub at_ms: u64,
    pub ip: String,
    pub country: String,
    pub city: String,
    pub browser: String,
    pub platform: String,
    pub result: String,
    pub warnings: u32,
}

impl Message for SignInRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.u64(self.at_ms)
            .str(&self.ip)
            .str(&self.country)
            .str(&self.city)
            .str(&self.browser)
            .str(&self.platform)
            .str(&self.result)
            .u32(self.warnings);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SignInRow, DecodeError> {
        Ok(SignInRow {
            at_ms: r.u64()?,
            ip: string(r)?,
            country: string(r)?,
            city: string(r)?,
            browser: string(r)?,
            platform: string(r)?,
            result: string(r)?,
            warnings: r.u32()?,
        })
    }
}

/// One open session: `u64` id (its row in the session index), `u64`
/// created (unix ms), `u64` last seen (unix ms), `str` ip, `str` country,
/// `str` city, `str` browser, `str` platform, `bool` current (the session
/// that asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: u64,
    pub created_ms: u64,
    pub last_seen_ms: u64,
    pub ip: String,
    pub country: String,
    pub city: String,
    pub browser: String,
    pub platform: String,
    pub current: bool,
}

impl Message for SessionRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.u64(self.id)
            .u64(self.created_ms)
            .u64(self.last_seen_ms)
            .str(&self.ip)
            .str(&self.country)
            .str(&self.city)
            .str(&self.browser)
            .str(&self.platform)
            .bool(self.current);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SessionRow, DecodeError> {
        Ok(SessionRow {
            id: r.u64()?,
            created_ms: r.u64()?,
            last_seen_ms: r.u64()?,
            ip: string(r)?,
            country: string(r)?,
            city: string(r)?,
            browser: string(r)?,
            platform: string(r)?,
            current: r.bool()?,
        })
    }
}

/// An identity at another OpenID provider linked to the account: `u64`
/// id, `str` provider id, `str` e-mail it came with (empty: none), `u64`
/// linked at (unix ms), `bool` it made the account (then it cannot be
/// unlinked: the account has no password anyone knows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRow {
    pub id: u64,
    pub provider: String,
    pub email: String,
    pub linked_ms: u64,
    pub made_account: bool,
}

impl Message for IdentityRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.u64(self.id)
            .str(&self.provider)
            .str(&self.email)
            .u64(self.linked_ms)
            .bool(self.made_account);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<IdentityRow, DecodeError> {
        Ok(IdentityRow {
            id: r.u64()?,
            provider: string(r)?,
            email: string(r)?,
            linked_ms: r.u64()?,
            made_account: r.bool()?,
        })
    }
}

/// An account's history: `u32` n then n [`SignInRow`]s, `u32` m then m
/// [`SessionRow`]s, `u32` k then k [`IdentityRow`]s.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct History {
    pub sign_ins: Vec<SignInRow>,
    pub sessions: Vec<SessionRow>,
    pub identities: Vec<IdentityRow>,
}

impl Message for History {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        super::put_list(w, &self.sign_ins);
        super::put_list(w, &self.sessions);
        super::put_list(w, &self.identities);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<History, DecodeError> {
        Ok(History {
            sign_ins: super::list(r)?,
            sessions: super::list(r)?,
            identities: super::list(r)?,
        })
    }
}
