//! Any authd request, decoded by opcode: authd's dispatch. Adding an
//! operation adds its line to the table below.

use crate::ops::*;
use crate::{decode_prefix, Message, Opcode, Operation};
use throng_core::proto::{DecodeError, FieldWriter};

/// Why a request frame is not an authd request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// authd serves no operation with this opcode.
    UnknownOpcode(u8),
    /// The body is not the operation's fields.
    Malformed(DecodeError),
}

macro_rules! requests {
    ($($variant:ident),* $(,)?) => {
        /// One decoded authd request.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Request { $($variant($variant),)* }

        impl Request {
            /// The request in a frame with `opcode` and `body`; bytes left
            /// over after its fields are an error.
            pub fn decode(opcode: u8, body: &[u8]) -> Result<Request, RequestError> {
                match Request::decode_prefix(opcode, body)? {
                    (request, 0) => Ok(request),
                    (_, n) => Err(RequestError::Malformed(DecodeError::TrailingBytes(n))),
                }
            }

            /// The request at the start of a frame's body, and how many
            /// bytes follow its fields.
            pub fn decode_prefix(opcode: u8, body: &[u8]) -> Result<(Request, usize), RequestError> {
                match Opcode::from_u8(opcode) {
                    $(Some(Opcode::$variant) => decode_prefix::<$variant>(body)
                        .map(|(op, left)| (Request::$variant(op), left))
                        .map_err(RequestError::Malformed),)*
                    None => Err(RequestError::UnknownOpcode(opcode)),
                }
            }

            pub fn opcode(&self) -> Opcode {
                match self { $(Request::$variant(_) => <$variant as Operation>::OPCODE,)* }
            }

            /// [`Operation::REPEATABLE`] of this request's operation.
            pub fn repeatable(&self) -> bool {
                match self { $(Request::$variant(_) => <$variant as Operation>::REPEATABLE,)* }
            }

            /// The request's fields, for a frame with [`Request::opcode`].
            pub fn encode(&self, w: &mut FieldWriter<'_>) {
                match self { $(Request::$variant(op) => op.encode(w),)* }
            }
        }

        $(impl From<$variant> for Request {
            fn from(op: $variant) -> Request {
                Request::$variant(op)
            }
        })*
    };
}

requests! {
    SignUp,
    SignIn,
    ValidateSession,
    Logout,
    Lookup,
    ChangeNickname,
    ChangeAvatar,
    RequestCode,
    Register,
    CheckAccount,
    ResetPassword,
    TryLogin,
    Whoami,
    LogoutEverywhere,
    SecurityOverview,
    EndSession,
    AdminOverview,
    AdminFindUsers,
    AdminUser,
    AdminLock,
    AdminEndSessions,
    AdminSetRole,
    AdminAudit,
    AdminInsight,
    OidcMetadata,
    OidcAuthorize,
    OidcToken,
    OidcUserinfo,
    OidcIntrospect,
    OidcRevoke,
    OidcLogout,
    SsoStart,
    SsoFinish,
    SsoUnlink,
}
