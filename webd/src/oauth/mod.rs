//! Throng as an OpenID Connect provider, over webd's HTTP layer: the
//! routes ([`OAuthRoute`]), each one authd call ([`start`]) whose answer
//! becomes the response ([`finish`]). Every decision is authd's; webd
//! reads parameters, keeps the browser's session cookie and CSRF tokens,
//! and writes pages, redirects and JSON.

mod authorize;
mod browser;
mod endpoints;
mod logout;
pub mod params;

pub use authorize::origin;

use crate::http::{Head, Response};
use crate::pages::{Pages, RequestCookies};
use authd_wire::Request;

/// The provider's routes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OAuthRoute {
    Discovery,
    Jwks,
    Authorize,
    Token,
    Userinfo,
    Introspect,
    Revoke,
    Logout,
}

impl OAuthRoute {
    /// The methods each route takes.
    pub fn allowed(self) -> &'static str {
        match self {
            OAuthRoute::Discovery | OAuthRoute::Jwks => "GET, HEAD",
            OAuthRoute::Authorize | OAuthRoute::Logout | OAuthRoute::Userinfo => "GET, HEAD, POST",
            OAuthRoute::Token | OAuthRoute::Introspect | OAuthRoute::Revoke => "POST",
        }
    }
}

/// The authd call in flight for a provider route.
#[derive(Debug)]
pub enum OAuthCall {
    Metadata { jwks: bool },
    Authorize(Box<authorize::Pending>),
    Token,
    Userinfo,
    Introspect,
    Revoke,
    Logout(Box<logout::Pending>),
}

/// The authd call for a request, or the response at once.
pub fn start(
    pages: &Pages,
    route: OAuthRoute,
    head: &Head<'_>,
    body: &[u8],
    cookies: &RequestCookies,
) -> Result<(Request, OAuthCall), Response> {
    match route {
        OAuthRoute::Discovery => Ok(endpoints::metadata(false)),
        OAuthRoute::Jwks => Ok(endpoints::metadata(true)),
        OAuthRoute::Authorize => authorize::start(pages, head, body, cookies),
        OAuthRoute::Token => endpoints::token(head, body),
        OAuthRoute::Userinfo => endpoints::userinfo(head, body),
        OAuthRoute::Introspect => endpoints::client_token(head, body, false),
        OAuthRoute::Revoke => endpoints::client_token(head, body, true),
        OAuthRoute::Logout => logout::start(pages, head, body, cookies),
    }
}

/// The response for authd's answer to `call`.
pub fn finish(pages: &Pages, call: OAuthCall, status: u8, body: &[u8]) -> Response {
    match call {
        OAuthCall::Metadata { jwks } => endpoints::finish_metadata(status, body, jwks),
        OAuthCall::Authorize(p) => authorize::finish(pages, *p, status, body),
        OAuthCall::Token => endpoints::finish_token(status, body),
        OAuthCall::Userinfo => endpoints::finish_userinfo(status, body),
        OAuthCall::Introspect => endpoints::finish_introspect(status, body),
        OAuthCall::Revoke => endpoints::finish_revoke(status, body),
        OAuthCall::Logout(p) => logout::finish(pages, *p, status, body),
    }
}

/// The response when authd could not be called: JSON for the endpoints
/// clients call, a page for the ones browsers visit.
pub fn failed(call: &OAuthCall) -> Response {
    match call {
        OAuthCall::Authorize(_) | OAuthCall::Logout(_) => crate::pages::busy(),
        _ => endpoints::unavailable(),
    }
}
