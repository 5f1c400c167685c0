//! The admin token: from the config when given, otherwise one random token
//! per run directory, kept in `<run_dir>/admin.token` (mode 0600) so the
//! launcher, every server it starts and the console agree without the
//! token ever appearing on a command line or in a log.

use crate::config::Config;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

pub fn path(config: &Config) -> PathBuf {
    config.run_dir.join("admin.token")
}

/// The token in force, creating the run directory's one if needed.
pub fn admin_token(config: &Config) -> io::Result<String> {
    if !config.admin.token.is_empty() {
        return Ok(config.admin.token.clone());
    }
    let file = path(config);
    if let Ok(text) = fs::read_to_string(&file) {
        let token = text.trim().to_owned();
        if !token.is_empty() {
            return Ok(token);
        }
    }
    fs::create_dir_all(&config.run_dir)?;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    let token = hex::encode(bytes);
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
    {
        Ok(mut f) => {
            f.write_all(token.as_bytes())?;
            Ok(token)
        }
        // Another process of the fleet won the race: use its token.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Ok(fs::read_to_string(&file)?.trim().to_owned())
        }
        Err(e) => Err(e),
    }
}

/// The token for the console: config, then the run directory's file.
pub fn read(config: &Config) -> io::Result<String> {
    if !config.admin.token.is_empty() {
        return Ok(config.admin.token.clone());
    }
    let file = path(config);
    fs::read_to_string(&file).map(|t| t.trim().to_owned()).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("no admin token: {} ({e}); set admin.token or start the fleet with `massd launch`", file.display()),
        )
    })
}
