//! `change_nickname`: a session's user gets a new nickname.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` token, `str` nickname.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNickname {
    pub token: Secret,
    pub nickname: String,
}

impl Operation for ChangeNickname {
    const OPCODE: Opcode = Opcode::ChangeNickname;
    // A late copy of it, run after a newer change was acknowledged, would undo that change: sent again only if it never left.
    const REPEATABLE: bool = false;
    type Answer = ();
}

impl Message for ChangeNickname {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str()).str(&self.nickname);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<ChangeNickname, DecodeError> {
        Ok(ChangeNickname {
            token: secret(r)?,
            nickname: string(r)?,
        })
    }
}
