//! authd's opcodes, in the range `0x10–0x7f` that `core/PROTOCOL.md`
//! reserves for it. `PROTOCOL.md` in this folder lists the same rows.

throng_core::code_table! {
    /// An authd operation. Frames carry the raw byte; [`Opcode::from_u8`]
    /// gives `None` for a byte authd does not serve (`unknown_opcode`).
    pub enum Opcode {
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
        Whoami = 0x1c, "whoami";
        LogoutEverywhere = 0x1d, "logout_everywhere";
        SecurityOverview = 0x1e, "security_overview";
        EndSession = 0x1f, "end_session";
        AdminOverview = 0x20, "admin_overview";
        AdminFindUsers = 0x21, "admin_find_users";
        AdminUser = 0x22, "admin_user";
        AdminLock = 0x23, "admin_lock";
        AdminEndSessions = 0x24, "admin_end_sessions";
        AdminSetRole = 0x25, "admin_set_role";
        AdminAudit = 0x26, "admin_audit";
        AdminInsight = 0x27, "admin_insight";
        OidcMetadata = 0x28, "oidc_metadata";
        OidcAuthorize = 0x29, "oidc_authorize";
        OidcToken = 0x2a, "oidc_token";
        OidcUserinfo = 0x2b, "oidc_userinfo";
        OidcIntrospect = 0x2c, "oidc_introspect";
        OidcRevoke = 0x2d, "oidc_revoke";
        OidcLogout = 0x2e, "oidc_logout";
        SsoStart = 0x2f, "sso_start";
        SsoFinish = 0x30, "sso_finish";
        SsoUnlink = 0x31, "sso_unlink";
    }
}
