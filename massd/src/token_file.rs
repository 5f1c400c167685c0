//! The admin token: from the config when given, otherwise one random token
//! per run directory, kept in `<run_dir>/admin.token` (mode 0600) so the
//! launcher, every server it starts and the console agree without the
//! token ever appearing on a command line or in a log.

use crate::config::Config;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub fn path(config: &Config) -> PathBuf {
    config.run_dir.join("admin.token")
}

/// The token in force, creating the run directory's one if needed.
pub fn admin_token(config: &Config) -> io::Result<String> {
    if !config.admin.token.is_empty() {
        return Ok(config.admin.token.clone());
    }
    let file = path(config);
    if file.exists() {
        return read_file(&file);
    }
    fs::create_dir_all(&config.run_dir)?;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    let token = hex::encode(bytes);
    // Written whole under a private name, then linked into place: a reader
    // never sees a half-written file, and of two racing processes the
    // first link wins and the other reads it.
    let temp = config
        .run_dir
        .join(format!("admin.token.{}", std::process::id()));
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        f.write_all(token.as_bytes())?;
        f.sync_all()?;
    }
    let linked = fs::hard_link(&temp, &file);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(token),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_file(&file),
        Err(e) => Err(e),
    }
}

fn read_file(file: &Path) -> io::Result<String> {
    let token = fs::read_to_string(file)?.trim().to_owned();
    if token.is_empty() {
        return Err(io::Error::other(format!(
            "{} is empty; remove it and start the fleet again",
            file.display()
        )));
    }
    Ok(token)
}

/// The token for the console: config, then the run directory's file.
pub fn read(config: &Config) -> io::Result<String> {
    if !config.admin.token.is_empty() {
        return Ok(config.admin.token.clone());
    }
    let file = path(config);
    read_file(&file).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "no admin token: {} ({e}); set admin.token or start the fleet with `massd launch`",
                file.display()
            ),
        )
    })
}
