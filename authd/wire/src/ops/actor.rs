//! Who asks for a privileged operation: the session token of the person at
//! the console and the address they are at. authd checks the session and
//! the permission the operation needs, and writes the address into the
//! audit log ("from where").

use super::{secret, string};
use crate::{Message, Secret};
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `str` token, `str` client ip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub token: Secret,
    pub ip: String,
}

impl Message for Actor {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.str(self.token.as_str()).str(&self.ip);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Actor, DecodeError> {
        Ok(Actor {
            token: secret(r)?,
            ip: string(r)?,
        })
    }
}
