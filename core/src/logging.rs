//! The logger every daemon uses: `env_logger` with the filter from the
//! config's `log.level` (which the environment and `--log-level` override),
//! timestamps in UTC, and the thread name so a line tells which reactor
//! wrote it. Secrets never reach it: callers log names and statuses, never
//! passwords, codes or tokens.

use serde::{Deserialize, Serialize};
use std::io::Write;

/// The `[log]` table of a daemon config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A filter in `env_logger` syntax: `info`, `warn,throng_core=debug`, `off`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// Installs the logger; a second call (tests) is a no-op.
pub fn init(config: &LogConfig) {
    let _ = env_logger::Builder::new()
        .parse_filters(&config.level)
        .format(|buf, record| {
            let thread = std::thread::current();
            writeln!(
                buf,
                "{} {:5} [{}] {}: {}",
                buf.timestamp_millis(),
                record.level(),
                thread.name().unwrap_or("-"),
                record.target(),
                record.args()
            )
        })
        .try_init();
}
