//! `/admin`, the console: find accounts, see one's sign-ins, sessions and
//! roles, lock and unlock it, end its sessions, grant and revoke roles,
//! read the audit log and the behaviour analysis (also as JSON for
//! scripts: `/admin/insight.json`). authd checks the session and the
//! permission of every one of these calls and answers `forbidden` (403
//! here) to anyone without it; webd only shows or hides what the answers
//! say the caller may do. Every form is a POST with the session's CSRF
//! token; every value is escaped by the templates.

use super::admin_views as views;
use super::forms::{clear_session_cookie, page, redirect, RequestCookies};
use super::views::render;
use super::{busy_page, typed, HasCsrf, Holder, PageCall, Pages, Step};
use crate::http::{Head, Response};
use crate::route::AdminPage;
use authd_wire::ops::{
    Actor, AdminAudit, AdminEndSessions, AdminFindUsers, AdminInsight, AdminLock, AdminOverview,
    AdminSetRole, AdminUser, Insight, Permission,
};
use authd_wire::{Request, Status};
use serde::Deserialize;
use std::net::IpAddr;

/// The console's authd calls, with what their pages need.
#[derive(Debug)]
pub enum AdminCall {
    Index,
    Users {
        query: String,
    },
    User {
        csrf: String,
        said: Option<&'static str>,
    },
    /// A form that changed an account: back to its page.
    Changed {
        user: String,
        done: &'static str,
    },
    Audit,
    Insight {
        json: bool,
    },
}

/// The forms: each names the account (uuid, hex) it acts on.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LockForm {
    pub csrf: String,
    pub user: String,
    /// "1" locks, anything else unlocks.
    pub locked: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct EndSessionsForm {
    pub csrf: String,
    pub user: String,
    /// A session's id, digits; "0": every session.
    pub session: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    pub csrf: String,
    pub user: String,
    pub role: String,
    /// "grant" or "revoke".
    pub change: String,
}

macro_rules! has_csrf {
    ($($form:ty),*) => { $(impl HasCsrf for $form { fn csrf(&self) -> &str { &self.csrf } })* };
}

has_csrf!(LockForm, EndSessionsForm, RoleForm);

/// A query parameter's value (form-decoded), the first of its name.
fn param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A uuid in hex, as the console's links and forms carry it.
fn uuid(text: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    hex::decode_to_slice(text.trim(), &mut out).ok()?;
    Some(out)
}

fn not_found() -> Response {
    page(
        404,
        "<!doctype html><meta charset=\"utf-8\"><h1>No such account</h1><p><a href=\"/admin\">Back to the console</a></p>".into(),
    )
}

fn forbidden() -> Response {
    page(
        403,
        "<!doctype html><meta charset=\"utf-8\"><h1>Forbidden</h1><p>Your account does not have the permission this needs.</p><p><a href=\"/home\">Home</a></p>".into(),
    )
}

pub fn start(
    pages: &Pages,
    which: AdminPage,
    head: &Head<'_>,
    client: IpAddr,
    body: &[u8],
    cookies: &RequestCookies,
) -> Step {
    let Some(token) = cookies.session.clone() else {
        return Step::Now(redirect("/login"));
    };
    // A page of the console opened from another site (a link, a form, an
    // image) would run a logged search or view in the operator's name:
    // browsers say so in `Sec-Fetch-Site`, and such a request is refused.
    // Scripts without the header, and the console's own links, pass.
    if head
        .fetch_site
        .is_some_and(|s| s.eq_ignore_ascii_case(b"cross-site"))
    {
        return Step::Now(page(
            403,
            "<!doctype html><meta charset=\"utf-8\"><h1>Open the console from its own pages</h1><p><a href=\"/admin\">Console</a></p>".into(),
        ));
    }
    let holder = Some(Holder::Session(&token));
    let csrf = pages.csrf.token(Holder::Session(&token));
    let actor = Actor {
        token: token.as_str().into(),
        ip: client.to_string(),
    };
    let call = |request: Request, then: AdminCall| Step::Call {
        request,
        then: PageCall::Admin(then),
    };
    match which {
        AdminPage::Index => call(
            Request::AdminOverview(AdminOverview { actor }),
            AdminCall::Index,
        ),
        AdminPage::Users => {
            let query = param(head.query, "q").unwrap_or_default();
            call(
                Request::AdminFindUsers(AdminFindUsers {
                    actor,
                    query: query.clone(),
                }),
                AdminCall::Users { query },
            )
        }
        AdminPage::User => {
            let Some(user) = param(head.query, "id").as_deref().and_then(uuid) else {
                return Step::Now(not_found());
            };
            let said = match param(head.query, "done").as_deref() {
                Some("locked") => Some("The account is locked and its sessions ended."),
                Some("unlocked") => Some("The account is unlocked."),
                Some("ended") => Some("Sessions ended."),
                Some("role") => Some("Roles changed; the account's sessions ended."),
                _ => None,
            };
            call(
                Request::AdminUser(AdminUser { actor, user }),
                AdminCall::User { csrf, said },
            )
        }
        AdminPage::Lock => {
            let form: LockForm = match pages.checked_form(body, holder) {
                Ok(f) => f,
                Err(r) => return Step::Now(r),
            };
            let Some(user) = uuid(&form.user) else {
                return Step::Now(not_found());
            };
            let locked = form.locked == "1";
            call(
                Request::AdminLock(AdminLock {
                    actor,
                    user,
                    locked,
                }),
                AdminCall::Changed {
                    user: hex::encode(user),
                    done: if locked { "locked" } else { "unlocked" },
                },
            )
        }
        AdminPage::EndSessions => {
            let form: EndSessionsForm = match pages.checked_form(body, holder) {
                Ok(f) => f,
                Err(r) => return Step::Now(r),
            };
            let Some(user) = uuid(&form.user) else {
                return Step::Now(not_found());
            };
            let Ok(session) = form.session.parse::<u64>() else {
                return Step::Now(super::unreadable_form());
            };
            call(
                Request::AdminEndSessions(AdminEndSessions {
                    actor,
                    user,
                    session,
                }),
                AdminCall::Changed {
                    user: hex::encode(user),
                    done: "ended",
                },
            )
        }
        AdminPage::Role => {
            let form: RoleForm = match pages.checked_form(body, holder) {
                Ok(f) => f,
                Err(r) => return Step::Now(r),
            };
            let Some(user) = uuid(&form.user) else {
                return Step::Now(not_found());
            };
            call(
                Request::AdminSetRole(AdminSetRole {
                    actor,
                    user,
                    role: form.role,
                    grant: form.change == "grant",
                }),
                AdminCall::Changed {
                    user: hex::encode(user),
                    done: "role",
                },
            )
        }
        AdminPage::Audit => {
            let before = param(head.query, "before")
                .and_then(|b| b.parse().ok())
                .unwrap_or(0);
            call(
                Request::AdminAudit(AdminAudit { actor, before }),
                AdminCall::Audit,
            )
        }
        AdminPage::Insight | AdminPage::InsightJson => {
            let hours = param(head.query, "hours")
                .and_then(|h| h.parse().ok())
                .unwrap_or(24);
            let hour = param(head.query, "hour")
                .and_then(|h| h.parse().ok())
                .unwrap_or(0);
            call(
                Request::AdminInsight(AdminInsight { actor, hours, hour }),
                AdminCall::Insight {
                    json: which == AdminPage::InsightJson,
                },
            )
        }
    }
}

pub fn finish(pages: &Pages, call: AdminCall, status: u8, body: &[u8]) -> Response {
    let secure = pages.secure_cookies;
    let refused = |s: Status| {
        match s {
        Status::NoSession => redirect("/login").header(clear_session_cookie(secure)),
        Status::Forbidden => forbidden(),
        Status::NotFound => not_found(),
        Status::InvalidQuery => page(
            400,
            "<!doctype html><meta charset=\"utf-8\"><h1>Search for at least 2 characters</h1><p><a href=\"/admin\">Back</a></p>".into(),
        ),
        Status::UnknownRole => page(
            400,
            "<!doctype html><meta charset=\"utf-8\"><h1>No such role</h1><p><a href=\"/admin\">Back</a></p>".into(),
        ),
        _ => busy_page(),
    }
    };
    match call {
        AdminCall::Index => match typed::<AdminOverview>(status, body) {
            Ok(console) => page(200, render(&views::AdminIndex::new(&console))),
            Err(s) => refused(s),
        },
        AdminCall::Users { query } => match typed::<AdminFindUsers>(status, body) {
            Ok(found) => page(
                200,
                render(&views::AdminUsers {
                    query: &query,
                    users: found.users.iter().map(views::UserLine::from).collect(),
                }),
            ),
            Err(s) => refused(s),
        },
        AdminCall::User { csrf, said } => match typed::<AdminUser>(status, body) {
            Ok(detail) => page(
                200,
                render(&views::AdminUserPage::new(&csrf, said, &detail)),
            ),
            Err(s) => refused(s),
        },
        AdminCall::Changed { user, done } => {
            // Each operation's answer is empty: any of the three decodes it.
            match typed::<AdminLock>(status, body) {
                Ok(()) => redirect(&format!("/admin/user?id={user}&done={done}")),
                Err(s) => refused(s),
            }
        }
        AdminCall::Audit => match typed::<AdminAudit>(status, body) {
            Ok(audit) => page(200, render(&views::AdminAuditPage::new(&audit))),
            Err(s) => refused(s),
        },
        AdminCall::Insight { json } => match typed::<AdminInsight>(status, body) {
            Ok(insight) if json => insight_json(&insight),
            Ok(insight) => page(200, render(&views::AdminInsightPage::new(&insight))),
            Err(s) if json => crate::api::json_response(
                crate::api::http_status(s),
                &serde_json::json!({ "error": s as u8, "reason": s.name() }),
            ),
            Err(s) => refused(s),
        },
    }
}

/// The analysis for scripts: the same figures as the page.
fn insight_json(i: &Insight) -> Response {
    use serde_json::json;
    let usernames = |rows: &[authd_wire::ops::UsernameRow]| -> Vec<serde_json::Value> {
        rows.iter()
            .map(|r| json!({"username": r.username, "attempts": r.attempts, "successes": r.successes, "addresses": r.addresses}))
            .collect()
    };
    let addresses = |rows: &[authd_wire::ops::AddressRow]| -> Vec<serde_json::Value> {
        rows.iter()
            .map(|r| json!({"ip": r.ip, "attempts": r.attempts, "failures": r.failures, "usernames": r.usernames}))
            .collect()
    };
    let value = json!({
        "hours": i.hours,
        "from_hour": i.from_hour,
        "hour": i.hour,
        "usernames": usernames(&i.usernames),
        "failing_addresses": addresses(&i.failing_addresses),
        "stuffing_addresses": addresses(&i.stuffing_addresses),
        "stuffed_usernames": usernames(&i.stuffed_usernames),
        "dimensions": i.dimensions.iter().map(|d| json!({"dimension": d.dimension, "value": d.value, "signins": d.signins})).collect::<Vec<_>>(),
        "by_hour": i.by_hour.iter().map(|h| json!({"hour": h.hour, "attempts": h.attempts, "successes": h.successes})).collect::<Vec<_>>(),
        "session_lengths": i.session_lengths.iter().map(|s| json!({"bucket_s": s.bucket_s, "sessions": s.sessions, "seconds": s.seconds})).collect::<Vec<_>>(),
    });
    crate::api::json_response(200, &value)
}

/// Whether `names` holds permission `p`.
pub fn holds(names: &[String], p: Permission) -> bool {
    names.iter().any(|n| n == p.name())
}
