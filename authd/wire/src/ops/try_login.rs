//! `try_login`: the least-loaded live massd node and a signed token for it.

use super::{secret, string};
use crate::{Message, Opcode, Operation, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` username, `str` password, `str` client ip (for the per-address
/// limit and the login record; empty when the caller cannot know it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLogin {
    pub username: String,
    pub password: Secret,
    pub ip: String,
}

/// `str` host, `u32` port, `str` token, `u64` expires (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTicket {
    pub host: String,
    pub port: u32,
    pub token: Secret,
    pub expires: u64,
}

impl Operation for TryLogin {
    const OPCODE: Opcode = Opcode::TryLogin;
    // A repeated sign-in makes one more session; the first expires unused.
    const REPEATABLE: bool = true;
    type Answer = NodeTicket;
}

impl Message for TryLogin {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.username)
            .str(self.password.as_str())
            .str(&self.ip);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<TryLogin, DecodeError> {
        Ok(TryLogin {
            username: string(r)?,
            password: secret(r)?,
            ip: string(r)?,
        })
    }
}

impl Message for NodeTicket {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.host)
            .u32(self.port)
            .str(self.token.as_str())
            .u64(self.expires);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<NodeTicket, DecodeError> {
        Ok(NodeTicket {
            host: string(r)?,
            port: r.u32()?,
            token: secret(r)?,
            expires: r.u64()?,
        })
    }
}
