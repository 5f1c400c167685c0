//! `admin_insight`: the behaviour analysis, read from the rollups the
//! login-record writer keeps (never from the records whole). For one hour:
//! per username attempts, successes and distinct addresses; the addresses
//! with the most failures; credential-stuffing signs (one address, many
//! usernames; one username, many addresses). Over the last `hours` hours:
//! sign-ins by country, browser, platform, referring page and hour, and
//! how long sessions lasted. Needs `insight.read`.

use super::{list, put_list, string};
use crate::ops::Actor;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// The [`Actor`], `u32` hours (1–168), `u64` hour (hours since the epoch)
/// of the per-username and per-address lists (0: the current hour).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminInsight {
    pub actor: Actor,
    pub hours: u32,
    pub hour: u64,
}

/// A username in the window: `str` username, `u32` attempts, `u32`
/// successes, `u32` distinct client addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernameRow {
    pub username: String,
    pub attempts: u32,
    pub successes: u32,
    pub addresses: u32,
}

/// A client address in the window: `str` ip, `u32` attempts, `u32`
/// failures, `u32` distinct usernames tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRow {
    pub ip: String,
    pub attempts: u32,
    pub failures: u32,
    pub usernames: u32,
}

/// Sign-ins by one value of a dimension: `str` dimension (`country`,
/// `browser`, `platform`, `referrer`), `str` value, `u32` sign-ins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionRow {
    pub dimension: String,
    pub value: String,
    pub signins: u32,
}

/// One hour: `u64` hour (hours since the epoch), `u32` attempts, `u32`
/// successes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourRow {
    pub hour: u64,
    pub attempts: u32,
    pub successes: u32,
}

/// Sessions that ended in the window and lasted at most `bucket_s` (and
/// more than the bucket before): `u32` bucket (s), `u32` sessions, `u64`
/// their total seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLengthRow {
    pub bucket_s: u32,
    pub sessions: u32,
    pub seconds: u64,
}

/// `u32` hours, `u64` first hour of the window, `u64` the hour of the
/// lists; then lists of [`UsernameRow`] (the most attempted),
/// [`AddressRow`] (the most failing), [`AddressRow`] (one address, many
/// usernames), [`UsernameRow`] (one username, many addresses),
/// [`DimensionRow`], [`HourRow`], [`SessionLengthRow`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Insight {
    pub hours: u32,
    pub from_hour: u64,
    pub hour: u64,
    pub usernames: Vec<UsernameRow>,
    pub failing_addresses: Vec<AddressRow>,
    pub stuffing_addresses: Vec<AddressRow>,
    pub stuffed_usernames: Vec<UsernameRow>,
    pub dimensions: Vec<DimensionRow>,
    pub by_hour: Vec<HourRow>,
    pub session_lengths: Vec<SessionLengthRow>,
}

impl Operation for AdminInsight {
    const OPCODE: Opcode = Opcode::AdminInsight;
    // A read.
    const REPEATABLE: bool = true;
    type Answer = Insight;
}

impl Message for AdminInsight {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        self.actor.encode(w);
        w.u32(self.hours).u64(self.hour);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AdminInsight, DecodeError> {
        Ok(AdminInsight {
            actor: Actor::decode(r)?,
            hours: r.u32()?,
            hour: r.u64()?,
        })
    }
}

impl Message for UsernameRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.username)
            .u32(self.attempts)
            .u32(self.successes)
            .u32(self.addresses);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<UsernameRow, DecodeError> {
        Ok(UsernameRow {
            username: string(r)?,
            attempts: r.u32()?,
            successes: r.u32()?,
            addresses: r.u32()?,
        })
    }
}

impl Message for AddressRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.ip)
            .u32(self.attempts)
            .u32(self.failures)
            .u32(self.usernames);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AddressRow, DecodeError> {
        Ok(AddressRow {
            ip: string(r)?,
            attempts: r.u32()?,
            failures: r.u32()?,
            usernames: r.u32()?,
        })
    }
}

impl Message for DimensionRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.dimension).str(&self.value).u32(self.signins);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<DimensionRow, DecodeError> {
        Ok(DimensionRow {
            dimension: string(r)?,
            value: string(r)?,
            signins: r.u32()?,
        })
    }
}

impl Message for HourRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.u64(self.hour).u32(self.attempts).u32(self.successes);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<HourRow, DecodeError> {
        Ok(HourRow {
            hour: r.u64()?,
            attempts: r.u32()?,
            successes: r.u32()?,
        })
    }
}

impl Message for SessionLengthRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.u32(self.bucket_s).u32(self.sessions).u64(self.seconds);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<SessionLengthRow, DecodeError> {
        Ok(SessionLengthRow {
            bucket_s: r.u32()?,
            sessions: r.u32()?,
            seconds: r.u64()?,
        })
    }
}

impl Message for Insight {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.u32(self.hours).u64(self.from_hour).u64(self.hour);
        put_list(w, &self.usernames);
        put_list(w, &self.failing_addresses);
        put_list(w, &self.stuffing_addresses);
        put_list(w, &self.stuffed_usernames);
        put_list(w, &self.dimensions);
        put_list(w, &self.by_hour);
        put_list(w, &self.session_lengths);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Insight, DecodeError> {
        Ok(Insight {
            hours: r.u32()?,
            from_hour: r.u64()?,
            hour: r.u64()?,
            usernames: list(r)?,
            failing_addresses: list(r)?,
            stuffing_addresses: list(r)?,
            stuffed_usernames: list(r)?,
            dimensions: list(r)?,
            by_hour: list(r)?,
            session_lengths: list(r)?,
        })
    }
}
