//! `admin_user`: one account for the console: its row, its roles and its
//! [`History`] (recent sign-ins, open sessions). Needs `users.read`.

use super::{list, put_list};
use crate::ops::{Actor, History, UserRow};
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// The [`Actor`], `uuid` user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser {
    pub actor: Actor,
    pub user: [u8; 16],
}

/// The [`UserRow`], `u32` n then n `str` roles it holds, the [`History`],
/// then for the console's forms `u32` k then k `str` roles there are and
/// `u32` m then m `str` permissions the caller holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetail {
    pub user: UserRow,
    pub roles: Vec<String>,
    pub history: History,
    pub all_roles: Vec<String>,
    pub caller_permissions: Vec<String>,
}

impl Operation for AdminUser {
    const OPCODE: Opcode = Opcode::AdminUser;
    // A read.
    const REPEATABLE: bool = true;
    type Answer = UserDetail;
}

impl Message for AdminUser {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        self.actor.encode(w);
        w.uuid(self.user);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AdminUser, DecodeError> {
        Ok(AdminUser {
            actor: Actor::decode(r)?,
            user: r.uuid()?,
        })
    }
}

impl Message for UserDetail {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        self.user.encode(w);
        put_list(w, &self.roles);
        self.history.encode(w);
        put_list(w, &self.all_roles);
        put_list(w, &self.caller_permissions);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<UserDetail, DecodeError> {
        Ok(UserDetail {
            user: UserRow::decode(r)?,
            roles: list(r)?,
            history: History::decode(r)?,
            all_roles: list(r)?,
            caller_permissions: list(r)?,
        })
    }
}
