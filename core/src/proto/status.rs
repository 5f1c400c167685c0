//! The status table: every way a request can end has its own code. Each row
//! is (value, name); `PROTOCOL.md` lists the same rows and a test keeps them
//! equal. Codes 0–31 are the protocol's own; services add theirs from 32 on.

use std::fmt;

macro_rules! statuses {
    ($($variant:ident = $value:literal, $name:literal;)*) => {
        /// A response status. Frames carry the raw byte; an unknown value on
        /// the client side is kept raw by the caller, never a panic.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Status { $($variant = $value,)* }

        impl Status {
            /// Every status, in table order.
            pub const ALL: &'static [Status] = &[$(Status::$variant,)*];

            pub fn from_u8(value: u8) -> Option<Status> {
                match value { $($value => Some(Status::$variant),)* _ => None }
            }

            /// The name used in `PROTOCOL.md`, logs and JSON answers.
            pub fn name(self) -> &'static str {
                match self { $(Status::$variant => $name,)* }
            }
        }
    };
}

statuses! {
    Ok = 0, "ok";
    Malformed = 1, "malformed";
    UnknownOpcode = 2, "unknown_opcode";
    Busy = 3, "busy";
    Unavailable = 4, "unavailable";
    Internal = 5, "internal";
    Timeout = 6, "timeout";
    FrameTooLarge = 7, "frame_too_large";
    UnsupportedVersion = 8, "unsupported_version";
    ShuttingDown = 9, "shutting_down";
    InvalidUsername = 32, "invalid_username";
    InvalidNickname = 33, "invalid_nickname";
    InvalidPassword = 34, "invalid_password";
    InvalidEmail = 35, "invalid_email";
    Taken = 36, "taken";
    EmailTaken = 37, "email_taken";
    BadCredentials = 38, "bad_credentials";
    TooManyAttempts = 39, "too_many_attempts";
    NoSession = 40, "no_session";
    NotFound = 41, "not_found";
    InvalidCode = 42, "invalid_code";
    TooManyCodes = 43, "too_many_codes";
    InvalidPhotoId = 44, "invalid_photo_id";
    NoNode = 45, "no_node";
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<&super::DecodeError> for Status {
    /// The status a server answers with before closing a connection whose
    /// stream failed to decode, or for a request whose body did not.
    fn from(err: &super::DecodeError) -> Status {
        use super::DecodeError as E;
        match err {
            E::FrameTooLarge { .. } => Status::FrameTooLarge,
            E::UnsupportedVersion(_) => Status::UnsupportedVersion,
            _ => Status::Malformed,
        }
    }
}
