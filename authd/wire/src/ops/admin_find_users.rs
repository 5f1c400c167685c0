//! `admin_find_users`: accounts by username (exact, or those starting with
//! the query), e-mail address or uuid, at most 50, each as a [`UserRow`].
//! Needs `users.read`.

use super::{list, optional, put_list, string};
use crate::ops::Actor;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// The [`Actor`], `str` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminFindUsers {
    pub actor: Actor,
    pub query: String,
}

/// An account as the console lists it: `uuid` user, `str` username, `str`
/// nickname, `str`/`null` e-mail, `u64` created (unix ms), `bool` locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub user: [u8; 16],
    pub username: String,
    pub nickname: String,
    pub email: Option<String>,
    pub created_ms: u64,
    pub locked: bool,
}

/// `u32` n then n [`UserRow`]s.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FoundUsers {
    pub users: Vec<UserRow>,
}

impl Operation for AdminFindUsers {
    const OPCODE: Opcode = Opcode::AdminFindUsers;
    // A read (its audit line may be written twice).
    const REPEATABLE: bool = true;
    type Answer = FoundUsers;
}

impl Message for AdminFindUsers {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        self.actor.encode(w);
        w.str(&self.query);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AdminFindUsers, DecodeError> {
        Ok(AdminFindUsers {
            actor: Actor::decode(r)?,
            query: string(r)?,
        })
    }
}

impl Message for UserRow {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.uuid(self.user).str(&self.username).str(&self.nickname);
        match &self.email {
            Some(e) => w.str(e),
            None => w.null(),
        };
        w.u64(self.created_ms).bool(self.locked);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<UserRow, DecodeError> {
        Ok(UserRow {
            user: r.uuid()?,
            username: string(r)?,
            nickname: string(r)?,
            email: optional(r)?,
            created_ms: r.u64()?,
            locked: r.bool()?,
        })
    }
}

impl Message for FoundUsers {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        put_list(w, &self.users);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<FoundUsers, DecodeError> {
        Ok(FoundUsers { users: list(r)? })
    }
}
