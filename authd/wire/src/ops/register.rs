//! `register`: the gateway's sign-up, proven by a mailed code.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` username, `str` password, `str` e-mail, `str` code, `str` client ip (for the per-address limits; empty when the
/// caller cannot know it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub username: String,
    pub password: Secret,
    pub email: String,
    pub code: Secret,
    pub ip: String,
}

/// `uuid` of the new user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub user: [u8; 16],
}

impl Operation for Register {
    const OPCODE: Opcode = Opcode::Register;
    // A second try of a registration that went through says the name is taken.
    const REPEATABLE: bool = false;
    type Answer = Registered;
}

impl Message for Register {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.username)
            .str(self.password.as_str())
            .str(&self.email)
            .str(self.code.as_str())
            .str(&self.ip);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Register, DecodeError> {
        Ok(Register {
            username: string(r)?,
            password: secret(r)?,
            email: string(r)?,
            code: secret(r)?,
            ip: string(r)?,
        })
    }
}

impl Message for Registered {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.uuid(self.user);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Registered, DecodeError> {
        Ok(Registered { user: r.uuid()? })
    }
}
