//! The authorization endpoint in the browser (OpenID Connect Core 3.1.2):
//! `GET /oauth/authorize` asks authd to decide; a browser without a
//! session goes to the log-in page and comes back here; the consent page
//! posts its decision to `POST /oauth/authorize` with a CSRF token bound to
//! the session. The browser is sent back to the client only once authd has
//! matched the redirect URI exactly: for an unknown client or a redirect
//! URI not registered, the error is shown here and nobody is redirected
//! (RFC 6749 4.1.2.1: an open redirector otherwise).

use super::browser::{stop_page, BrowserRequest};
use super::OAuthCall;
use crate::http::{Head, Response};
use crate::pages::views::{self, render};
use crate::pages::{self, Pages, RequestCookies};
use authd_wire::ops::{Authorization, OidcAuthorize, PROMPT_CONSENT, PROMPT_NONE};
use authd_wire::{decode_answer, Request, Status};

/// The request parameters the consent form carries back.
const CARRIED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
];

/// What the answer needs of the request.
#[derive(Debug)]
pub struct Pending {
    redirect_uri: String,
    state: String,
    /// The query the log-in page returns to (without `prompt=login`).
    again: String,
    response_type_ok: bool,
    prompt_none: bool,
    /// The user pressed "deny" (authd only confirms the redirect URI).
    denied: bool,
    csrf: String,
    fields: Vec<(String, String)>,
}

/// Where the browser goes: `redirect_uri` with the parameters added to its
/// query (it may have one already).
fn back_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        query.append_pair(k, v);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    Response::new(303)
        .header(format!("Location: {redirect_uri}{sep}{}", query.finish()))
        .header("Cache-Control: no-store")
}

/// The authd call for an authorization request (GET) or a consent answer
/// (POST), or the page answering at once.
pub fn start(
    pages: &Pages,
    head: &Head<'_>,
    body: &[u8],
    cookies: &RequestCookies,
) -> Result<(Request, OAuthCall), Response> {
    let BrowserRequest {
        post,
        params,
        session,
        csrf,
    } = BrowserRequest::read(
        pages,
        head,
        body,
        cookies,
        "This sign-in request is not valid",
    )?;
    let (mut approved, mut denied) = (false, false);
    if post {
        match params.get("decision") {
            "allow" => approved = true,
            "deny" => denied = true,
            _ => {
                return Err(stop_page(
                    400,
                    "This form could not be read",
                    "Send it again.",
                ))
            }
        }
    }
    let prompt: Vec<&str> = params.get("prompt").split(' ').collect();
    let mut bits = 0;
    if prompt.contains(&"none") {
        bits |= PROMPT_NONE;
    }
    if prompt.contains(&"consent") {
        bits |= PROMPT_CONSENT;
    }
    // `prompt=login`: a fresh log-in, whatever session there is. The
    // page returns here without it, or it would ask for ever.
    let login_again = prompt.contains(&"login") && !post;
    let again: Vec<(&str, &str)> = params
        .pick(CARRIED)
        .into_iter()
        .filter(|(k, _)| *k != "prompt" || !login_again)
        .collect();
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &again {
        query.append_pair(k, v);
    }
    let token = if login_again { String::new() } else { session };
    let request = Request::OidcAuthorize(OidcAuthorize {
        token: token.into(),
        client_id: params.get("client_id").to_owned(),
        redirect_uri: params.get("redirect_uri").to_owned(),
        scope: params.get("scope").to_owned(),
        nonce: params.get("nonce").to_owned(),
        code_challenge: params.get("code_challenge").to_owned(),
        code_challenge_method: params.get("code_challenge_method").to_owned(),
        prompt: bits,
        approved,
    });
    Ok((
        request,
        OAuthCall::Authorize(Box::new(Pending {
            redirect_uri: params.get("redirect_uri").to_owned(),
            state: params.get("state").to_owned(),
            again: query.finish(),
            response_type_ok: params.get("response_type") == "code",
            prompt_none: bits & PROMPT_NONE != 0,
            denied,
            csrf,
            fields: params
                .pick(CARRIED)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        })),
    ))
}

/// What each scope lets an application see, for the consent page.
fn scope_lines(scope: &str) -> Vec<&'static str> {
    let mut lines = vec!["Who you are: an identifier of your account"];
    for s in scope.split(' ') {
        match s {
            "profile" => lines.push("Your username and nickname"),
            "email" => lines.push("Your e-mail address"),
            "offline_access" => lines.push("Access while you are away, until you sign out"),
            _ => {}
        }
    }
    lines
}

/// The origin (`scheme://host[:port]`) of a URI, when it has a plain one:
/// the consent form may be answered with a redirect there.
pub fn origin(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    let host_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = &uri[..uri.len() - rest.len() + host_len];
    origin
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-.:/[]".contains(&b))
        .then_some(origin)
}

pub fn finish(_: &Pages, p: Pending, status: u8, body: &[u8]) -> Response {
    let answer = match decode_answer::<OidcAuthorize>(status, body) {
        Ok(a) => a,
        Err(_) => return pages::busy(),
    };
    let error_back = |error: &str, description: &str| {
        back_to(
            &p.redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", &p.state),
            ],
        )
    };
    let refusal = match answer {
        Ok(outcome) => {
            if !p.response_type_ok {
                return error_back("unsupported_response_type", "response_type must be code");
            }
            if p.denied {
                return error_back("access_denied", "the user denied the request");
            }
            return match outcome {
                Authorization::Code(code) => back_to(
                    &p.redirect_uri,
                    &[("code", code.as_str()), ("state", &p.state)],
                ),
                Authorization::Consent { client_name, scope } => {
                    let html = render(&views::Consent {
                        csrf: &p.csrf,
                        client_name: &client_name,
                        redirect_uri: &p.redirect_uri,
                        scopes: scope_lines(&scope),
                        fields: p
                            .fields
                            .iter()
                            .map(|(k, v)| (k.as_str(), v.as_str()))
                            .collect(),
                    });
                    let csp = match origin(&p.redirect_uri) {
                        Some(o) => format!("Content-Security-Policy: default-src 'self'; img-src 'self'; form-action 'self' {o}; frame-ancestors 'none'"),
                        None => "Content-Security-Policy: default-src 'self'; form-action 'self'; frame-ancestors 'none'".into(),
                    };
                    pages::page_with_csp(200, html, &csp)
                }
            };
        }
        Err(refusal) => refusal,
    };
    let why = refusal.reason_text().unwrap_or("");
    match refusal.status {
        Status::InvalidClient => stop_page(
            400,
            "Unknown application",
            "The application that sent you here is not registered with Throng.",
        ),
        Status::InvalidRedirectUri => stop_page(
            400,
            "This sign-in request is not valid",
            "The application asked to send you to an address it has not registered. You were not sent there.",
        ),
        Status::Malformed => stop_page(400, "This sign-in request is not valid", "A parameter is malformed."),
        Status::OidcOff => stop_page(404, "Not found", "This server is no OpenID provider."),
        // From here on authd matched the redirect URI before refusing.
        Status::NoSession | Status::ConsentRequired | Status::InvalidScope | Status::InvalidRequest
            if !p.response_type_ok =>
        {
            error_back("unsupported_response_type", "response_type must be code")
        }
        Status::NoSession if p.prompt_none => error_back("login_required", "the user is not signed in"),
        Status::NoSession => {
            let next = format!("/oauth/authorize?{}", p.again);
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("next", &next);
            pages::redirect(&format!("/login?{}", q.finish()))
        }
        Status::ConsentRequired => error_back("consent_required", why),
        Status::InvalidScope => error_back("invalid_scope", why),
        Status::InvalidRequest => error_back("invalid_request", why),
        // Busy, unavailable, …: authd may not have matched the redirect
        // URI, so nobody is sent there.
        _ => stop_page(503, "Try again in a moment", "The server is busy."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_plain_uris_only() {
        assert_eq!(
            origin("https://app.example:8443/cb?x=1"),
            Some("https://app.example:8443")
        );
        assert_eq!(origin("http://127.0.0.1:9/cb"), Some("http://127.0.0.1:9"));
        assert_eq!(origin("https://a.example"), Some("https://a.example"));
        assert_eq!(origin("https://a.example;x/cb"), None);
        assert_eq!(origin("javascript:x"), None);
    }

    #[test]
    fn parameters_are_added_to_the_redirect_uris_own_query() {
        let r = back_to(
            "https://a.example/cb?x=1",
            &[("code", "c d"), ("state", "")],
        );
        assert!(r
            .headers
            .iter()
            .any(|h| h == "Location: https://a.example/cb?x=1&code=c+d"));
    }
}
