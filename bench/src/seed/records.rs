//! `bench seed --login-records N`: N sign-in attempts spread over the last
//! `--days` days, for the analysis benchmark (`bench/console.py`, whose
//! views must answer within a second with 50 million records present).
//!
//! The records are made up but shaped like traffic: most attempts come
//! from an account's own address and browser and succeed; some come from
//! elsewhere; a few "attackers" try many usernames with wrong passwords,
//! and a few popular usernames are tried from many addresses. They load
//! hour by hour with `LOAD DATA LOCAL INFILE`, rows generated on the fly,
//! and each chunk's rollups are summed by authd's own
//! [`authd::store::rollup::Rollup`] as the rows are written and added in
//! the same transaction — exactly what the record writer adds for the same
//! attempts, so the views read what they would have read.

use crate::users;
use authd::store::db::LoginRecord;
use authd::store::rollup::Rollup;
use indicatif::{ProgressBar, ProgressStyle};
use mysql::prelude::Queryable;
use mysql::LocalInfileHandler;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Hours one LOAD covers.
const HOURS_PER_CHUNK: u64 = 6;

const AGENTS: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
];
const COUNTRIES: [&str; 8] = ["CN", "US", "SG", "JP", "DE", "BR", "IN", "FR"];
const REFERRERS: [&str; 4] = [
    "https://www.google.com",
    "https://news.example.com",
    "https://chat.example.org",
    "https://partner.example.net",
];

/// A small deterministic generator (SplitMix64): the same N gives the same
/// records, so two seeded machines hold the same data.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What the seed knows of the seeded users: how many, and the id of user 1
/// when ids are contiguous (`None`: records carry no user id).
struct Accounts {
    users: u64,
    first_id: Option<u64>,
}

/// One attempt in hour `hour`.
fn record(mix: &mut Mix, accounts: &Accounts, hour: u64) -> LoginRecord {
    let at_ms = hour * 3_600_000 + mix.below(3_600_000);
    let roll = mix.below(100);
    // 5 % from 50 attackers trying any username; 5 % at 100 popular
    // usernames from anywhere; the rest an account from home, mostly.
    let (i, ip, result) = if roll < 5 {
        let i = 1 + mix.below(accounts.users * 2);
        let ip = format!("203.0.{}.{}", 100 + mix.below(2), 1 + mix.below(25));
        let result = if i > accounts.users {
            "unknown_user"
        } else {
            "bad_password"
        };
        (i, ip, result)
    } else if roll < 10 {
        let i = 1 + mix.below(100.min(accounts.users));
        let ip = format!(
            "198.{}.{}.{}",
            18 + mix.below(2),
            mix.below(256),
            1 + mix.below(254)
        );
        (
            i,
            ip,
            if mix.below(10) == 0 {
                "ok"
            } else {
                "bad_password"
            },
        )
    } else {
        let i = 1 + mix.below(accounts.users);
        let home = i.wrapping_mul(2_654_435_761);
        let ip = if mix.below(10) < 8 {
            format!(
                "10.{}.{}.{}",
                (home >> 16) & 255,
                (home >> 8) & 255,
                1 + home % 254
            )
        } else {
            format!(
                "100.{}.{}.{}",
                64 + mix.below(64),
                mix.below(256),
                1 + mix.below(254)
            )
        };
        (
            i,
            ip,
            if mix.below(20) == 0 {
                "bad_password"
            } else {
                "ok"
            },
        )
    };
    let known = i <= accounts.users;
    LoginRecord {
        user_id: accounts.first_id.filter(|_| known).map(|f| f + i - 1),
        username: users::username(i),
        at_ms,
        agent: AGENTS[(i % AGENTS.len() as u64) as usize].to_owned(),
        country: COUNTRIES[(mix.below(COUNTRIES.len() as u64)) as usize].to_owned(),
        referrer: if mix.below(10) < 3 {
            REFERRERS[mix.below(REFERRERS.len() as u64) as usize].to_owned()
        } else {
            String::new()
        },
        ip,
        result,
        ..LoginRecord::default()
    }
}

/// The LOAD line of a record (no field holds a tab, newline or backslash).
fn line(r: &LoginRecord, out: &mut impl Write) -> std::io::Result<()> {
    let user_id = r
        .user_id
        .map_or_else(|| "\\N".to_owned(), |id| id.to_string());
    writeln!(
        out,
        "{user_id}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        r.username, r.at_ms, r.ip, r.agent, r.result, r.country, r.referrer
    )
}

/// Adds records until `login_records` holds `n`; prints what it did. Its
/// own connection, with a read timeout for statements that take minutes
/// (counting 50 M rows; authd's pool gives up after 10 s).
pub fn seed(mysql_url: &str, n: u64, users: u64, days: u64) -> Result<(), String> {
    let opts = mysql::Opts::from_url(mysql_url).map_err(|e| e.to_string())?;
    let mut conn = mysql::Conn::new(
        mysql::OptsBuilder::from_opts(opts)
            .read_timeout(Some(std::time::Duration::from_secs(900)))
            .local_infile_handler(None),
    )
    .map_err(|e| format!("mysql: {e}"))?;
    let present: u64 = conn
        .query_first("SELECT COUNT(*) FROM login_records")
        .map_err(|e| e.to_string())?
        .unwrap_or(0);
    if present >= n {
        println!("login_records already holds {present} rows (≥ {n}); nothing to do");
        return Ok(());
    }
    let want = n - present;
    let ids: (Option<u64>, Option<u64>) = conn
        .exec_first(
            "SELECT (SELECT id FROM users WHERE username = ?), (SELECT id FROM users WHERE username = ?)",
            (users::username(1), users::username(users)),
        )
        .map_err(|e| e.to_string())?
        .unwrap_or((None, None));
    let accounts = Accounts {
        users,
        first_id: match ids {
            (Some(a), Some(b)) if b == a + users - 1 => Some(a),
            _ => None,
        },
    };
    if accounts.first_id.is_none() {
        println!("users 1..{users} are not seeded with contiguous ids: records carry no user id");
    }
    let hours = (days * 24).max(1);
    let now_hour = authd::store::rollup::hour_of(authd::records::now_ms());
    let first_hour = now_hour - hours;
    let bar = ProgressBar::new(want);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {human_pos}/{human_len} records  {per_sec}  ETA {eta}",
        )
        .map_err(|e| e.to_string())?,
    );
    let started = Instant::now();
    let accounts = Arc::new(accounts);
    let rollup = Arc::new(Mutex::new(Rollup::default()));
    {
        let (accounts, rollup, bar) = (accounts.clone(), rollup.clone(), bar.clone());
        // The "file" `throng-records:FIRST_HOUR:HOURS:PER_HOUR:SEED`.
        conn.set_local_infile_handler(Some(LocalInfileHandler::new(move |name, out| {
            let text = std::str::from_utf8(name).unwrap_or("");
            let f: Vec<u64> = text
                .strip_prefix("throng-records:")
                .map(|t| t.split(':').filter_map(|x| x.parse().ok()).collect())
                .unwrap_or_default();
            let [hour0, count, per_hour, seed] = f[..] else {
                return Err(std::io::Error::other("not a file the seeder serves"));
            };
            let mut mix = Mix(seed);
            let mut sums = Rollup::default();
            for hour in hour0..hour0 + count {
                for _ in 0..per_hour {
                    let r = record(&mut mix, &accounts, hour);
                    sums.attempt(&r);
                    line(&r, out)?;
                }
                bar.inc(per_hour);
            }
            out.flush()?;
            *rollup
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))? = sums;
            Ok(())
        })));
    }
    let per_hour = want.div_ceil(hours);
    let mut hour = first_hour;
    while hour < now_hour {
        let count = HOURS_PER_CHUNK.min(now_hour - hour);
        let name = format!(
            "throng-records:{hour}:{count}:{per_hour}:{}",
            present + hour
        );
        let mut tx = conn
            .start_transaction(mysql::TxOpts::default())
            .map_err(|e| e.to_string())?;
        tx.query_drop(format!(
            "LOAD DATA LOCAL INFILE '{name}' INTO TABLE login_records CHARACTER SET utf8mb4 \
             FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' \
             (user_id, username, @at_ms, ip, user_agent, result, country, referrer) \
             SET at = FROM_UNIXTIME(@at_ms / 1000)"
        ))
        .map_err(|e| e.to_string())?;
        let sums = std::mem::take(&mut *rollup.lock().map_err(|_| "poisoned")?);
        sums.write(&mut tx).map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        hour += count;
    }
    conn.set_local_infile_handler(None);
    bar.finish_and_clear();
    let total: u64 = conn
        .query_first("SELECT COUNT(*) FROM login_records")
        .map_err(|e| e.to_string())?
        .unwrap_or(0);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} records over {hours} hours loaded with their rollups in {secs:.1} s ({:.0}/s); login_records holds {total}",
        total - present,
        (total - present) as f64 / secs
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_the_same_for_the_same_seed_and_mostly_succeed() {
        let accounts = Accounts {
            users: 1000,
            first_id: Some(10),
        };
        let make = |seed| {
            let mut mix = Mix(seed);
            (0..2000)
                .map(|_| record(&mut mix, &accounts, 100))
                .collect::<Vec<_>>()
        };
        let (a, b) = (make(1), make(1));
        assert!(a
            .iter()
            .zip(&b)
            .all(|(x, y)| x.username == y.username && x.ip == y.ip && x.at_ms == y.at_ms));
        let ok = a.iter().filter(|r| r.result == "ok").count();
        assert!((1500..1950).contains(&ok), "{ok}");
        assert!(a.iter().all(|r| r.at_ms / 3_600_000 == 100));
        assert!(a
            .iter()
            .any(|r| r.result == "unknown_user" && r.user_id.is_none()));
        let mut out = Vec::new();
        line(&a[0], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().matches('\t').count(), 7);
    }
}
