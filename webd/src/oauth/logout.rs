//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at
//! `/oauth/logout`. authd ends the browser's Throng session — and every
//! grant made in it, each client told by back-channel logout — when an ID
//! token hint names that very session; otherwise the user confirms on a
//! page of ours first (a POST with a CSRF token), since a link on any site
//! could otherwise sign them out. The browser returns to the client only
//! to a post-logout URI registered for it.

use super::browser::{stop_page, BrowserRequest};
use super::OAuthCall;
use crate::http::{Head, Response};
use crate::pages::views::{self, render};
use crate::pages::{self, clear_session_cookie, Pages, RequestCookies};
use authd_wire::ops::{LoggedOut, OidcLogout};
use authd_wire::{decode_answer, Request, Status};

const CARRIED: &[&str] = &[
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
];

#[derive(Debug)]
pub struct Pending {
    state: String,
    csrf: String,
    fields: Vec<(String, String)>,
}

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
        "This sign-out request is not valid",
    )?;
    Ok((
        Request::OidcLogout(OidcLogout {
            token: session.into(),
            id_token_hint: params.get("id_token_hint").into(),
            client_id: params.get("client_id").to_owned(),
            post_logout_redirect_uri: params.get("post_logout_redirect_uri").to_owned(),
            confirmed: post,
        }),
        OAuthCall::Logout(Box::new(Pending {
            state: params.get("state").to_owned(),
            csrf,
            fields: params
                .pick(CARRIED)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        })),
    ))
}

pub fn finish(pages: &Pages, p: Pending, status: u8, body: &[u8]) -> Response {
    let secure = pages.secure_cookies;
    match decode_answer::<OidcLogout>(status, body) {
        Ok(Ok(LoggedOut {
            ended: false,
            redirect,
        })) => {
            let html = render(&views::LogoutConfirm {
                csrf: &p.csrf,
                fields: p
                    .fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            });
            let csp = match super::authorize::origin(&redirect) {
                Some(o) => format!("Content-Security-Policy: default-src 'self'; form-action 'self' {o}; frame-ancestors 'none'"),
                None => "Content-Security-Policy: default-src 'self'; form-action 'self'; frame-ancestors 'none'".into(),
            };
            pages::page_with_csp(200, html, &csp)
        }
        Ok(Ok(LoggedOut {
            ended: true,
            redirect,
        })) if redirect.is_empty() => stop_page(200, "Signed out", "You are signed out of Throng.")
            .header(clear_session_cookie(secure)),
        Ok(Ok(LoggedOut { redirect, .. })) => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            if !p.state.is_empty() {
                query.append_pair("state", &p.state);
            }
            let query = query.finish();
            let location = match (query.is_empty(), redirect.contains('?')) {
                (true, _) => redirect,
                (false, true) => format!("{redirect}&{query}"),
                (false, false) => format!("{redirect}?{query}"),
            };
            Response::new(303)
                .header(format!("Location: {location}"))
                .header("Cache-Control: no-store")
                .header(clear_session_cookie(secure))
        }
        Ok(Err(r)) if r.status == Status::InvalidRequest => stop_page(
            400,
            "This sign-out request is not valid",
            r.reason_text().unwrap_or("A parameter is not valid."),
        ),
        Ok(Err(r)) if r.status == Status::OidcOff => {
            stop_page(404, "Not found", "This server is no OpenID provider.")
        }
        _ => pages::busy(),
    }
}
