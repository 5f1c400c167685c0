//! The provider's JSON endpoints, each one authd operation: discovery and
//! the JWKS (from `oidc_metadata`), the token endpoint, userinfo,
//! introspection and revocation. Errors are the JSON objects RFC 6749 5.2
//! names (`error`, `error_description`); answers that carry tokens are
//! never cached (`Cache-Control: no-store`).

use super::params::{bearer, Params};
use super::OAuthCall;
use crate::http::{Head, Response};
use authd_wire::ops::{
    Introspection, OidcIntrospect, OidcMetadata, OidcRevoke, OidcToken, OidcUserinfo,
    ProviderMetadata, Tokens, UserClaims,
};
use authd_wire::{decode_answer, Operation, Refusal, Request, Status};
use serde_json::{json, Value};

/// A JSON answer that no cache keeps.
pub fn json_answer(status: u16, value: &Value) -> Response {
    Response::new(status)
        .header("Content-Type: application/json")
        .header("Cache-Control: no-store")
        .header("Pragma: no-cache")
        .body(value.to_string())
}

/// An RFC 6749 5.2 error.
pub fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let body = if description.is_empty() {
        json!({ "error": error })
    } else {
        json!({ "error": error, "error_description": description })
    };
    let r = json_answer(status, &body);
    if error == "invalid_client" {
        r.header("WWW-Authenticate: Basic realm=\"throng\"")
    } else {
        r
    }
}

/// The OAuth error of an authd refusal: HTTP status, error code and the
/// description authd gave (never a secret).
pub fn error_of(refusal: &Refusal) -> Response {
    let why = refusal.reason_text().unwrap_or("");
    match refusal.status {
        Status::InvalidClient => oauth_error(401, "invalid_client", why),
        Status::InvalidGrant => oauth_error(400, "invalid_grant", why),
        Status::InvalidRequest => oauth_error(400, "invalid_request", why),
        Status::Malformed => oauth_error(400, "invalid_request", "a parameter is malformed"),
        Status::UnsupportedGrantType => oauth_error(400, "unsupported_grant_type", why),
        Status::InvalidScope => oauth_error(400, "invalid_scope", why),
        Status::InvalidToken => oauth_error(401, "invalid_token", why).header(format!(
            "WWW-Authenticate: Bearer error=\"invalid_token\", error_description=\"{}\"",
            why.replace('"', "'")
        )),
        Status::OidcOff => oauth_error(404, "not_found", "this server is no OpenID provider"),
        _ => unavailable(),
    }
}

pub fn unavailable() -> Response {
    oauth_error(503, "temporarily_unavailable", "try again in a moment").header("Retry-After: 1")
}

/// The answer of `O`, or the error response.
fn answer_of<O: Operation>(status: u8, body: &[u8]) -> Result<O::Answer, Response> {
    match decode_answer::<O>(status, body) {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(refusal)) => Err(error_of(&refusal)),
        Err(_) => Err(unavailable()),
    }
}

/// The call for a token request.
pub fn token(head: &Head<'_>, body: &[u8]) -> Result<(Request, OAuthCall), Response> {
    let params = form(body)?;
    let (client_id, client_secret) = params
        .client_credentials(head.authorization)
        .map_err(|e| oauth_error(400, "invalid_request", &e.describe()))?;
    let request = Request::OidcToken(OidcToken {
        client_id,
        client_secret: client_secret.into(),
        grant_type: params.get("grant_type").to_owned(),
        code: params.get("code").into(),
        redirect_uri: params.get("redirect_uri").to_owned(),
        code_verifier: params.get("code_verifier").into(),
        refresh_token: params.get("refresh_token").into(),
        scope: params.get("scope").to_owned(),
    });
    Ok((request, OAuthCall::Token))
}

/// The parameters of a form body, or the `invalid_request` answer.
fn form(body: &[u8]) -> Result<Params, Response> {
    Params::parse(body).map_err(|e| oauth_error(400, "invalid_request", &e.describe()))
}

pub fn finish_token(status: u8, body: &[u8]) -> Response {
    match answer_of::<OidcToken>(status, body) {
        Ok(Tokens {
            access_token,
            expires_in,
            id_token,
            refresh_token,
            scope,
        }) => {
            let mut out = json!({
                "access_token": access_token.as_str(),
                "token_type": "Bearer",
                "expires_in": expires_in,
                "refresh_token": refresh_token.as_str(),
                "scope": scope,
            });
            if !id_token.as_str().is_empty() {
                out["id_token"] = json!(id_token.as_str());
            }
            json_answer(200, &out)
        }
        Err(r) => r,
    }
}

/// The call for userinfo: the Bearer header, or (POST) `access_token` in
/// the body — not both (RFC 6750 2).
pub fn userinfo(head: &Head<'_>, body: &[u8]) -> Result<(Request, OAuthCall), Response> {
    let in_header = bearer(head.authorization);
    let params = form(body)?;
    let in_body = Some(params.get("access_token").to_owned()).filter(|t| !t.is_empty());
    let token = match (in_header, in_body) {
        (Some(t), None) | (None, Some(t)) => t,
        (Some(_), Some(_)) => {
            return Err(oauth_error(
                400,
                "invalid_request",
                "the access token came twice",
            ))
        }
        (None, None) => {
            return Err(json_answer(401, &json!({"error": "invalid_token"}))
                .header("WWW-Authenticate: Bearer realm=\"throng\""))
        }
    };
    Ok((
        Request::OidcUserinfo(OidcUserinfo {
            access_token: token.into(),
        }),
        OAuthCall::Userinfo,
    ))
}

pub fn finish_userinfo(status: u8, body: &[u8]) -> Response {
    match answer_of::<OidcUserinfo>(status, body) {
        Ok(UserClaims {
            sub,
            scope,
            username,
            nickname,
            updated_at: _,
            email,
            avatar: _,
        }) => {
            let has = |s: &str| scope.split(' ').any(|v| v == s);
            let mut out = json!({ "sub": sub });
            if has("profile") {
                out["name"] = json!(nickname);
                out["nickname"] = json!(nickname);
                out["preferred_username"] = json!(username);
            }
            if let Some(email) = email.filter(|_| has("email")) {
                out["email"] = json!(email);
                out["email_verified"] = json!(true);
            }
            json_answer(200, &out)
        }
        Err(r) => r,
    }
}

/// The call for introspection or revocation (both: a client and a token).
pub fn client_token(
    head: &Head<'_>,
    body: &[u8],
    revoke: bool,
) -> Result<(Request, OAuthCall), Response> {
    let params = form(body)?;
    let (client_id, client_secret) = params
        .client_credentials(head.authorization)
        .map_err(|e| oauth_error(400, "invalid_request", &e.describe()))?;
    let token = params.get("token");
    if token.is_empty() {
        return Err(oauth_error(400, "invalid_request", "token is missing"));
    }
    Ok(if revoke {
        (
            Request::OidcRevoke(OidcRevoke {
                client_id,
                client_secret: client_secret.into(),
                token: token.into(),
            }),
            OAuthCall::Revoke,
        )
    } else {
        (
            Request::OidcIntrospect(OidcIntrospect {
                client_id,
                client_secret: client_secret.into(),
                token: token.into(),
            }),
            OAuthCall::Introspect,
        )
    })
}

pub fn finish_introspect(status: u8, body: &[u8]) -> Response {
    match answer_of::<OidcIntrospect>(status, body) {
        Ok(Introspection { active: false, .. }) => json_answer(200, &json!({ "active": false })),
        Ok(i) => json_answer(
            200,
            &json!({
                "active": true,
                "scope": i.scope,
                "client_id": i.client_id,
                "sub": i.sub,
                "username": i.username,
                "token_type": i.token_type,
                "iat": i.iat,
                "exp": i.exp,
            }),
        ),
        Err(r) => r,
    }
}

pub fn finish_revoke(status: u8, body: &[u8]) -> Response {
    match answer_of::<OidcRevoke>(status, body) {
        Ok(()) => json_answer(200, &json!({})),
        Err(r) => r,
    }
}

/// Discovery (OpenID Connect Discovery 1.0) and the JWKS both come from
/// the issuer and keys authd holds.
pub fn finish_metadata(status: u8, body: &[u8], jwks: bool) -> Response {
    let ProviderMetadata { issuer, jwks: keys } = match answer_of::<OidcMetadata>(status, body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let public = |r: Response| {
        r.header("Access-Control-Allow-Origin: *")
            .header("Cache-Control: public, max-age=300")
    };
    if jwks {
        return public(
            Response::new(200)
                .header("Content-Type: application/jwk-set+json")
                .body(keys),
        );
    }
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "jwks_uri": format!("{issuer}/oauth/jwks"),
        "end_session_endpoint": format!("{issuer}/oauth/logout"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "name", "nickname", "preferred_username", "email", "email_verified"],
        "prompt_values_supported": ["none", "login", "consent"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    public(
        Response::new(200)
            .header("Content-Type: application/json")
            .body(doc.to_string()),
    )
}

/// The call for discovery or the JWKS.
pub fn metadata(jwks: bool) -> (Request, OAuthCall) {
    (
        Request::OidcMetadata(OidcMetadata),
        OAuthCall::Metadata { jwks },
    )
}
