//! Repairs, row by row: holes in the seeded range (`INSERT IGNORE` on the
//! unique username, 1,000 rows per statement), for the rare database where
//! some seeded users were deleted, and seeded users without a profile (a
//! load interrupted between its users and their profiles). The bulk of a
//! seed goes through `LOAD DATA` ([`super::infile`]).

use crate::users;
use mysql::prelude::Queryable;

/// Rows per INSERT.
pub const BATCH: u64 = 1000;

/// Adds the missing users of `first..=last` (and any missing profiles);
/// returns how many users were added.
pub fn fill(
    conn: &mut mysql::PooledConn,
    first: u64,
    last: u64,
    pool: &[String],
) -> Result<u64, mysql::Error> {
    let count = (last - first + 1) as usize;
    let mut params: Vec<mysql::Value> = Vec::with_capacity(count * 3);
    for i in first..=last {
        params.push(uuid::Uuid::new_v4().as_bytes().to_vec().into());
        params.push(users::username(i).into());
        params.push(pool[(i % pool.len() as u64) as usize].as_str().into());
    }
    let mut tx = conn.start_transaction(mysql::TxOpts::default())?;
    tx.exec_drop(
        format!(
            "INSERT IGNORE INTO users (uuid, username, pwhash) VALUES {}",
            vec!["(?, ?, ?)"; count].join(", ")
        ),
        params,
    )?;
    let added = tx.affected_rows();
    // Profiles for every user of the range that has none yet (also repairs
    // a run that stopped between the two statements).
    let ids: Vec<(u64, String)> = tx.exec(
        "SELECT u.id, u.username FROM users u LEFT JOIN profiles p ON p.user_id = u.id \
         WHERE u.username BETWEEN ? AND ? AND p.user_id IS NULL",
        (users::username(first), users::username(last)),
    )?;
    insert_profiles(&mut tx, &ids)?;
    tx.commit()?;
    Ok(added)
}

/// Gives every seeded user without a profile its profile, 10,000 at a
/// time; returns how many were added.
pub fn missing_profiles(conn: &mut mysql::PooledConn, last: u64) -> Result<u64, mysql::Error> {
    let mut added = 0;
    loop {
        let ids: Vec<(u64, String)> = conn.exec(
            "SELECT u.id, u.username FROM users u LEFT JOIN profiles p ON p.user_id = u.id \
             WHERE u.username BETWEEN ? AND ? AND p.user_id IS NULL LIMIT 10000",
            (users::username(1), users::username(last)),
        )?;
        if ids.is_empty() {
            return Ok(added);
        }
        for batch in ids.chunks(BATCH as usize) {
            insert_profiles(conn, batch)?;
            added += conn.affected_rows();
        }
    }
}

/// The profiles of `(id, username)` users, in one INSERT IGNORE.
fn insert_profiles(q: &mut impl Queryable, ids: &[(u64, String)]) -> Result<(), mysql::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut params: Vec<mysql::Value> = Vec::with_capacity(ids.len() * 2);
    for (id, name) in ids {
        let index: u64 = name.trim_start_matches("user").parse().unwrap_or(0);
        params.push((*id).into());
        params.push(users::nickname(index).into());
    }
    q.exec_drop(
        format!(
            "INSERT IGNORE INTO profiles (user_id, nickname) VALUES {}",
            vec!["(?, ?)"; ids.len()].join(", ")
        ),
        params,
    )
}
