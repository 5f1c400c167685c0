//! `admin_set_role`: grants a role to an account or revokes it. Needs
//! `roles.grant`. Every session of the account ends with the change, so
//! its next session starts with the new privileges.

use super::string;
use crate::ops::Actor;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// The [`Actor`], `uuid` user, `str` role, `bool` grant (false: revoke).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSetRole {
    pub actor: Actor,
    pub user: [u8; 16],
    pub role: String,
    pub grant: bool,
}

impl Operation for AdminSetRole {
    const OPCODE: Opcode = Opcode::AdminSetRole;
    // A late copy could undo a newer grant or revoke.
    const REPEATABLE: bool = false;
    type Answer = ();
}

impl Message for AdminSetRole {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        self.actor.encode(w);
        w.uuid(self.user).str(&self.role).bool(self.grant);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AdminSetRole, DecodeError> {
        Ok(AdminSetRole {
            actor: Actor::decode(r)?,
            user: r.uuid()?,
            role: string(r)?,
            grant: r.bool()?,
        })
    }
}
