//! Reads kernel settings from a `/proc/sys`-shaped tree under a root path,
//! so the start-up self-check and `tune` read the same way and tests can
//! point both at a fake tree.

use std::fs::File;
use std::io::{self, ErrorKind, Read};
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

/// Room for the longest value in one `read`: a list-valued sysctl such as
/// `ip_local_reserved_ports` (a bitmap handler) answers only the first read
/// of a file and returns end-of-file at any later offset, so a reader that
/// starts small (`read_to_string` probes with 32 bytes) sees a truncated
/// value. Every port listed one by one would be under 400 KB.
const ONE_READ: usize = 512 * 1024;

/// A sysctl's text exactly as the kernel gives it (tabs kept, the final
/// newline dropped), read in one call; `None` when this kernel has no such
/// knob (removed, or its module is not loaded).
pub fn read_raw(root: &Path, name: &str) -> io::Result<Option<String>> {
    let mut file = match File::open(path_of(root, name)) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut buf = vec![0u8; ONE_READ];
    let mut len = 0;
    // A regular file (a test's fake tree) may still come in pieces.
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    let text = String::from_utf8(buf).map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
    Ok(Some(text.trim_end_matches('\n').to_owned()))
}

/// The value of a sysctl, whitespace-normalised (`"4096 87380 6291456"`),
/// or `None` when this kernel has no such knob.
pub fn read(root: &Path, name: &str) -> io::Result<Option<String>> {
    Ok(read_raw(root, name)?.map(|text| text.split_whitespace().collect::<Vec<_>>().join(" ")))
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
