//! `reset_password`: a new password, proven by a mailed code.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` e-mail, `str` code, `str` new password, `str` client ip (for the per-address limits; empty when the
/// caller cannot know it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetPassword {
    pub email: String,
    pub code: Secret,
    pub password: Secret,
    pub ip: String,
}

impl Operation for ResetPassword {
    const OPCODE: Opcode = Opcode::ResetPassword;
    // The code is used up by the first try: a repeat would be refused.
    const REPEATABLE: bool = false;
    type Answer = ();
}

impl Message for ResetPassword {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.email)
            .str(self.code.as_str())
            .str(self.password.as_str())
            .str(&self.ip);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<ResetPassword, DecodeError> {
        Ok(ResetPassword {
            email: string(r)?,
            code: secret(r)?,
            password: secret(r)?,
            ip: string(r)?,
        })
    }
}
