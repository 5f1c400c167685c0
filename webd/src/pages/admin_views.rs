//! The console's templates and their data (askama, every value escaped):
//! what each `/admin` page shows, made from authd's answers. Which forms
//! and links appear follows the permissions authd says the caller holds;
//! authd still refuses anything the caller may not do.

use super::admin::holds;
use super::time;
use super::views::{place, SessionLine, SignInLine};
use askama::Template;
use authd_wire::ops::{AuditPage, Console, Insight, Permission, UserDetail, UserRow};

/// An account as a list row shows it.
pub struct UserLine {
    pub id: String,
    pub username: String,
    pub nickname: String,
    pub email: String,
    pub created: String,
    pub locked: bool,
}

impl From<&UserRow> for UserLine {
    fn from(u: &UserRow) -> UserLine {
        UserLine {
            id: hex::encode(u.user),
            username: u.username.clone(),
            nickname: u.nickname.clone(),
            email: u.email.clone().unwrap_or_default(),
            created: time::utc(u.created_ms),
            locked: u.locked,
        }
    }
}

/// What the caller may see and do, for the navigation.
pub struct Can {
    pub find: bool,
    pub lock: bool,
    pub revoke: bool,
    pub grant: bool,
    pub audit: bool,
    pub insight: bool,
}

impl Can {
    fn of(names: &[String]) -> Can {
        Can {
            find: holds(names, Permission::UsersRead),
            lock: holds(names, Permission::UsersLock),
            revoke: holds(names, Permission::SessionsRevoke),
            grant: holds(names, Permission::RolesGrant),
            audit: holds(names, Permission::AuditRead),
            insight: holds(names, Permission::InsightRead),
        }
    }
}

/// A role with its permissions, for the console's front page.
pub struct RoleLine {
    pub name: String,
    pub kind: &'static str,
    pub permissions: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminIndex {
    pub can: Can,
    pub permissions: String,
    pub roles: Vec<RoleLine>,
}

impl AdminIndex {
    pub fn new(console: &Console) -> Self {
        AdminIndex {
            can: Can::of(&console.permissions),
            permissions: console.permissions.join(", "),
            roles: console
                .roles
                .iter()
                .map(|r| RoleLine {
                    name: r.name.clone(),
                    kind: if r.builtin { "built in" } else { "defined" },
                    permissions: if r.permissions.is_empty() {
                        "(its own account only)".into()
                    } else {
                        r.permissions.join(", ")
                    },
                    description: r.description.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct AdminUsers<'a> {
    pub query: &'a str,
    pub users: Vec<UserLine>,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
pub struct AdminUserPage<'a> {
    pub csrf: &'a str,
    pub said: Option<&'a str>,
    pub user: UserLine,
    pub roles: Vec<String>,
    /// Roles it does not hold, for the grant form.
    pub grantable: Vec<String>,
    pub sign_ins: Vec<SignInLine>,
    pub sessions: Vec<SessionLine>,
    pub can: Can,
}

impl<'a> AdminUserPage<'a> {
    pub fn new(csrf: &'a str, said: Option<&'a str>, d: &UserDetail) -> Self {
        AdminUserPage {
            csrf,
            said,
            user: UserLine::from(&d.user),
            roles: d.roles.clone(),
            grantable: d
                .all_roles
                .iter()
                .filter(|r| !d.roles.contains(r))
                .cloned()
                .collect(),
            sign_ins: d.history.sign_ins.iter().map(SignInLine::from).collect(),
            sessions: d.history.sessions.iter().map(SessionLine::from).collect(),
            can: Can::of(&d.caller_permissions),
        }
    }
}

/// An audit entry as a row shows it.
pub struct AuditLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
pub struct AdminAuditPage {
    pub entries: Vec<AuditLine>,
    /// The id to ask for the next, older page.
    pub older: Option<u64>,
}

impl AdminAuditPage {
    pub fn new(page: &AuditPage) -> Self {
        AdminAuditPage {
            entries: page
                .entries
                .iter()
                .map(|e| AuditLine {
                    at: time::utc(e.at_ms),
                    actor: e.actor.clone(),
                    action: e.action.clone(),
                    target: e.target.clone(),
                    detail: e.detail.clone(),
                    ip: e.ip.clone(),
                })
                .collect(),
            older: (page.entries.len() >= 50)
                .then(|| page.entries.last().map(|e| e.id))
                .flatten(),
        }
    }
}

/// A row of a count table with a bar in proportion to the largest.
pub struct CountLine {
    pub label: String,
    pub n: u32,
    pub extra: String,
    /// Bar width in percent of the largest row.
    pub width: u32,
}

fn with_bars(rows: Vec<(String, u32, String)>) -> Vec<CountLine> {
    let most = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    rows.into_iter()
        .map(|(label, n, extra)| CountLine {
            width: (u64::from(n) * 100 / u64::from(most)) as u32,
            label,
            n,
            extra,
        })
        .collect()
}

/// One dimension's table.
pub struct DimensionTable {
    pub name: &'static str,
    pub rows: Vec<CountLine>,
}

#[derive(Template)]
#[template(path = "admin_insight.html")]
pub struct AdminInsightPage {
    pub hours: u32,
    pub hour: u64,
    pub hour_label: String,
    pub earlier: u64,
    pub later: Option<u64>,
    pub usernames: Vec<(String, u32, u32, u32)>,
    pub failing: Vec<(String, u32, u32, u32)>,
    pub stuffing: Vec<(String, u32, u32, u32)>,
    pub stuffed: Vec<(String, u32, u32, u32)>,
    pub dimensions: Vec<DimensionTable>,
    pub by_hour: Vec<CountLine>,
    pub lengths: Vec<CountLine>,
}

fn bucket_label(bucket_s: u32) -> String {
    match bucket_s {
        u32::MAX => "more than 12 h".into(),
        s if s < 3600 => format!("up to {} min", s / 60),
        s => format!("up to {} h", s / 3600),
    }
}

impl AdminInsightPage {
    pub fn new(i: &Insight) -> Self {
        let now_hour = i.from_hour + u64::from(i.hours) - 1;
        let user = |r: &authd_wire::ops::UsernameRow| {
            (r.username.clone(), r.attempts, r.successes, r.addresses)
        };
        let address =
            |r: &authd_wire::ops::AddressRow| (r.ip.clone(), r.attempts, r.failures, r.usernames);
        let dimensions = ["country", "browser", "platform", "referrer"]
            .into_iter()
            .map(|name| DimensionTable {
                name,
                rows: with_bars(
                    i.dimensions
                        .iter()
                        .filter(|d| d.dimension == name)
                        .map(|d| {
                            let label = if name == "country" {
                                place("", &d.value)
                            } else {
                                d.value.clone()
                            };
                            (label, d.signins, String::new())
                        })
                        .collect(),
                ),
            })
            .collect();
        AdminInsightPage {
            hours: i.hours,
            hour: i.hour,
            hour_label: time::hour(i.hour),
            earlier: i.hour.saturating_sub(1),
            later: (i.hour < now_hour).then_some(i.hour + 1),
            usernames: i.usernames.iter().map(user).collect(),
            failing: i.failing_addresses.iter().map(address).collect(),
            stuffing: i.stuffing_addresses.iter().map(address).collect(),
            stuffed: i.stuffed_usernames.iter().map(user).collect(),
            dimensions,
            by_hour: with_bars(
                i.by_hour
                    .iter()
                    .map(|h| {
                        (
                            time::hour(h.hour),
                            h.attempts,
                            format!("{} signed in", h.successes),
                        )
                    })
                    .collect(),
            ),
            lengths: with_bars(
                i.session_lengths
                    .iter()
                    .map(|l| {
                        let mean = l.seconds / u64::from(l.sessions.max(1));
                        (
                            bucket_label(l.bucket_s),
                            l.sessions,
                            format!("mean {} min", mean / 60),
                        )
                    })
                    .collect(),
            ),
        }
    }
}
