//! One file per authd operation: its request type and its `ok` answer
//! type, each with `encode` and `decode` side by side, so the order of
//! fields is written once for authd and every caller.

mod actor;
mod admin_audit;
mod admin_end_sessions;
mod admin_find_users;
mod admin_insight;
mod admin_lock;
mod admin_overview;
mod admin_set_role;
mod admin_user;
mod change_avatar;
mod change_nickname;
mod check_account;
mod end_session;
mod history;
mod logout;
mod logout_everywhere;
mod lookup;
mod oidc_authorize;
mod oidc_introspect;
mod oidc_logout;
mod oidc_metadata;
mod oidc_revoke;
mod oidc_token;
mod oidc_userinfo;
mod permission;
mod profile;
mod register;
mod request_code;
mod reset_password;
mod security_overview;
mod sign_in;
mod sign_up;
mod sso_finish;
mod sso_start;
mod sso_unlink;
mod try_login;
mod validate_session;
mod whoami;

pub use actor::Actor;
pub use admin_audit::{AdminAudit, AuditPage, AuditRow};
pub use admin_end_sessions::AdminEndSessions;
pub use admin_find_users::{AdminFindUsers, FoundUsers, UserRow};
pub use admin_insight::{
    AddressRow, AdminInsight, DimensionRow, HourRow, Insight, SessionLengthRow, UsernameRow,
};
pub use admin_lock::AdminLock;
pub use admin_overview::{AdminOverview, Console, RoleRow};
pub use admin_set_role::AdminSetRole;
pub use admin_user::{AdminUser, UserDetail};
pub use change_avatar::ChangeAvatar;
pub use change_nickname::ChangeNickname;
pub use check_account::CheckAccount;
pub use end_session::EndSession;
pub use history::{History, IdentityRow, SessionRow, SignInRow};
pub use logout::Logout;
pub use logout_everywhere::LogoutEverywhere;
pub use lookup::{LookedUp, Lookup};
pub use oidc_authorize::{Authorization, OidcAuthorize, PROMPT_CONSENT, PROMPT_NONE};
pub use oidc_introspect::{Introspection, OidcIntrospect};
pub use oidc_logout::{LoggedOut, OidcLogout};
pub use oidc_metadata::{OidcMetadata, ProviderMetadata};
pub use oidc_revoke::OidcRevoke;
pub use oidc_token::{OidcToken, Tokens};
pub use oidc_userinfo::{OidcUserinfo, UserClaims};
pub use permission::{warnings, Permission};
pub use profile::Profile;
pub use register::{Register, Registered};
pub use request_code::{CodeSent, RequestCode};
pub use reset_password::ResetPassword;
pub use security_overview::SecurityOverview;
pub use sign_in::{SignIn, SignedIn};
pub use sign_up::{SignUp, SignedUp};
pub use sso_finish::{
    SsoFinish, SsoFinished, SSO_LINKED, SSO_PASSWORD_NEEDED, SSO_PASSWORD_TO_LINK, SSO_SIGNED_IN,
};
pub use sso_start::{SsoRedirect, SsoStart};
pub use sso_unlink::SsoUnlink;
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

/// A list: `u32` count, then that many items. The count is only a claim:
/// room is made for what a frame can hold at most, an item that is not
/// there is a typed error, and a body that runs out ends the loop at once
/// (no item is made of nothing).
fn list<T: crate::Message>(r: &mut FieldReader<'_>) -> Result<Vec<T>, DecodeError> {
    let n = r.u32()?;
    let mut out = Vec::with_capacity((n as usize).min(64));
    for _ in 0..n {
        if r.is_empty() {
            return Err(DecodeError::MissingField(
                throng_core::proto::FieldType::Str,
            ));
        }
        out.push(T::decode(r)?);
    }
    Ok(out)
}

/// Writes a list as [`list`] reads it.
fn put_list<T: crate::Message>(w: &mut throng_core::proto::FieldWriter<'_>, items: &[T]) {
    w.u32(u32::try_from(items.len()).unwrap_or(u32::MAX));
    for item in items {
        item.encode(w);
    }
}

/// A list of strings (as [`list`]).
impl crate::Message for String {
    fn encode(&self, w: &mut throng_core::proto::FieldWriter<'_>) {
        w.str(self);
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<String, DecodeError> {
        string(r)
    }
}

/// A string or `null` field.
fn optional(r: &mut FieldReader<'_>) -> Result<Option<String>, DecodeError> {
    r.opt_str().map(|s| s.map(str::to_owned))
}
