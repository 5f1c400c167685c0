//! webd's route table, in one place: a request's path resolves once to a
//! [`Route`], and its metric label, allowed methods, body limit and handler
//! all follow from that value.

use crate::api::{self, Endpoint};
use crate::http::Response;
use crate::oauth::OAuthRoute;

/// Where the avatars are served from: `/avatars/<64 hex digits>`.
pub const AVATAR_PREFIX: &str = "/avatars/";

/// Form bodies of the pages.
const FORM_LIMIT: usize = 8 * 1024;

/// Room for the multipart framing around a picture at the upload limit.
const MULTIPART_FRAMING: usize = 64 * 1024;

/// Every kind of request webd answers.
#[derive(Clone, Copy)]
pub enum Route {
    Root,
    Style,
    SignUp,
    Login,
    Home,
    Edit,
    Logout,
    /// "Log out everywhere": every session of the account ends.
    LogoutEverywhere,
    Upload,
    /// `/avatars/{id}`; the handler checks the id.
    Avatar,
    Health,
    /// The signed-in user's sign-ins and sessions.
    Security,
    /// Ends one of those sessions.
    SecurityEnd,
    /// Unlinks an identity at another provider.
    SecurityUnlink,
    /// "Sign in with …": to the other provider, and back.
    SsoStart,
    SsoCallback,
    /// The console's pages and forms.
    Admin(AdminPage),
    /// The OpenID provider's endpoints.
    OAuth(OAuthRoute),
    Api(&'static Endpoint),
}

/// The console's pages (GET) and forms (POST).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AdminPage {
    Index,
    Users,
    User,
    Lock,
    EndSessions,
    Role,
    Audit,
    Insight,
    InsightJson,
}

/// The routes with a fixed path.
const FIXED: &[(&str, Route)] = &[
    ("/", Route::Root),
    ("/style.css", Route::Style),
    ("/signup", Route::SignUp),
    ("/login", Route::Login),
    ("/home", Route::Home),
    ("/edit", Route::Edit),
    ("/logout", Route::Logout),
    ("/logout/everywhere", Route::LogoutEverywhere),
    ("/edit/avatar", Route::Upload),
    ("/healthz", Route::Health),
    ("/security", Route::Security),
    ("/security/end", Route::SecurityEnd),
    ("/security/unlink", Route::SecurityUnlink),
    ("/sso/start", Route::SsoStart),
    ("/sso/callback", Route::SsoCallback),
    ("/admin", Route::Admin(AdminPage::Index)),
    ("/admin/users", Route::Admin(AdminPage::Users)),
    ("/admin/user", Route::Admin(AdminPage::User)),
    ("/admin/lock", Route::Admin(AdminPage::Lock)),
    ("/admin/sessions/end", Route::Admin(AdminPage::EndSessions)),
    ("/admin/role", Route::Admin(AdminPage::Role)),
    ("/admin/audit", Route::Admin(AdminPage::Audit)),
    ("/admin/insight", Route::Admin(AdminPage::Insight)),
    ("/admin/insight.json", Route::Admin(AdminPage::InsightJson)),
    (
        "/.well-known/openid-configuration",
        Route::OAuth(OAuthRoute::Discovery),
    ),
    ("/oauth/jwks", Route::OAuth(OAuthRoute::Jwks)),
    ("/oauth/authorize", Route::OAuth(OAuthRoute::Authorize)),
    ("/oauth/token", Route::OAuth(OAuthRoute::Token)),
    ("/oauth/userinfo", Route::OAuth(OAuthRoute::Userinfo)),
    ("/oauth/introspect", Route::OAuth(OAuthRoute::Introspect)),
    ("/oauth/revoke", Route::OAuth(OAuthRoute::Revoke)),
    ("/oauth/logout", Route::OAuth(OAuthRoute::Logout)),
];

impl Route {
    /// The route of `path`, if webd has one.
    pub fn resolve(path: &str) -> Option<Route> {
        if let Some(&(_, route)) = FIXED.iter().find(|(p, _)| *p == path) {
            return Some(route);
        }
        if path.starts_with(AVATAR_PREFIX) {
            return Some(Route::Avatar);
        }
        api::endpoint_at(path).map(Route::Api)
    }

    /// The label of this route in the metrics (a fixed set: one label for
    /// all avatar ids).
    pub fn label(self) -> &'static str {
        match self {
            Route::Avatar => "/avatars/{id}",
            Route::Api(endpoint) => endpoint.path,
            route => FIXED
                .iter()
                .find(|(_, r)| r.same(route))
                .map_or("other", |(p, _)| p),
        }
    }

    fn same(self, other: Route) -> bool {
        match (self, other) {
            (Route::Api(a), Route::Api(b)) => a.path == b.path,
            (Route::Admin(a), Route::Admin(b)) => a == b,
            (Route::OAuth(a), Route::OAuth(b)) => a == b,
            (a, b) => std::mem::discriminant(&a) == std::mem::discriminant(&b),
        }
    }

    /// The methods this route takes, as an `Allow` header lists them.
    pub fn allowed(self) -> &'static str {
        match self {
            Route::OAuth(route) => route.allowed(),
            Route::Root | Route::Style | Route::Home | Route::Avatar | Route::Health => "GET, HEAD",
            Route::Security | Route::SsoCallback => "GET, HEAD",
            Route::SsoStart => "GET, HEAD, POST",
            Route::Admin(
                AdminPage::Index
                | AdminPage::Users
                | AdminPage::User
                | AdminPage::Audit
                | AdminPage::Insight
                | AdminPage::InsightJson,
            ) => "GET, HEAD",
            Route::SignUp | Route::Login | Route::Edit => "GET, HEAD, POST",
            Route::Logout | Route::LogoutEverywhere | Route::Upload | Route::Api(_) => "POST",
            Route::SecurityEnd
            | Route::SecurityUnlink
            | Route::Admin(AdminPage::Lock | AdminPage::EndSessions | AdminPage::Role) => "POST",
        }
    }

    /// The body limit for `method`, or the 405 answer refusing it.
    pub fn body_limit(self, method: &str, max_upload: usize) -> Result<usize, Response> {
        let allowed = self.allowed();
        if !allowed.split(", ").any(|m| m == method) {
            return Err(Response::html(405, "<h1>405 Method Not Allowed</h1>\n")
                .header(format!("Allow: {allowed}")));
        }
        Ok(match (self, method) {
            (_, "GET" | "HEAD") => 0,
            (Route::Upload, _) => max_upload + MULTIPART_FRAMING,
            (Route::Api(_), _) => api::MAX_BODY,
            _ => FORM_LIMIT,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_one_label_and_its_methods() {
        for (path, route) in FIXED {
            assert_eq!(Route::resolve(path).unwrap().label(), *path);
            assert!(route.body_limit("OPTIONS", 1).is_err());
        }
        for e in api::ENDPOINTS {
            assert_eq!(Route::resolve(e.path).unwrap().label(), e.path);
            assert_eq!(
                Route::resolve(e.path).unwrap().body_limit("POST", 1).ok(),
                Some(api::MAX_BODY)
            );
        }
        let avatar = Route::resolve("/avatars/abc").unwrap();
        assert_eq!(avatar.label(), "/avatars/{id}");
        assert_eq!(avatar.body_limit("GET", 1).ok(), Some(0));
        assert!(Route::resolve("/nowhere").is_none());
    }
}
