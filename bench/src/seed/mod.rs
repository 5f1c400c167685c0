//! `bench seed --users N`: creates the users `user00000001`…`userN` straight
//! in MySQL, with real argon2id hashes from a pool of precomputed ones (a
//! user's password is the one of its pool slot, see [`crate::users`]),
//! Unicode nicknames and a profile row each.
//!
//! The bulk goes through `LOAD DATA LOCAL INFILE` with rows generated on the
//! fly ([`infile`]), in transactions of 500,000 users and their profiles,
//! with unique and foreign-key checks off (the seeder guarantees both: it
//! only loads indices above the last one present, with ids above the
//! table's maximum) and keys disabled around the load. Idempotent: users
//! already there are counted and never duplicated; holes in the range are
//! filled row by row ([`gaps`]).

mod gaps;
pub mod hashes;
mod infile;

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
    load(&mut conn, last + 1, n, Arc::new(pool))?;
    let rows = n - last;
    let secs = loaded.elapsed().as_secs_f64();
    println!(
        "loaded {rows} users and their profiles in {secs:.1} s ({:.0} users/s); {:.1} s in all",
        rows as f64 / secs,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Loads users `first..=last` with `LOAD DATA LOCAL INFILE`.
fn load(
    conn: &mut mysql::PooledConn,
    first: u64,
    last: u64,
    pool: Arc<Vec<String>>,
) -> Result<(), String> {
    let first_id: u64 = conn
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
    let (handler_pool, handler_bar) = (pool.clone(), bar.clone());
    conn.set_local_infile_handler(Some(LocalInfileHandler::new(move |name, out| {
        let chunk = Chunk::parse(name).ok_or_else(|| {
            std::io::Error::other("the server asked for a file the seeder does not serve")
        })?;
        infile::write_rows(&chunk, &handler_pool, run, out, |k| handler_bar.inc(k))
    })));
    let session = |conn: &mut mysql::PooledConn, on: bool| -> Result<(), String> {
        let (checks, keys) = if on { (1, "ENABLE") } else { (0, "DISABLE") };
        conn.query_drop(format!(
            "SET SESSION unique_checks = {checks}, foreign_key_checks = {checks}"
        ))
        .and_then(|_| conn.query_drop(format!("ALTER TABLE users {keys} KEYS")))
        .and_then(|_| conn.query_drop(format!("ALTER TABLE profiles {keys} KEYS")))
        .map_err(|e| e.to_string())
    };
    session(conn, false)?;
    let mut start = first;
    let result = (|| -> Result<(), String> {
        while start <= last {
            let end = (start + CHUNK - 1).min(last);
            let id = first_id + (start - first);
            bar.set_message(format!("users {start}..{end}"));
            let mut tx = conn
                .start_transaction(mysql::TxOpts::default())
                .map_err(|e| e.to_string())?;
            for table in [Table::Users, Table::Profiles] {
                let chunk = Chunk {
                    table,
                    first: start,
                    last: end,
                    first_id: id,
                };
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
            }
            tx.commit().map_err(|e| e.to_string())?;
            start = end + 1;
        }
        Ok(())
    })();
    let restored = session(conn, true);
    bar.finish_and_clear();
    result.and(restored)
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
