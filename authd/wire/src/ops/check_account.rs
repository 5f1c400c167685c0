//! `check_account`: mails a reset code when a username and an e-mail
//! belong to one account, answering the same either way.

use super::string;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` username, `str` e-mail, `str` client ip (for the per-address limits; empty when the
/// caller cannot know it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckAccount {
    pub username: String,
    pub email: String,
    pub ip: String,
}

impl Operation for CheckAccount {
    const OPCODE: Opcode = Opcode::CheckAccount;
    // A repeat would mail a second reset code.
    const REPEATABLE: bool = false;
    type Answer = ();
}

impl Message for CheckAccount {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.username).str(&self.email).str(&self.ip);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<CheckAccount, DecodeError> {
        Ok(CheckAccount {
            username: string(r)?,
            email: string(r)?,
            ip: string(r)?,
        })
    }
}
