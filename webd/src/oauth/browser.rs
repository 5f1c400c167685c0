//! A browser's request to one of the provider's pages (authorization,
//! logout): its parameters — the query of a GET, the form of a POST — its
//! Throng session, whether a POST carries the CSRF token of that session,
//! and the token a form on the answer needs.

use super::params::Params;
use crate::http::{Head, Response};
use crate::pages::csrf::Holder;
use crate::pages::views::{self, render};
use crate::pages::{self, Pages, RequestCookies};

pub struct BrowserRequest {
    pub post: bool,
    pub params: Params,
    /// The session cookie's token (empty: none).
    pub session: String,
    /// The CSRF token of the session, for a form on the answer.
    pub csrf: String,
}

/// A page saying why the request stops here.
pub fn stop_page(status: u16, title: &str, message: &str) -> Response {
    pages::page(status, render(&views::OAuthMessage { title, message }))
}

impl BrowserRequest {
    /// The request, or the page refusing it: unreadable parameters
    /// (`invalid` names the page's subject), or a POST without the CSRF
    /// token of its session.
    pub fn read(
        pages: &Pages,
        head: &Head<'_>,
        body: &[u8],
        cookies: &RequestCookies,
        invalid: &str,
    ) -> Result<BrowserRequest, Response> {
        let post = head.method == "POST";
        let raw = if post {
            body
        } else {
            head.query.unwrap_or("").as_bytes()
        };
        let params = Params::parse(raw).map_err(|e| stop_page(400, invalid, &e.describe()))?;
        let session = cookies.session.clone().unwrap_or_default();
        let holder = Holder::Session(&session);
        if post && (session.is_empty() || !pages.csrf.check(holder, params.get("csrf"))) {
            return Err(stop_page(
                403,
                "This form has expired",
                "Go back to the application and try again.",
            ));
        }
        let csrf = if session.is_empty() {
            String::new()
        } else {
            pages.csrf.token(holder)
        };
        Ok(BrowserRequest {
            post,
            params,
            session,
            csrf,
        })
    }
}
