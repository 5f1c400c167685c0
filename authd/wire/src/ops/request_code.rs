//! `request_code`: mails a six-digit code to an address.

use super::string;
use crate::{Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` e-mail, `str` client ip (for the per-address limits; empty when the
/// caller cannot know it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestCode {
    pub email: String,
    pub ip: String,
}

/// `u32` seconds the code lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSent {
    pub expires_in: u32,
}

impl Operation for RequestCode {
    const OPCODE: Opcode = Opcode::RequestCode;
    // A repeat would mail a second code and count twice against the allowance.
    const REPEATABLE: bool = false;
    type Answer = CodeSent;
}

impl Message for RequestCode {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.email).str(&self.ip);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<RequestCode, DecodeError> {
        Ok(RequestCode {
            email: string(r)?,
            ip: string(r)?,
        })
    }
}

impl Message for CodeSent {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.u32(self.expires_in);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<CodeSent, DecodeError> {
        Ok(CodeSent {
            expires_in: r.u32()?,
        })
    }
}
