//! The reads of the behaviour analysis (`admin_insight`): each one an
//! index range over a rollup table ([`super::rollup`]) — one hour of
//! `insight_user_hour` or `insight_ip_hour` by their (hour, count)
//! indexes, a window of the small `insight_dim_hour` and
//! `insight_session_hour` — and, for the few rows a view shows, a distinct
//! count over `login_records` by its (username, at) or (ip, at) index.
//! None scans the records whole, so each answers in the same time at 50
//! million records as at 50.

use super::db::Db;
use mysql::prelude::Queryable;

/// How many rows each list shows.
pub const TOP: u32 = 20;
/// Rows looked at for credential-stuffing signs (the busiest of the hour).
const CANDIDATES: u32 = 50;
/// Distinct usernames from one address (or addresses for one username)
/// from which it is listed as a sign.
pub const STUFFING_AT: u32 = 5;

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
                        "SELECT COUNT(DISTINCT ip) FROM login_records WHERE username = ? \
                         AND at >= FROM_UNIXTIME(? / 1000) AND at < FROM_UNIXTIME(? / 1000)",
                        (key.as_str(), from, to),
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
                        "SELECT COUNT(DISTINCT username) FROM login_records WHERE ip = ? \
                         AND at >= FROM_UNIXTIME(? / 1000) AND at < FROM_UNIXTIME(? / 1000)",
                        (key.as_str(), from, to),
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

    /// Credential-stuffing signs of `hour`: among its busiest addresses,
    /// those that tried at least [`STUFFING_AT`] usernames; among its
    /// busiest usernames, those tried from at least that many addresses.
    pub fn stuffing_signs(&self, hour: u64) -> Result<(Vec<Counted>, Vec<Counted>), mysql::Error> {
        let mut addresses = self.top_addresses(hour, false, CANDIDATES)?;
        addresses.retain(|a| a.distinct >= STUFFING_AT);
        addresses.sort_by_key(|a| std::cmp::Reverse(a.distinct));
        addresses.truncate(TOP as usize);
        let mut usernames = self.top_usernames(hour, CANDIDATES)?;
        usernames.retain(|u| u.distinct >= STUFFING_AT);
        usernames.sort_by_key(|u| std::cmp::Reverse(u.distinct));
        usernames.truncate(TOP as usize);
        Ok((addresses, usernames))
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
