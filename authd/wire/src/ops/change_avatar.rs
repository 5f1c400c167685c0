//! `change_avatar`: a session's user gets a stored picture as avatar.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` token, `str` photo id (64 lowercase hex digits, a SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeAvatar {
    pub token: Secret,
    pub photo: String,
}

impl Operation for ChangeAvatar {
    const OPCODE: Opcode = Opcode::ChangeAvatar;
    // A late copy of it, run after a newer change was acknowledged, would undo that change: sent again only if it never left.
    const REPEATABLE: bool = false;
    type Answer = ();
}

impl Message for ChangeAvatar {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str()).str(&self.photo);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<ChangeAvatar, DecodeError> {
        Ok(ChangeAvatar {
            token: secret(r)?,
            photo: string(r)?,
        })
    }
}
