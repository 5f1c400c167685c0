//! The live system under a root path: sysctls from `ROOT/proc/sys` (through
//! throng-core's reader, the one the daemons' self-check uses), the
//! process's open-file limit from `ROOT/proc/self/limits`, and its uid and
//! capabilities from `ROOT/proc/self/status`. Tests point it at fake trees.

use std::io;
use std::path::{Path, PathBuf};
use throng_core::sysctl;

/// `CAP_SYS_RESOURCE`: needed to raise a hard resource limit.
const CAP_SYS_RESOURCE: u32 = 24;

#[derive(Debug, Clone)]
pub struct Live {
    root: PathBuf,
}

impl Live {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Live { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A sysctl's value, `None` when this kernel has no such knob.
    pub fn sysctl(&self, name: &str) -> io::Result<Option<String>> {
        sysctl::read(&self.root, name)
    }

    /// A sysctl's value exactly as the file holds it (tabs kept), for
    /// saving and restoring byte for byte.
    pub fn raw_sysctl(&self, name: &str) -> io::Result<Option<String>> {
        sysctl::read_raw(&self.root, name)
    }

    /// Sets a sysctl, as `sysctl -w` does: by writing its `/proc/sys` file.
    pub fn write_sysctl(&self, name: &str, value: &str) -> io::Result<()> {
        std::fs::write(sysctl::path_of(&self.root, name), format!("{value}\n"))
    }

    /// Soft and hard `RLIMIT_NOFILE` of this process.
    pub fn nofile(&self) -> Option<(u64, u64)> {
        let text = std::fs::read_to_string(self.root.join("proc/self/limits")).ok()?;
        let line = text.lines().find(|l| l.starts_with("Max open files"))?;
        let fields: Vec<&str> = line["Max open files".len()..].split_whitespace().collect();
        let parse = |f: &str| {
            if f == "unlimited" {
                Some(u64::MAX)
            } else {
                f.parse().ok()
            }
        };
        Some((parse(fields.first()?)?, parse(fields.get(1)?)?))
    }

    fn status_field(&self, key: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.root.join("proc/self/status")).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_owned()))
    }

    /// Whether this process runs as root (effective uid 0).
    pub fn is_root(&self) -> bool {
        self.status_field("Uid:")
            .and_then(|v| v.split_whitespace().nth(1).map(|e| e == "0"))
            .unwrap_or(false)
    }

    /// Whether this process may raise its hard limits.
    pub fn can_raise_hard_limits(&self) -> bool {
        self.status_field("CapEff:")
            .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
            .is_some_and(|caps| caps & (1 << CAP_SYS_RESOURCE) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_limits_uid_and_capabilities_of_a_fake_process() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc/self")).unwrap();
        std::fs::write(
            dir.path().join("proc/self/limits"),
            "Limit                     Soft Limit           Hard Limit           Units\n\
             Max open files            1024                 20000                files\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("proc/self/status"),
            "Name:\ttune\nUid:\t1000\t0\t0\t0\nCapEff:\t0000000001000000\n",
        )
        .unwrap();
        let live = Live::new(dir.path());
        assert_eq!(live.nofile(), Some((1024, 20000)));
        assert!(live.is_root(), "effective uid is the second field");
        assert!(live.can_raise_hard_limits());
    }
}
