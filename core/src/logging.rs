//! The logger every daemon uses: `env_logger` with the filter from the
//! config's `log.level` (which the environment and `--log-level` override),
//! timestamps in UTC, and the thread name so a line tells which reactor
//! wrote it. Secrets never reach it: callers log names and statuses, never
//! passwords, codes or tokens.
//!
//! [`init`] also installs the panic hook: a panic is logged through the
//! logger (one line with its thread and location), with a backtrace the
//! first time each location panics, so a bug that a hostile client can
//! trigger over and over costs one backtrace, not a flood of them.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::Write;
use std::sync::{Mutex, Once};

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

/// Installs the logger and the panic hook; a second call (tests) is a no-op.
pub fn init(config: &LogConfig) {
    install_panic_hook();
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

/// Routes panics to the log: every one as a line, the first at each
/// location with its backtrace. Installed once per process.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map_or_else(|| "an unknown place".to_owned(), |l| l.to_string());
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_owned());
            let first = SEEN
                .lock()
                .map(|mut seen| {
                    seen.get_or_insert_with(HashSet::new)
                        .insert(location.clone())
                })
                .unwrap_or(false);
            let thread = std::thread::current();
            let thread = thread.name().unwrap_or("-");
            let line = if first {
                let trace = std::backtrace::Backtrace::force_capture();
                format!("panic in {thread} at {location}: {message}\n{trace}")
            } else {
                format!("panic in {thread} at {location}: {message} (backtrace logged before)")
            };
            // Without a logger (a test, a tool) the line still goes somewhere.
            if log::max_level() == log::LevelFilter::Off {
                eprintln!("{line}");
            } else {
                log::error!("{line}");
            }
        }));
    });
}
