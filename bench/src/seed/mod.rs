//! `bench seed --users N`: creates the users `user00000001`…`userN` straight
//! in MySQL, with real argon2id hashes from a pool of precomputed ones (a
//! user's password is the one of its pool slot, see [`crate::users`]),
//! Unicode nicknames and a profile row each.
//!
//! The bulk goes through `LOAD DATA LOCAL INFILE` with rows generated on the
//! fly ([`infile`]), in transactions of 500,000 rows, with unique and
//! foreign-key checks off (the seeder guarantees both: it only loads
//! indices above the last one present, with ids above the table's maximum)
//! and keys disabled around the load. Users and profiles load on two
//! connections at once, so MariaDB works on both cores: a chunk's profiles
//! go in once its users are committed. Idempotent: users already there are
//! counted and never duplicated; holes in the range, and profiles a
//! stopped run left out, are filled row by row ([`gaps`]).

mod gaps;
pub mod hashes;
mod infile;
mod records;

pub use hashes::argon2_rate;

use crate::users;
use authd::store::db::Db;
use indicatif::{ProgressBar, ProgressStyle};
use infile::{Chunk, Table};
use mysql::prelude::Queryable;
use mysql::LocalInfileHandler;
use std::sync::Arc;
use std::time::Instant;

/// Users per LOAD transaction.
const CHUNK: u64 = 500_000;

/// Adds sign-in attempts of users 1..=`users` until `login_records`
/// holds `n`, over the last `days` days ([`records`]).
pub fn seed_records(mysql_url: &str, n: u64, users: u64, days: u64) -> Result<(), String> {
    let db = Db::connect(mysql_url, 1, 2).map_err(|e| format!("mysql: {e}"))?;
    db.migrate().map_err(|e| format!("migrations: {e}"))?;
    records::seed(mysql_url, n, users, days)
}

/// Seeds users 1..=n; prints what it did.
pub fn seed(mysql_url: &str, n: u64, pool_size: u64) -> Result<(), String> {
    let db = Db::connect(mysql_url, 1, 2).map_err(|e| format!("mysql: {e}"))?;
    db.migrate().map_err(|e| format!("migrations: {e}"))?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let (present, last): (u64, Option<String>) = conn
        .exec_first(
            "SELECT COUNT(*), MAX(username) FROM users WHERE username BETWEEN ? AND ?",
            (users::username(1), users::username(n)),
        )
        .map_err(|e| e.to_string())?
        .unwrap_or((0, None));
    // Profiles an interrupted load left out, and orphans it left behind
    // (ids above every user's, which new users would reuse).
    let repaired = gaps::missing_profiles(&mut conn, n).map_err(|e| e.to_string())?;
    if repaired > 0 {
        println!("gave {repaired} users the profile an interrupted run left out");
    }
    conn.query_drop(
        "DELETE FROM profiles WHERE user_id > (SELECT COALESCE(MAX(id), 0) FROM users)",
    )
    .map_err(|e| e.to_string())?;
    if present == n {
        println!("all {n} users are already there; nothing to do");
        return Ok(());
    }
    let last: u64 = last
        .and_then(|name| name.trim_start_matches("user").parse().ok())
        .unwrap_or(0);
    println!(
        "{present} of {n} users already there; adding the {} missing",
        n - present
    );
    let started = Instant::now();
    let pool = hashes::pool(pool_size)?;
    println!(
        "{pool_size} argon2id hashes computed in {:.1} s (user i gets slot i mod {pool_size})",
        started.elapsed().as_secs_f64()
    );
    if present < last {
        println!(
            "filling {} hole(s) below user {last} row by row",
            last - present
        );
        let mut first = 1;
        while first <= last {
            let end = (first + gaps::BATCH - 1).min(last);
            gaps::fill(&mut conn, first, end, &pool).map_err(|e| e.to_string())?;
            first = end + 1;
        }
    }
    if last == n {
        println!(
            "{} users added in {:.1} s",
            n - present,
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let loaded = Instant::now();
    let mut second = db.conn().map_err(|e| e.to_string())?;
    load([&mut conn, &mut second], last + 1, n, Arc::new(pool))?;
    let rows = n - last;
    let secs = loaded.elapsed().as_secs_f64();
    println!(
        "loaded {rows} users and their profiles in {secs:.1} s ({:.0} users/s); {:.1} s in all",
        rows as f64 / secs,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Loads users `first..=last` with `LOAD DATA LOCAL INFILE`: users on the
/// first connection, their profiles on the second, a chunk behind.
fn load(
    conns: [&mut mysql::PooledConn; 2],
    first: u64,
    last: u64,
    pool: Arc<Vec<String>>,
) -> Result<(), String> {
    let [users_conn, profiles_conn] = conns;
    let first_id: u64 = users_conn
        .query_first("SELECT COALESCE(MAX(id), 0) + 1 FROM users")
        .map_err(|e| e.to_string())?
        .unwrap_or(1);
    let bar = ProgressBar::new(2 * (last - first + 1));
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {human_pos}/{human_len} rows  {per_sec}  ETA {eta}  {msg}",
        )
        .map_err(|e| e.to_string())?,
    );
    let mut run = [0u8; 8];
    getrandom::fill(&mut run).map_err(|e| e.to_string())?;
    for conn in [&mut *users_conn, &mut *profiles_conn] {
        prepare(conn, &pool, run, &bar)?;
    }
    let chunks: Vec<(u64, u64, u64)> = (first..=last)
        .step_by(CHUNK as usize)
        .map(|start| {
            (
                start,
                (start + CHUNK - 1).min(last),
                first_id + (start - first),
            )
        })
        .collect();
    // Users chunk k is committed before its profiles load; profiles of k
    // load while users of k + 1 do.
    let (committed, to_profile) = std::sync::mpsc::sync_channel::<(u64, u64, u64)>(2);
    let result = std::thread::scope(|scope| {
        let profiles = scope.spawn(|| -> Result<(), String> {
            for (start, end, id) in to_profile {
                load_chunk(profiles_conn, Table::Profiles, start, end, id)?;
            }
            Ok(())
        });
        let users = (|| -> Result<(), String> {
            for &(start, end, id) in &chunks {
                bar.set_message(format!("users {start}..{end}"));
                load_chunk(users_conn, Table::Users, start, end, id)?;
                if committed.send((start, end, id)).is_err() {
                    break; // the profile loader failed; its error says why
                }
            }
            Ok(())
        })();
        drop(committed);
        let profiles = profiles
            .join()
            .unwrap_or_else(|_| Err("the profile loader panicked".into()));
        users.and(profiles)
    });
    let restored = finish(users_conn).and(finish(profiles_conn));
    bar.finish_and_clear();
    result.and(restored)
}

/// Installs the row generator on a connection and turns checks and keys
/// off for its session.
fn prepare(
    conn: &mut mysql::PooledConn,
    pool: &Arc<Vec<String>>,
    run: [u8; 8],
    bar: &ProgressBar,
) -> Result<(), String> {
    let (pool, bar) = (pool.clone(), bar.clone());
    conn.set_local_infile_handler(Some(LocalInfileHandler::new(move |name, out| {
        let chunk = Chunk::parse(name).ok_or_else(|| {
            std::io::Error::other("the server asked for a file the seeder does not serve")
        })?;
        infile::write_rows(&chunk, &pool, run, out, |k| bar.inc(k))
    })));
    session(conn, false)
}

fn finish(conn: &mut mysql::PooledConn) -> Result<(), String> {
    conn.set_local_infile_handler(None);
    session(conn, true)
}

fn session(conn: &mut mysql::PooledConn, on: bool) -> Result<(), String> {
    let (checks, keys) = if on { (1, "ENABLE") } else { (0, "DISABLE") };
    conn.query_drop(format!(
        "SET SESSION unique_checks = {checks}, foreign_key_checks = {checks}"
    ))
    .and_then(|_| conn.query_drop(format!("ALTER TABLE users {keys} KEYS")))
    .and_then(|_| conn.query_drop(format!("ALTER TABLE profiles {keys} KEYS")))
    .map_err(|e| e.to_string())
}

/// One LOAD statement in its own transaction, checked to have taken every
/// row.
fn load_chunk(
    conn: &mut mysql::PooledConn,
    table: Table,
    start: u64,
    end: u64,
    first_id: u64,
) -> Result<(), String> {
    let chunk = Chunk {
        table,
        first: start,
        last: end,
        first_id,
    };
    let mut tx = conn
        .start_transaction(mysql::TxOpts::default())
        .map_err(|e| e.to_string())?;
    tx.query_drop(chunk.statement()).map_err(infile_error)?;
    let loaded = tx.affected_rows();
    let expected = end - start + 1;
    if loaded != expected {
        let warnings: Vec<(String, u32, String)> = tx
            .query("SHOW WARNINGS LIMIT 3")
            .map_err(|e| e.to_string())?;
        return Err(format!(
            "LOAD DATA took {loaded} of {expected} rows into {table:?} (rolled back): {warnings:?}"
        ));
    }
    tx.commit().map_err(|e| e.to_string())
}

fn infile_error(e: mysql::Error) -> String {
    match &e {
        mysql::Error::MySqlError(m) if m.code == 1148 || m.code == 3948 => format!(
            "{e}: the server refuses LOAD DATA LOCAL; start it with --local-infile=1 \
             (deploy/mariadb.sh does)"
        ),
        _ => e.to_string(),
    }
}
