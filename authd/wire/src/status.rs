//! authd's statuses: the protocol's own (0–31) and authd's (32 on), one
//! table so a caller matches every way a request can end. Every failure a
//! client can see has its own code; `PROTOCOL.md` in this folder lists them.

throng_core::status_table! {
    /// How an authd request ended.
    pub enum Status {
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
        Forbidden = 46, "forbidden";
        AccountLocked = 47, "account_locked";
        UnknownRole = 48, "unknown_role";
        InvalidQuery = 49, "invalid_query";
        InvalidClient = 50, "invalid_client";
        InvalidGrant = 51, "invalid_grant";
        InvalidRequest = 52, "invalid_request";
        UnsupportedGrantType = 53, "unsupported_grant_type";
        InvalidScope = 54, "invalid_scope";
        InvalidRedirectUri = 55, "invalid_redirect_uri";
        ConsentRequired = 56, "consent_required";
        InvalidToken = 57, "invalid_token";
        OidcOff = 58, "oidc_off";
    }
}

impl From<throng_core::proto::Status> for Status {
    fn from(status: throng_core::proto::Status) -> Status {
        Status::from_protocol(status)
    }
}
