//! `lookup`: a user's public names and avatar by uuid.

use super::{optional, string};
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `uuid` user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub user: [u8; 16],
}

/// `str` username, `str` nickname, `str`/`null` avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookedUp {
    pub username: String,
    pub nickname: String,
    pub avatar: Option<String>,
}

impl Operation for Lookup {
    const OPCODE: Opcode = Opcode::Lookup;
    // A read.
    const REPEATABLE: bool = true;
    type Answer = LookedUp;
}

impl Message for Lookup {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.uuid(self.user);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Lookup, DecodeError> {
        Ok(Lookup { user: r.uuid()? })
    }
}

impl Message for LookedUp {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.username).str(&self.nickname);
        match &self.avatar {
            Some(a) => w.str(a),
            None => w.null(),
        };
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<LookedUp, DecodeError> {
        Ok(LookedUp {
            username: string(r)?,
            nickname: string(r)?,
            avatar: optional(r)?,
        })
    }
}
