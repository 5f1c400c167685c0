//! `admin_overview`: what the console may show its user: the permissions
//! the caller holds (through its roles) and the roles there are. Refused
//! `forbidden` to an account with no permission at all.

use super::{list, put_list};
use crate::ops::Actor;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// The [`Actor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminOverview {
    pub actor: Actor,
}

/// `u32` n then n `str` permissions held, `u32` m then m [`RoleRow`]s.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Console {
    pub permissions: Vec<String>,
    pub roles: Vec<RoleRow>,
}

/// A role: `str` name, `str` description, `bool` built in, `u32` n then n
/// `str` permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
}

impl Operation for AdminOverview {
    const OPCODE: Opcode = Opcode::AdminOverview;
    // A read.
    const REPEATABLE: bool = true;
    type Answer = Console;
}

impl Message for AdminOverview {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        self.actor.encode(w);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AdminOverview, DecodeError> {
        Ok(AdminOverview {
            actor: Actor::decode(r)?,
        })
    }
}

impl Message for Console {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        put_list(w, &self.permissions);
        put_list(w, &self.roles);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Console, DecodeError> {
        Ok(Console {
            permissions: list(r)?,
            roles: list(r)?,
        })
    }
}

impl Message for RoleRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.name).str(&self.description).bool(self.builtin);
        put_list(w, &self.permissions);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<RoleRow, DecodeError> {
        Ok(RoleRow {
            name: super::string(r)?,
            description: super::string(r)?,
            builtin: r.bool()?,
            permissions: list(r)?,
        })
    }
}
