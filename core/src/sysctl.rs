//! Reads kernel settings from a `/proc/sys`-shaped tree under a root path,
//! so the start-up self-check and `tune` read the same way and tests can
//! point both at a fake tree.

use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

/// The file under `root` that holds a dotted sysctl name
/// (`net.core.somaxconn` → `ROOT/proc/sys/net/core/somaxconn`).
pub fn path_of(root: &Path, name: &str) -> PathBuf {
    let mut path = root.join("proc/sys");
    for part in name.split('.') {
        path.push(part);
    }
    path
}

/// The value of a sysctl, whitespace-normalised (`"4096 87380 6291456"`),
/// or `None` when this kernel has no such knob (removed, or its module is
/// not loaded).
pub fn read(root: &Path, name: &str) -> io::Result<Option<String>> {
    match std::fs::read_to_string(path_of(root, name)) {
        Ok(text) => Ok(Some(text.split_whitespace().collect::<Vec<_>>().join(" "))),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// A numeric sysctl; `None` when absent or not a single number.
pub fn read_u64(root: &Path, name: &str) -> io::Result<Option<u64>> {
    Ok(read(root, name)?.and_then(|v| v.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_from_a_fake_tree() {
        let dir = tempfile::tempdir().unwrap();
        let file = path_of(dir.path(), "net.core.somaxconn");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "4096\n").unwrap();
        assert_eq!(
            read_u64(dir.path(), "net.core.somaxconn").unwrap(),
            Some(4096)
        );
        assert_eq!(read(dir.path(), "net.ipv4.tcp_tw_recycle").unwrap(), None);
    }
}
