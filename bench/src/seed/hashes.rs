//! The argon2id side of seeding: the pool of precomputed hashes users share
//! by index, and `bench argon2`, the verification rate that caps cold
//! sign-ins.

use crate::users;
use authd::config::Argon2Config;
use authd::password::Passwords;
use std::time::Instant;

/// Computes the pool of hashes on every core; slot `s` hashes
/// `users::password_of_slot(s)`.
pub fn pool(size: u64) -> Result<Vec<String>, String> {
    let passwords = Passwords::new(&Argon2Config::default())?;
    let threads = throng_core::cores::available() as u64;
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
