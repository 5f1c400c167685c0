//! One file per authd operation: its request type and its `ok` answer
//! type, each with `encode` and `decode` side by side, so the order of
//! fields is written once for authd and every caller.

mod change_avatar;
mod change_nickname;
mod check_account;
mod logout;
mod logout_everywhere;
mod lookup;
mod profile;
mod register;
mod request_code;
mod reset_password;
mod sign_in;
mod sign_up;
mod try_login;
mod validate_session;
mod whoami;

pub use change_avatar::ChangeAvatar;
pub use change_nickname::ChangeNickname;
pub use check_account::CheckAccount;
pub use logout::Logout;
pub use logout_everywhere::LogoutEverywhere;
pub use lookup::{LookedUp, Lookup};
pub use profile::Profile;
pub use register::{Register, Registered};
pub use request_code::{CodeSent, RequestCode};
pub use reset_password::ResetPassword;
pub use sign_in::{SignIn, SignedIn};
pub use sign_up::{SignUp, SignedUp};
pub use try_login::{NodeTicket, TryLogin};
pub use validate_session::ValidateSession;
pub use whoami::{Identity, Whoami};

use crate::Secret;
use throng_core::proto::{DecodeError, FieldReader};

/// An owned string field.
fn string(r: &mut FieldReader<'_>) -> Result<String, DecodeError> {
    r.str().map(str::to_owned)
}

/// A secret string field.
fn secret(r: &mut FieldReader<'_>) -> Result<Secret, DecodeError> {
    r.str().map(|s| Secret(s.to_owned()))
}

/// A string or `null` field.
fn optional(r: &mut FieldReader<'_>) -> Result<Option<String>, DecodeError> {
    r.opt_str().map(|s| s.map(str::to_owned))
}
