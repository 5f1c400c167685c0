//! The reads of the behaviour analysis (`admin_insight`): each one an
//! index range over a rollup table ([`super::rollup`]) — one hour of
//! `insight_user_hour` or `insight_ip_hour` by their (hour, count)
//! indexes, a window of the small `insight_dim_hour` and
//! `insight_session_hour` — and, for the few rows a view shows, a distinct
//! count over `login_records` by its (username, at, ip) or (ip, at,
//! username) index, reading at most [`DISTINCT_READ`] entries each. None
//! scans the records whole: the cost of a view is bounded whatever the
//! number of records and however hard one key is attacked.

use super::db::Db;
use mysql::prelude::Queryable;

/// How many rows each list shows.
pub const TOP: u32 = 20;
/// Rows looked at for credential-stuffing signs (the busiest of the hour).
const CANDIDATES: u32 = 50;
/// Distinct usernames from one address (or addresses for one username)
/// from which it is listed as a sign.
pub const STUFFING_AT: u32 = 5;
/// Attempts a distinct count reads at most: a key tried a million times in
/// an hour (an attack) costs the page no more than this, and its count
/// shows as at least this many distinct values.
pub const DISTINCT_READ: u32 = 20_000;

/// A row of a per-hour top list.
#[derive(Debug, Clone, Default)]
pub struct Counted {
    pub key: String,
    pub attempts: u32,
    /// Successes (usernames) or failures (addresses).
    pub other: u32,
    /// Distinct addresses (usernames) or usernames (addresses).
    pub distinct: u32,
}

/// The per-hour lists of the analysis.
#[derive(Debug, Default)]
pub struct HourLists {
    pub usernames: Vec<Counted>,
    pub failing: Vec<Counted>,
    pub stuffing: Vec<Counted>,
    pub stuffed: Vec<Counted>,
}

fn hour_range_ms(hour: u64) -> (u64, u64) {
    (hour * 3_600_000, (hour + 1) * 3_600_000)
}

impl Db {
    /// The usernames of `hour` with the most attempts (`by_attempts`) and
    /// their distinct addresses; `limit` rows.
    pub fn top_usernames(&self, hour: u64, limit: u32) -> Result<Vec<Counted>, mysql::Error> {
        let rows: Vec<(String, u32, u32)> = self.run(true, |c| {
            c.exec(
                "SELECT username, attempts, successes FROM insight_user_hour \
                 WHERE hour = ? ORDER BY attempts DESC LIMIT ?",
                (hour, limit),
            )
        })?;
        let (from, to) = hour_range_ms(hour);
        rows.into_iter()
            .map(|(key, attempts, other)| {
                let distinct: Option<u32> = self.run(true, |c| {
                    c.exec_first(
                        "SELECT COUNT(DISTINCT ip) FROM (SELECT ip FROM login_records WHERE username = ? \
                         AND at >= FROM_UNIXTIME(? / 1000) AND at < FROM_UNIXTIME(? / 1000) LIMIT ?) t",
                        (key.as_str(), from, to, DISTINCT_READ),
                    )
                })?;
                Ok(Counted {
                    key,
                    attempts,
                    other,
                    distinct: distinct.unwrap_or(0),
                })
            })
            .collect()
    }

    /// The addresses of `hour` with the most failures (`order` by
    /// failures) or attempts, with the distinct usernames each tried.
    pub fn top_addresses(
        &self,
        hour: u64,
        by_failures: bool,
        limit: u32,
    ) -> Result<Vec<Counted>, mysql::Error> {
        let sql = if by_failures {
            "SELECT ip, attempts, failures FROM insight_ip_hour WHERE hour = ? AND failures > 0 \
             ORDER BY failures DESC LIMIT ?"
        } else {
            "SELECT ip, attempts, failures FROM insight_ip_hour WHERE hour = ? \
             ORDER BY attempts DESC LIMIT ?"
        };
        let rows: Vec<(String, u32, u32)> = self.run(true, |c| c.exec(sql, (hour, limit)))?;
        let (from, to) = hour_range_ms(hour);
        rows.into_iter()
            .map(|(key, attempts, other)| {
                let distinct: Option<u32> = self.run(true, |c| {
                    c.exec_first(
                        "SELECT COUNT(DISTINCT username) FROM (SELECT username FROM login_records WHERE ip = ? \
                         AND at >= FROM_UNIXTIME(? / 1000) AND at < FROM_UNIXTIME(? / 1000) LIMIT ?) t",
                        (key.as_str(), from, to, DISTINCT_READ),
                    )
                })?;
                Ok(Counted {
                    key,
                    attempts,
                    other,
                    distinct: distinct.unwrap_or(0),
                })
            })
            .collect()
    }

    /// The usernames of `hour` tried most (the first [`TOP`]) and the
    /// credential-stuffing signs among its busiest: addresses that tried at
    /// least [`STUFFING_AT`] usernames, usernames tried from at least that
    /// many addresses. One read of the busiest [`CANDIDATES`] of each.
    pub fn hour_lists(&self, hour: u64) -> Result<HourLists, mysql::Error> {
        let busiest_users = self.top_usernames(hour, CANDIDATES)?;
        let mut stuffed = busiest_users.clone();
        stuffed.retain(|u| u.distinct >= STUFFING_AT);
        stuffed.sort_by_key(|u| std::cmp::Reverse(u.distinct));
        stuffed.truncate(TOP as usize);
        let mut stuffing = self.top_addresses(hour, false, CANDIDATES)?;
        stuffing.retain(|a| a.distinct >= STUFFING_AT);
        stuffing.sort_by_key(|a| std::cmp::Reverse(a.distinct));
        stuffing.truncate(TOP as usize);
        let mut usernames = busiest_users;
        usernames.truncate(TOP as usize);
        Ok(HourLists {
            usernames,
            failing: self.top_addresses(hour, true, TOP)?,
            stuffing,
            stuffed,
        })
    }

    /// Sign-ins per value of each dimension over hours `[from, to]`, the
    /// `per_dimension` largest of each.
    pub fn dimensions(
        &self,
        from: u64,
        to: u64,
        per_dimension: usize,
    ) -> Result<Vec<(String, String, u32)>, mysql::Error> {
        let rows: Vec<(String, String, u64)> = self.run(true, |c| {
            c.exec(
                "SELECT dim, value, SUM(signins) AS n FROM insight_dim_hour \
                 WHERE hour BETWEEN ? AND ? AND dim <> 'all' GROUP BY dim, value ORDER BY dim, n DESC",
                (from, to),
            )
        })?;
        let mut out = Vec::new();
        let mut last = String::new();
        let mut taken = 0;
        for (dim, value, n) in rows {
            if dim != last {
                last.clone_from(&dim);
                taken = 0;
            }
            if taken < per_dimension {
                out.push((dim, value, u32::try_from(n).unwrap_or(u32::MAX)));
                taken += 1;
            }
        }
        Ok(out)
    }

    /// Attempts and successes per hour over `[from, to]`.
    pub fn by_hour(&self, from: u64, to: u64) -> Result<Vec<(u64, u32, u32)>, mysql::Error> {
        let rows: Vec<(u64, String, u32)> = self.run(true, |c| {
            c.exec(
                "SELECT hour, value, signins FROM insight_dim_hour \
                 WHERE hour BETWEEN ? AND ? AND dim = 'all' ORDER BY hour",
                (from, to),
            )
        })?;
        let mut out: Vec<(u64, u32, u32)> = Vec::new();
        for (hour, value, n) in rows {
            if out.last().is_none_or(|(h, _, _)| *h != hour) {
                out.push((hour, 0, 0));
            }
            if let Some(last) = out.last_mut() {
                match value.as_str() {
                    "attempts" => last.1 = n,
                    "successes" => last.2 = n,
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// Sessions that ended in `[from, to]`, per length bucket: (bucket,
    /// sessions, seconds).
    pub fn session_lengths(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u32, u32, u64)>, mysql::Error> {
        let rows: Vec<(u32, u64, u64)> = self.run(true, |c| {
            c.exec(
                "SELECT bucket, SUM(sessions), SUM(seconds) FROM insight_session_hour \
                 WHERE hour BETWEEN ? AND ? GROUP BY bucket ORDER BY bucket",
                (from, to),
            )
        })?;
        Ok(rows
            .into_iter()
            .map(|(b, n, s)| (b, u32::try_from(n).unwrap_or(u32::MAX), s))
            .collect())
    }
}
