//! The mails authd wrote to its outbox file (one JSON object per line with
//! `to` and `code`), read the way a person reads their mailbox: wait for
//! the mail, then take its code.

use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// How long a test waits for a mail: the mailer is a separate thread.
const MAIL_WAIT: Duration = Duration::from_secs(5);

pub struct Outbox {
    path: PathBuf,
}

impl Outbox {
    pub fn new(path: PathBuf) -> Outbox {
        Outbox { path }
    }

    /// The codes mailed to `email`, oldest first.
    pub fn codes_to(&self, email: &str) -> Vec<String> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["to"] == email)
            .filter_map(|v| v["code"].as_str().map(str::to_owned))
            .collect()
    }

    /// The notices (mails without a code) to `email`: their purposes.
    pub fn notices_to(&self, email: &str) -> Vec<String> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["to"] == email && v["code"].is_null())
            .filter_map(|v| v["purpose"].as_str().map(str::to_owned))
            .collect()
    }

    /// The codes mailed to `email`, how many.
    pub fn mails_to(&self, email: &str) -> usize {
        self.codes_to(email).len()
    }

    /// Waits until `n` mails went to `email`; panics after a few seconds.
    pub fn wait_for_mails(&self, email: &str, n: usize) {
        assert!(
            crate::eventually(MAIL_WAIT, || self.mails_to(email) >= n),
            "fewer than {n} mails to {email}"
        );
    }

    /// The code of the `n`th mail (1-based) to `email`, waiting for it.
    pub fn nth_code(&self, email: &str, n: usize) -> String {
        self.wait_for_mails(email, n);
        self.codes_to(email)[n - 1].clone()
    }

    /// The last code mailed to `email`, waiting for at least one.
    pub fn last_code(&self, email: &str) -> String {
        self.wait_for_mails(email, 1);
        self.codes_to(email).pop().unwrap()
    }
}
