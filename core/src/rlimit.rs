//! The process's open-file limit (`RLIMIT_NOFILE`): reading it, and raising
//! the soft limit to the hard one at start, which any process may do.

use std::io;

/// Soft and hard `RLIMIT_NOFILE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NofileLimit {
    pub soft: u64,
    pub hard: u64,
}

pub fn nofile() -> io::Result<NofileLimit> {
    let (soft, hard) = rlimit::Resource::NOFILE.get()?;
    Ok(NofileLimit { soft, hard })
}

/// Raises the soft limit as far as the hard limit allows; returns the limit
/// now in force.
pub fn raise_nofile_to_hard() -> io::Result<NofileLimit> {
    rlimit::increase_nofile_limit(u64::MAX)?;
    nofile()
}
