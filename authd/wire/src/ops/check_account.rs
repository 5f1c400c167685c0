//! `check_account`: mails a reset code when a username and an e-mail
//! belong to one account, answering the same either way.

use super::string;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` username, `str` e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckAccount {
    pub username: String,
    pub email: String,
}

impl Operation for CheckAccount {
    const OPCODE: Opcode = Opcode::CheckAccount;
    type Answer = ();
}

impl Message for CheckAccount {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.username).str(&self.email);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<CheckAccount, DecodeError> {
        Ok(CheckAccount {
            username: string(r)?,
            email: string(r)?,
        })
    }
}
