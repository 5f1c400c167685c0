//! The macros that define a code table: an enum of one-byte codes, each
//! with the name `PROTOCOL.md`, logs and metrics use. The protocol's own
//! opcodes and statuses are defined with them here, and each service that
//! speaks the protocol defines its own with them in its wire crate (authd's
//! in `authd-wire`), so the ground floor knows no service's business.

/// Defines `enum $Name` of one-byte codes with `ALL`, `from_u8`, `name`,
/// `Display` and `From<$Name> for u8`.
#[macro_export]
macro_rules! code_table {
    ($(#[$meta:meta])* $vis:vis enum $Name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $value:literal, $name:literal;)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        $vis enum $Name { $($(#[$vmeta])* $variant = $value,)* }

        impl $Name {
            /// Every code, in table order.
            pub const ALL: &'static [$Name] = &[$($Name::$variant,)*];

            /// The code of `value`, or `None` for a byte this table lacks.
            pub fn from_u8(value: u8) -> Option<$Name> {
                match value { $($value => Some($Name::$variant),)* _ => None }
            }

            /// The name used in `PROTOCOL.md`, logs, metrics and JSON answers.
            pub fn name(self) -> &'static str {
                match self { $($Name::$variant => $name,)* }
            }

            /// `(code, name)` of every row, as the page's table lists them.
            pub fn rows() -> Vec<(u8, String)> {
                Self::ALL.iter().map(|c| (*c as u8, c.name().to_owned())).collect()
            }
        }

        impl ::std::fmt::Display for $Name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl From<$Name> for u8 {
            fn from(code: $Name) -> u8 {
                code as u8
            }
        }
    };
}

/// Defines a service's status table: the protocol's own statuses (0–31,
/// those of [`crate::proto::Status`], with the same variants and values)
/// followed by the service's, from 32 on. One enum lets a service's callers
/// match every status a request can end with, and the protocol rows are
/// written once, here.
#[macro_export]
macro_rules! status_table {
    ($(#[$meta:meta])* $vis:vis enum $Name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $value:literal, $name:literal;)*
    }) => {
        $crate::code_table! {
            $(#[$meta])* $vis enum $Name {
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
                Unauthenticated = 10, "unauthenticated";
                $($(#[$vmeta])* $variant = $value, $name;)*
            }
        }

        impl $Name {
            /// The same status as this table's row (the protocol's rows are
            /// in every service's table).
            pub fn from_protocol(status: $crate::proto::Status) -> $Name {
                match $Name::from_u8(status as u8) {
                    Some(s) => s,
                    None => unreachable!("status_table! holds every protocol status"),
                }
            }

            /// True for the protocol's own statuses (0–31).
            pub fn is_protocol(self) -> bool {
                (self as u8) < 32
            }
        }
    };
}
