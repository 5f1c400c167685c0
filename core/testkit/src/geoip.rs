//! A GeoIP2 City database made for a test: `data/make_geoip.py` run by the
//! tests' Python (`deploy/pyenv.sh` makes it, with PyPI's `mmdb-writer`),
//! placing three documentation ranges in Paris, Lyon and Tokyo.

use std::path::{Path, PathBuf};
use std::process::Command;

/// An address in Paris, FR.
pub const PARIS: &str = "192.0.2.10";
/// An address in Lyon, FR (390 km from Paris).
pub const LYON: &str = "203.0.113.10";
/// An address in Tokyo, JP (9,700 km from Paris).
pub const TOKYO: &str = "198.51.100.10";

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The tests' Python, or a panic naming the command that makes it.
pub fn python() -> PathBuf {
    let var = std::env::var_os("THRONG_VAR").map_or_else(|| root().join("var"), PathBuf::from);
    let python = var.join("venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run deploy/pyenv.sh (make test does)",
        python.display()
    );
    python
}

/// Writes the database into `dir`; its path.
pub fn database(dir: &Path) -> PathBuf {
    let out = dir.join("test-city.mmdb");
    let status = Command::new(python())
        .arg(root().join("core/testkit/data/make_geoip.py"))
        .arg(&out)
        .status()
        .expect("run the tests' Python");
    assert!(status.success(), "make_geoip.py failed");
    out
}
