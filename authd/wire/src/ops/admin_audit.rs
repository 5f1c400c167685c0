//! `admin_audit`: the audit log, newest first, 50 entries before an id (0:
//! the newest). Needs `audit.read`.

use super::{list, put_list, string};
use crate::ops::Actor;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// The [`Actor`], `u64` before (an entry id; 0: from the newest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAudit {
    pub actor: Actor,
    pub before: u64,
}

/// One entry: `u64` id, `u64` at (unix ms), `str` actor, `str` action,
/// `str` target, `str` detail, `str` ip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: u64,
    pub at_ms: u64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
}

/// `u32` n then n [`AuditRow`]s.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditPage {
    pub entries: Vec<AuditRow>,
}

impl Operation for AdminAudit {
    const OPCODE: Opcode = Opcode::AdminAudit;
    // A read.
    const REPEATABLE: bool = true;
    type Answer = AuditPage;
}

impl Message for AdminAudit {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        self.actor.encode(w);
        w.u64(self.before);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AdminAudit, DecodeError> {
        Ok(AdminAudit {
            actor: Actor::decode(r)?,
            before: r.u64()?,
        })
    }
}

impl Message for AuditRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.u64(self.id)
            .u64(self.at_ms)
            .str(&self.actor)
            .str(&self.action)
            .str(&self.target)
            .str(&self.detail)
            .str(&self.ip);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AuditRow, DecodeError> {
        Ok(AuditRow {
            id: r.u64()?,
            at_ms: r.u64()?,
            actor: string(r)?,
            action: string(r)?,
            target: string(r)?,
            detail: string(r)?,
            ip: string(r)?,
        })
    }
}

impl Message for AuditPage {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        put_list(w, &self.entries);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AuditPage, DecodeError> {
        Ok(AuditPage { entries: list(r)? })
    }
}
