//! The start-up self-check: does this process's environment allow what its
//! config asks for? It compares `RLIMIT_NOFILE` with the connections it may
//! hold and `net.core.somaxconn` with the listen backlog, and produces one
//! clear warning that names the fix, instead of failing obscurely under load.

use crate::rlimit::NofileLimit;
use crate::sysctl;
use std::path::Path;

/// File descriptors a daemon needs beyond its client connections: epoll,
/// eventfds, listeners, log files, backend and database connections.
pub const FD_RESERVE: u64 = 128;

/// What the config needs from the system.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// Connections the daemon may hold at once.
    pub connections: u64,
    /// Listen backlog asked for.
    pub backlog: u64,
    /// Extra descriptors beyond the connections (outbound sockets etc.).
    pub extra_fds: u64,
}

/// What was found, one finding per shortfall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Nofile { needed: u64, limit: NofileLimit },
    Somaxconn { backlog: u64, somaxconn: u64 },
}

/// Compares the needs with the limits read under `root` (normally `/`).
pub fn check(needs: &Needs, limit: NofileLimit, root: &Path) -> Vec<Finding> {
    let mut findings = Vec::new();
    let needed = needs.connections + needs.extra_fds + FD_RESERVE;
    if limit.soft < needed {
        findings.push(Finding::Nofile { needed, limit });
    }
    if let Ok(Some(somaxconn)) = sysctl::read_u64(root, "net.core.somaxconn") {
        if somaxconn < needs.backlog {
            findings.push(Finding::Somaxconn {
                backlog: needs.backlog,
                somaxconn,
            });
        }
    }
    findings
}

/// One warning line for all findings, naming the fix; `None` when all is
/// well. `profile` is the `tune` profile for this daemon's role.
pub fn warning(findings: &[Finding], profile: &str) -> Option<String> {
    if findings.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let mut fixes = Vec::new();
    for f in findings {
        match f {
            Finding::Nofile { needed, limit } => {
                parts.push(format!(
                    "RLIMIT_NOFILE is {} (hard {}) but max_connections needs about {needed} descriptors",
                    limit.soft, limit.hard
                ));
                if limit.hard < *needed {
                    fixes.push(format!(
                        "raise the hard limit (LimitNOFILE={needed} in the unit, or limits.d as root) \
                         or lower max_connections below {}, or split the load over several processes",
                        limit.hard.saturating_sub(FD_RESERVE)
                    ));
                } else {
                    fixes.push(format!("`ulimit -n {needed}` before starting"));
                }
            }
            Finding::Somaxconn { backlog, somaxconn } => {
                parts.push(format!(
                    "net.core.somaxconn is {somaxconn}, so the backlog of {backlog} is cut to {somaxconn}"
                ));
                fixes.push(format!("`sysctl -w net.core.somaxconn={backlog}`"));
            }
        }
    }
    Some(format!(
        "self-check: {}. Fix: {}; or apply the tuning profile with `tune apply --profile {profile}` \
         (`tune check --profile {profile}` shows every knob).",
        parts.join("; "),
        fixes.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_root(somaxconn: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let file = sysctl::path_of(dir.path(), "net.core.somaxconn");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, somaxconn).unwrap();
        dir
    }

    #[test]
    fn enough_of_everything_is_silent() {
        let root = fake_root("8192\n");
        let needs = Needs {
            connections: 1000,
            backlog: 4096,
            extra_fds: 0,
        };
        let limit = NofileLimit {
            soft: 20_000,
            hard: 20_000,
        };
        assert!(check(&needs, limit, root.path()).is_empty());
    }

    #[test]
    fn shortfalls_become_one_warning_naming_the_fix() {
        let root = fake_root("128\n");
        let needs = Needs {
            connections: 50_000,
            backlog: 4096,
            extra_fds: 10,
        };
        let limit = NofileLimit {
            soft: 20_000,
            hard: 20_000,
        };
        let findings = check(&needs, limit, root.path());
        assert_eq!(findings.len(), 2);
        let text = warning(&findings, "mass").unwrap();
        assert!(text.contains("RLIMIT_NOFILE is 20000"), "{text}");
        assert!(text.contains("somaxconn=4096"), "{text}");
        assert!(text.contains("tune apply --profile mass"), "{text}");
    }
}
