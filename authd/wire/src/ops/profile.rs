//! A user's public profile as `sign_in` and `validate_session` answer it.

use super::{optional, string};
use crate::Message;
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// `uuid` user, `str` username, `str` nickname, `str`/`null` avatar, `u32`
/// permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub user: [u8; 16],
    pub username: String,
    pub nickname: String,
    /// The avatar's photo id, once one was uploaded.
    pub avatar: Option<String>,
    /// The bits of the [`crate::ops::Permission`]s the account's roles
    /// give, for a caller deciding what to show; authd checks each
    /// privileged operation itself.
    pub permissions: u32,
}

impl Message for Profile {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        w.uuid(self.user).str(&self.username).str(&self.nickname);
        match &self.avatar {
            Some(a) => w.str(a),
            None => w.null(),
        };
        w.u32(self.permissions);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Profile, DecodeError> {
        Ok(Profile {
            user: r.uuid()?,
            username: string(r)?,
            nickname: string(r)?,
            avatar: optional(r)?,
            permissions: r.u32()?,
        })
    }
}
