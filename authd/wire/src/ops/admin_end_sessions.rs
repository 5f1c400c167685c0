//! `admin_end_sessions`: ends one session of an account (by its id in the
//! session index) or, with id 0, every session of it. Needs
//! `sessions.revoke`.

use crate::ops::Actor;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// The [`Actor`], `uuid` user, `u64` session (0: all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminEndSessions {
    pub actor: Actor,
    pub user: [u8; 16],
    pub session: u64,
}

impl Operation for AdminEndSessions {
    const OPCODE: Opcode = Opcode::AdminEndSessions;
    // A late copy of "end all" would end sessions made since: sent again
    // only if it never left.
    const REPEATABLE: bool = false;
    type Answer = ();
}

impl Message for AdminEndSessions {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        self.actor.encode(w);
        w.uuid(self.user).u64(self.session);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<AdminEndSessions, DecodeError> {
        Ok(AdminEndSessions {
            actor: Actor::decode(r)?,
            user: r.uuid()?,
            session: r.u64()?,
        })
    }
}
