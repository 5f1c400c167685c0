//! `tune check`: every knob of a profile against the live system, as a
//! table of knob, current, wanted and status, the counterpart of
//! `tuned-adm verify`. A knob this kernel lacks is reported as such, not as
//! a failure; a removed, dangerous knob that an old kernel still has is
//! checked too; and a limit the environment will not let anyone raise is
//! said plainly instead of being lumped in with what `tune apply` can fix.

use crate::live::Live;
use crate::profile::{Profile, FORBIDDEN};
use crate::rule::{self, Rule};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    /// Falls short of the wanted value; `tune apply` fixes it.
    Short,
    /// Not on this kernel (removed, or its module is not loaded).
    Absent,
    /// A removed knob that is present and set in a harmful way.
    Dangerous,
    /// Short, and this environment does not allow raising it.
    Blocked,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Short => "short",
            Status::Absent => "absent",
            Status::Dangerous => "dangerous",
            Status::Blocked => "blocked",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub knob: String,
    pub current: Option<String>,
    pub wanted: String,
    pub rule: String,
    pub status: Status,
    pub note: String,
}

/// Checks `profile` against `live`.
pub fn check(profile: &Profile, live: &Live) -> Vec<Row> {
    let mut rows = Vec::new();
    for knob in &profile.knobs {
        let current = live.sysctl(&knob.name).ok().flatten();
        let (status, note) = match &current {
            None => (
                Status::Absent,
                "not on this kernel (removed, or its module is not loaded)".to_owned(),
            ),
            Some(cur) if knob.rule.satisfied(cur, &knob.value) => (Status::Ok, String::new()),
            Some(_) => (Status::Short, format!("wants {} {}", knob.rule, knob.value)),
        };
        rows.push(Row {
            knob: knob.name.clone(),
            current,
            wanted: knob.value.clone(),
            rule: knob.rule.to_string(),
            status,
            note,
        });
    }
    for (name, why) in FORBIDDEN {
        if profile.knob(name).is_some() {
            continue; // refused by the profile's own problems()
        }
        if let Some(cur) = live.sysctl(name).ok().flatten() {
            let harmful = cur.trim() != "0";
            rows.push(Row {
                knob: (*name).to_owned(),
                current: Some(rule::normalise(&cur)),
                wanted: "0".into(),
                rule: Rule::Exact.to_string(),
                status: if harmful {
                    Status::Dangerous
                } else {
                    Status::Ok
                },
                note: format!("{why}; this kernel still has it, keep it 0"),
            });
        }
    }
    if let Some(wanted) = profile.nofile {
        rows.push(nofile_row(wanted, live));
    }
    rows
}

fn nofile_row(wanted: u64, live: &Live) -> Row {
    let limits = live.nofile();
    let current = limits.map(|(s, h)| format!("{s} (hard {h})"));
    let (status, note) = match limits {
        None => (Status::Absent, "cannot read this process's limits".to_owned()),
        Some((soft, _)) if soft >= wanted => (Status::Ok, String::new()),
        Some((_, hard)) if hard >= wanted => (
            Status::Short,
            format!("the hard limit allows it: `ulimit -n {wanted}`, or start a new session after `tune apply`"),
        ),
        Some((_, hard)) if !live.can_raise_hard_limits() => (
            Status::Blocked,
            format!(
                "the hard limit {hard} is set by this environment and cannot be raised here \
                 (it needs CAP_SYS_RESOURCE); the limits.d file and LimitNOFILE= take effect \
                 on a host that allows it. Until then run several processes of at most {} \
                 connections each",
                hard.saturating_sub(throng_core::selfcheck::FD_RESERVE)
            ),
        ),
        Some((_, hard)) => (
            Status::Short,
            format!("hard limit {hard}: `tune apply`, then a new session or a service restart picks up {wanted}"),
        ),
    };
    Row {
        knob: "nofile (RLIMIT_NOFILE)".into(),
        current,
        wanted: wanted.to_string(),
        rule: Rule::AtLeast.to_string(),
        status,
        note,
    }
}

/// The exit code of `tune check`: 0 all good, 1 something `tune apply` can
/// fix (or a dangerous knob), 3 only what this environment cannot fix.
pub fn exit_code(rows: &[Row]) -> i32 {
    if rows
        .iter()
        .any(|r| matches!(r.status, Status::Short | Status::Dangerous))
    {
        1
    } else if rows.iter().any(|r| r.status == Status::Blocked) {
        3
    } else {
        0
    }
}

/// The human table, notes under it.
pub fn table(rows: &[Row]) -> String {
    let w0 = rows.iter().map(|r| r.knob.len()).max().unwrap_or(4).max(4);
    let cur = |r: &Row| r.current.clone().unwrap_or_else(|| "-".into());
    let w1 = rows.iter().map(|r| cur(r).len()).max().unwrap_or(7).max(7);
    let w2 = rows
        .iter()
        .map(|r| r.wanted.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!(
        "{:w0$}  {:w1$}  {:w2$}  STATUS\n",
        "KNOB", "CURRENT", "WANTED"
    );
    for r in rows {
        out.push_str(&format!(
            "{:w0$}  {:w1$}  {:w2$}  {}\n",
            r.knob,
            cur(r),
            r.wanted,
            r.status.name()
        ));
    }
    let notes: Vec<&Row> = rows.iter().filter(|r| !r.note.is_empty()).collect();
    if !notes.is_empty() {
        out.push('\n');
        for r in notes {
            out.push_str(&format!("{} ({}): {}\n", r.knob, r.status.name(), r.note));
        }
    }
    let count = |s: Status| rows.iter().filter(|r| r.status == s).count();
    out.push_str(&format!(
        "\n{} ok, {} short, {} dangerous, {} blocked by this environment, {} absent from this kernel\n",
        count(Status::Ok),
        count(Status::Short),
        count(Status::Dangerous),
        count(Status::Blocked),
        count(Status::Absent)
    ));
    out
}
