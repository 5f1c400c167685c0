//! `bench seed --users N`: creates the users `user00000001`…`userN` straight
//! in MySQL, with real argon2id hashes from a pool of precomputed ones (a
//! user's password is the one of its pool slot, see [`crate::users`]),
//! Unicode nicknames, and a profile row each. Idempotent: users already
//! there are counted and skipped (`INSERT IGNORE` on the unique username),
//! never duplicated. Batches of 1,000 rows per multi-row INSERT.

use crate::users;
use authd::config::Argon2Config;
use authd::password::Passwords;
use authd::store::db::Db;
use mysql::prelude::Queryable;
use std::time::Instant;

const BATCH: u64 = 1000;

/// Computes the pool of hashes on every core.
fn hash_pool(size: u64) -> Result<Vec<String>, String> {
    let passwords = Passwords::new(&Argon2Config::default())?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let p = passwords.clone();
            std::thread::spawn(move || {
                (t..size)
                    .step_by(threads as usize)
                    .map(|slot| Ok((slot, p.hash(&users::password_of_slot(slot))?)))
                    .collect::<Result<Vec<(u64, String)>, String>>()
            })
        })
        .collect();
    let mut pool = vec![String::new(); size as usize];
    for h in handles {
        for (slot, phc) in h.join().map_err(|_| "a hashing thread panicked")?? {
            pool[slot as usize] = phc;
        }
    }
    Ok(pool)
}

/// Seeds users 1..=n; prints what it did.
pub fn seed(mysql_url: &str, n: u64, pool_size: u64) -> Result<(), String> {
    let db = Db::connect(mysql_url, 1, 4).map_err(|e| format!("mysql: {e}"))?;
    db.migrate().map_err(|e| format!("migrations: {e}"))?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let present: u64 = conn
        .exec_first(
            "SELECT COUNT(*) FROM users WHERE username BETWEEN ? AND ?",
            (users::username(1), users::username(n)),
        )
        .map_err(|e| e.to_string())?
        .unwrap_or(0);
    if present == n {
        println!("all {n} users are already there; nothing to do");
        return Ok(());
    }
    println!(
        "{present} of {n} users already there; adding the {} missing",
        n - present
    );
    let started = Instant::now();
    let pool = hash_pool(pool_size)?;
    println!(
        "{pool_size} argon2id hashes computed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut added = 0u64;
    let mut first = 1;
    while first <= n {
        let last = (first + BATCH - 1).min(n);
        added += insert_batch(&mut conn, first, last, &pool).map_err(|e| e.to_string())?;
        if last % 10_000 == 0 || last == n {
            let rate = last as f64 / started.elapsed().as_secs_f64();
            eprintln!("{last} / {n} ({rate:.0} rows/s)");
        }
        first = last + 1;
    }
    println!(
        "added {added} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn insert_batch(
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
    if !ids.is_empty() {
        let mut params: Vec<mysql::Value> = Vec::with_capacity(ids.len() * 2);
        for (id, name) in &ids {
            let index: u64 = name.trim_start_matches("user").parse().unwrap_or(0);
            params.push((*id).into());
            params.push(users::nickname(index).into());
        }
        tx.exec_drop(
            format!(
                "INSERT IGNORE INTO profiles (user_id, nickname) VALUES {}",
                vec!["(?, ?)"; ids.len()].join(", ")
            ),
            params,
        )?;
    }
    tx.commit()?;
    Ok(added)
}

/// `bench argon2`: verifications per second of the argon2 pool alone
/// (authd's default parameters, one thread per core), the ceiling of cold
/// sign-ins.
pub fn argon2_rate(threads: usize, seconds: f64) -> Result<f64, String> {
    let passwords = Passwords::new(&Argon2Config::default())?;
    let phc = passwords.hash("measure-me-please")?;
    let deadline = Instant::now() + std::time::Duration::from_secs_f64(seconds);
    let handles: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let (p, phc) = (passwords.clone(), phc.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    assert!(p.verify("measure-me-please", &phc));
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    Ok(total as f64 / seconds)
}
