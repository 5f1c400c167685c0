//! `tune apply` and `tune revert`. Apply installs a profile's files under
//! `ROOT/etc/…` and sets each short knob in `ROOT/proc/sys` (exactly what
//! `sysctl -w` does), never lowering a value that is already better. Every
//! value and file it replaces is saved first in a state file, so `revert`
//! puts back precisely what was there — however many times apply ran.

use crate::live::Live;
use crate::profile::Profile;
use crate::rule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Where the previous values are kept, relative to the root.
pub const STATE_PATH: &str = "var/lib/throng/tune-state.json";

/// One thing apply or revert changed (or would, with `--dry-run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// A sysctl name or a file path under the root.
    pub what: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// What was there before the first `apply`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// sysctl name → value before.
    pub knobs: BTreeMap<String, String>,
    /// Path under the root → contents before (`None`: it did not exist).
    pub files: BTreeMap<String, Option<String>>,
    /// Folders under the root that apply created, removed again on revert.
    #[serde(default)]
    pub dirs: Vec<String>,
}

impl State {
    /// Notes the folders above `rel` that do not exist yet under `root`.
    fn note_new_dirs(&mut self, root: &Path, rel: &Path) {
        let mut dir = rel.parent();
        while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
            let key = d.display().to_string();
            if !root.join(d).exists() && !self.dirs.contains(&key) {
                self.dirs.push(key);
            }
            dir = d.parent();
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("tune {0} changes the system and needs root; nothing was changed (try --dry-run)")]
    NotRoot(&'static str),
    #[error("refusing a dangerous profile: {0}")]
    Dangerous(String),
    #[error("nothing to revert: no {STATE_PATH} under {0}")]
    NothingToRevert(String),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("state file: {0}")]
    State(#[from] serde_json::Error),
}

fn load_state(root: &Path) -> Result<Option<State>, ApplyError> {
    match std::fs::read_to_string(root.join(STATE_PATH)) {
        Ok(text) => Ok(Some(serde_json::from_str(&text)?)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Writes a file by temp file and rename, creating parent folders.
fn write_file(path: &Path, text: &str) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp: PathBuf = path.with_extension("tune-tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

/// Installs and applies `profile`. With `dry_run` only reports.
pub fn apply(profile: &Profile, live: &Live, dry_run: bool) -> Result<Vec<Change>, ApplyError> {
    let problems = profile.problems();
    if !problems.is_empty() {
        return Err(ApplyError::Dangerous(problems.join("; ")));
    }
    if !dry_run && !live.is_root() {
        return Err(ApplyError::NotRoot("apply"));
    }
    let root = live.root();
    let mut state = load_state(root)?.unwrap_or_default();
    let mut changes = Vec::new();
    for file in profile.render() {
        let path = root.join(&file.install_path);
        let before = std::fs::read_to_string(&path).ok();
        if before.as_deref() == Some(file.text.as_str()) {
            continue;
        }
        let key = file.install_path.display().to_string();
        state
            .files
            .entry(key.clone())
            .or_insert_with(|| before.clone());
        state.note_new_dirs(root, &file.install_path);
        if !dry_run {
            write_file(&path, &file.text)?;
        }
        changes.push(Change {
            what: key,
            before: before.map(|_| "(previous file)".into()),
            after: Some("(profile file)".into()),
        });
    }
    for knob in &profile.knobs {
        let Some(raw) = live.raw_sysctl(&knob.name)? else {
            continue; // not on this kernel: check reports it
        };
        let current = rule::normalise(&raw);
        let Some(target) = knob.rule.target(&current, &knob.value) else {
            continue;
        };
        if target == current {
            continue;
        }
        state.knobs.entry(knob.name.clone()).or_insert(raw);
        if !dry_run {
            live.write_sysctl(&knob.name, &target)?;
        }
        changes.push(Change {
            what: knob.name.clone(),
            before: Some(current),
            after: Some(target),
        });
    }
    if !dry_run && !changes.is_empty() {
        state.note_new_dirs(root, Path::new(STATE_PATH));
        write_file(
            &root.join(STATE_PATH),
            &serde_json::to_string_pretty(&state)?,
        )?;
    }
    Ok(changes)
}

/// Puts back everything the applies since the state file was made changed.
pub fn revert(live: &Live, dry_run: bool) -> Result<Vec<Change>, ApplyError> {
    let root = live.root();
    let state =
        load_state(root)?.ok_or_else(|| ApplyError::NothingToRevert(root.display().to_string()))?;
    if !dry_run && !live.is_root() {
        return Err(ApplyError::NotRoot("revert"));
    }
    let mut changes = Vec::new();
    for (name, before) in &state.knobs {
        let now = live.sysctl(name)?;
        if now.as_deref() == Some(rule::normalise(before).as_str()) {
            continue;
        }
        if !dry_run {
            live.write_sysctl(name, before)?;
        }
        changes.push(Change {
            what: name.clone(),
            before: now,
            after: Some(rule::normalise(before)),
        });
    }
    for (file, before) in &state.files {
        let path = root.join(file);
        if !dry_run {
            match before {
                Some(text) => write_file(&path, text)?,
                None => match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e.into()),
                    _ => {}
                },
            }
        }
        changes.push(Change {
            what: file.clone(),
            before: Some("(profile file)".into()),
            after: before.as_ref().map(|_| "(previous file)".into()),
        });
    }
    if !dry_run {
        std::fs::remove_file(root.join(STATE_PATH))?;
        // Deepest first; a folder someone else put files in since stays.
        let mut dirs = state.dirs.clone();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
        for dir in dirs {
            let _ = std::fs::remove_dir(root.join(dir));
        }
    }
    Ok(changes)
}

/// One line per change: `what: before -> after`.
pub fn describe(changes: &[Change]) -> String {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
    changes
        .iter()
        .map(|c| format!("{}: {} -> {}\n", c.what, show(&c.before), show(&c.after)))
        .collect()
}
