//! `admin_lock`: locks an account (it cannot sign in, and every session of
//! it ends) or unlocks it. Needs `users.lock`.

use crate::ops::Actor;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// The [`Actor`], `uuid` user, `bool` locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminLock {
    pub actor: Actor,
    pub user: [u8; 16],
    pub locked: bool,
}

impl Operation for AdminLock {
    const OPCODE: Opcode = Opcode::AdminLock;
    // A late copy could undo a newer lock or unlock: sent again only if it
    // never left.
    const REPEATABLE: bool = false;
    type Answer = ();
}

impl Message for AdminLock {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        self.actor.encode(w);
        w.uuid(self.user).bool(self.locked);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AdminLock, DecodeError> {
        Ok(AdminLock {
            actor: Actor::decode(r)?,
            user: r.uuid()?,
            locked: r.bool()?,
        })
    }
}
