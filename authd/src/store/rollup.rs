//! The rollups of the behaviour analysis: counts per hour that the
//! login-record writer adds to as it writes each batch, so that every view
//! of `admin_insight` reads a few hundred rollup rows instead of the
//! records. A batch is summed in memory first ([`Rollup`]), then written as
//! multi-row upserts in the batch's transaction: one row per (hour,
//! username), (hour, address) and (hour, dimension, value) the batch
//! touched, not one per record. The seeder (`bench seed
//! --login-records`) sums its records with the same type.
//!
//! Distinct counts (addresses per username, usernames per address) are
//! not rolled up: they are counted for the few rows a view shows, from
//! `login_records` by its (username, at) and (ip, at) indexes.

use super::db::{in_chunks, LoginRecord};
use mysql::prelude::Queryable;
use std::collections::HashMap;

/// Hours since the Unix epoch.
pub fn hour_of(ms: u64) -> u64 {
    ms / 3_600_000
}

/// Upper bounds (s) of the session-length buckets.
pub const LENGTH_BUCKETS: [u32; 7] = [60, 600, 1800, 3600, 4 * 3600, 12 * 3600, u32::MAX];

/// Results that are failures of the caller (not of the service).
fn failed(result: &str) -> bool {
    matches!(
        result,
        "bad_password" | "unknown_user" | "too_many_attempts" | "locked"
    )
}

fn succeeded(result: &str) -> bool {
    result.starts_with("ok")
}

/// The origin of a referring page: scheme and host, nothing after.
pub fn referrer_origin(referrer: &str) -> String {
    match url::Url::parse(referrer) {
        Ok(u) if u.has_host() => {
            let mut origin = u.origin().ascii_serialization();
            origin.truncate(128);
            origin
        }
        _ => String::new(),
    }
}

/// The sums of one batch.
#[derive(Debug, Default)]
pub struct Rollup {
    users: HashMap<(u64, String), (u32, u32)>,
    addresses: HashMap<(u64, String), (u32, u32)>,
    dimensions: HashMap<(u64, &'static str, String), u32>,
    lengths: HashMap<(u64, u32), (u32, u64)>,
}

impl Rollup {
    pub fn is_empty(&self) -> bool {
        self.rows() == 0
    }

    /// Rows the sums would write.
    pub fn rows(&self) -> usize {
        self.users.len() + self.addresses.len() + self.dimensions.len() + self.lengths.len()
    }

    /// Counts one attempt.
    pub fn attempt(&mut self, r: &LoginRecord) {
        let hour = hour_of(r.at_ms);
        let ok = succeeded(r.result);
        let user = self
            .users
            .entry((hour, r.username.to_ascii_lowercase()))
            .or_default();
        user.0 += 1;
        user.1 += u32::from(ok);
        if !r.ip.is_empty() {
            let address = self.addresses.entry((hour, r.ip.clone())).or_default();
            address.0 += 1;
            address.1 += u32::from(failed(r.result));
        }
        *self
            .dimensions
            .entry((hour, "all", "attempts".into()))
            .or_default() += 1;
        if !ok {
            return;
        }
        let (browser, platform) = crate::agent::describe(&r.agent);
        let browser = browser.split(' ').next().unwrap_or("unknown").to_owned();
        let country = if r.country.is_empty() {
            "unknown".to_owned()
        } else {
            r.country.clone()
        };
        let mut values = vec![
            ("all", "successes".to_owned()),
            ("country", country),
            ("browser", browser),
            ("platform", platform),
        ];
        let origin = referrer_origin(&r.referrer);
        if !origin.is_empty() {
            values.push(("referrer", origin));
        }
        for (dim, value) in values {
            *self.dimensions.entry((hour, dim, value)).or_default() += 1;
        }
    }

    /// Counts a session that ended at `at_ms` after `seconds`.
    pub fn session_ended(&mut self, at_ms: u64, seconds: u64) {
        let bucket = LENGTH_BUCKETS
            .into_iter()
            .find(|b| seconds <= u64::from(*b))
            .unwrap_or(u32::MAX);
        let entry = self.lengths.entry((hour_of(at_ms), bucket)).or_default();
        entry.0 += 1;
        entry.1 += seconds;
    }

    /// Adds the sums to the rollup tables (in the caller's transaction).
    pub fn write(&self, tx: &mut mysql::Transaction<'_>) -> Result<(), mysql::Error> {
        let users: Vec<_> = self.users.iter().collect();
        in_chunks(&users, |rows| {
            upsert(
                tx,
                "insight_user_hour (hour, username, attempts, successes)",
                "attempts = attempts + VALUES(attempts), successes = successes + VALUES(successes)",
                4,
                rows.iter().flat_map(|((h, name), (a, s))| {
                    [(*h).into(), name.as_str().into(), (*a).into(), (*s).into()]
                }),
            )
        })?;
        let addresses: Vec<_> = self.addresses.iter().collect();
        in_chunks(&addresses, |rows| {
            upsert(
                tx,
                "insight_ip_hour (hour, ip, attempts, failures)",
                "attempts = attempts + VALUES(attempts), failures = failures + VALUES(failures)",
                4,
                rows.iter().flat_map(|((h, ip), (a, f))| {
                    [(*h).into(), ip.as_str().into(), (*a).into(), (*f).into()]
                }),
            )
        })?;
        let dimensions: Vec<_> = self.dimensions.iter().collect();
        in_chunks(&dimensions, |rows| {
            upsert(
                tx,
                "insight_dim_hour (hour, dim, value, signins)",
                "signins = signins + VALUES(signins)",
                4,
                rows.iter().flat_map(|((h, dim, value), n)| {
                    [
                        (*h).into(),
                        (*dim).into(),
                        value.as_str().into(),
                        (*n).into(),
                    ]
                }),
            )
        })?;
        let lengths: Vec<_> = self.lengths.iter().collect();
        in_chunks(&lengths, |rows| {
            upsert(
                tx,
                "insight_session_hour (hour, bucket, sessions, seconds)",
                "sessions = sessions + VALUES(sessions), seconds = seconds + VALUES(seconds)",
                4,
                rows.iter().flat_map(|((h, b), (n, s))| {
                    [(*h).into(), (*b).into(), (*n).into(), (*s).into()]
                }),
            )
        })
    }
}

/// One multi-row `INSERT … ON DUPLICATE KEY UPDATE` of `columns` (each
/// row `width` values).
fn upsert(
    tx: &mut mysql::Transaction<'_>,
    table_and_columns: &str,
    update: &str,
    width: usize,
    values: impl Iterator<Item = mysql::Value>,
) -> Result<(), mysql::Error> {
    let params: Vec<mysql::Value> = values.collect();
    let rows = params.len() / width;
    let row = format!("({})", vec!["?"; width].join(", "));
    let sql = format!(
        "INSERT INTO {table_and_columns} VALUES {} ON DUPLICATE KEY UPDATE {update}",
        vec![row.as_str(); rows].join(", ")
    );
    tx.exec_drop(sql.as_str(), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_sums_per_hour_and_value() {
        let mut r = Rollup::default();
        let base = LoginRecord {
            username: "Alice".into(),
            at_ms: 3_600_000 * 10 + 5,
            ip: "192.0.2.1".into(),
            agent: "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0".into(),
            result: "ok",
            country: "FR".into(),
            referrer: "https://news.example/a/b?c=d".into(),
            ..LoginRecord::default()
        };
        r.attempt(&base);
        r.attempt(&LoginRecord {
            username: "alice".into(),
            result: "bad_password",
            ..base.clone()
        });
        assert_eq!(r.users[&(10, "alice".into())], (2, 1));
        assert_eq!(r.addresses[&(10, "192.0.2.1".into())], (2, 1));
        assert_eq!(r.dimensions[&(10, "country", "FR".into())], 1);
        assert_eq!(r.dimensions[&(10, "browser", "Firefox".into())], 1);
        assert_eq!(
            r.dimensions[&(10, "referrer", "https://news.example".into())],
            1
        );
        assert_eq!(r.dimensions[&(10, "all", "attempts".into())], 2);
        r.session_ended(3_600_000 * 11, 90);
        assert_eq!(r.lengths[&(11, 600)], (1, 90));
        assert_eq!(referrer_origin("javascript:alert(1)"), "");
    }
}
