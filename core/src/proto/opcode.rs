//! The opcode table. Each row is (value, name); `PROTOCOL.md` lists the same
//! rows and a test keeps them equal. Services add their opcodes here, in the
//! ranges the page reserves for them.

use std::fmt;

macro_rules! opcodes {
    ($($variant:ident = $value:literal, $name:literal;)*) => {
        /// A known opcode. Frames carry the raw byte; [`Opcode::from_u8`]
        /// turns it into this or `None` (answered with `unknown_opcode`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Opcode { $($variant = $value,)* }

        impl Opcode {
            /// Every opcode, in table order.
            pub const ALL: &'static [Opcode] = &[$(Opcode::$variant,)*];

            pub fn from_u8(value: u8) -> Option<Opcode> {
                match value { $($value => Some(Opcode::$variant),)* _ => None }
            }

            /// The name used in `PROTOCOL.md`, logs and metrics.
            pub fn name(self) -> &'static str {
                match self { $(Opcode::$variant => $name,)* }
            }
        }
    };
}

opcodes! {
    Ping = 0x01, "ping";
    Stats = 0x02, "stats";
    SignUp = 0x10, "sign_up";
    SignIn = 0x11, "sign_in";
    ValidateSession = 0x12, "validate_session";
    Logout = 0x13, "logout";
    Lookup = 0x14, "lookup";
    ChangeNickname = 0x15, "change_nickname";
    ChangeAvatar = 0x16, "change_avatar";
    RequestCode = 0x17, "request_code";
    Register = 0x18, "register";
    CheckAccount = 0x19, "check_account";
    ResetPassword = 0x1a, "reset_password";
    TryLogin = 0x1b, "try_login";
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
