//! Equal time for unknown users. A wrong password for a real account costs
//! an argon2 verification (tens of milliseconds); refusing an unknown
//! username at once would answer in about one, so the time of a refusal
//! would tell whether the account exists. An unknown username is therefore
//! verified too, against a decoy: an argon2 hash of a random password made
//! at start-up with the configured parameters, for a user id no account
//! has. The refusal comes back through the same pool, queue and writes.

use super::Worker;
use crate::store::User;

/// The user id of the decoy: MySQL's AUTO_INCREMENT ids start at 1.
pub(super) const DECOY_ID: u64 = 0;

impl Worker {
    /// The decoy account an unknown username is verified against.
    pub(super) fn decoy(&self) -> User {
        User {
            id: DECOY_ID,
            uuid: [0; 16],
            username: String::new(),
            email: None,
            has_email: false,
            pwhash: Some(self.shared.decoy_hash.clone()),
            pw_fingerprint: String::new(),
            nickname: String::new(),
            avatar: None,
            locked: false,
            permissions: 0,
        }
    }
}

/// A decoy hash: argon2 of 32 random bytes (hex), which no one can know.
pub fn decoy_hash(passwords: &crate::password::Passwords) -> Result<String, String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| format!("no randomness for the decoy: {e}"))?;
    passwords.hash(&hex::encode(raw))
}
