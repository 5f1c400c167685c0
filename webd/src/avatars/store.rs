//! The avatar store, content-addressed on the filesystem: a picture's id is
//! the SHA-256 of its (re-encoded) bytes, so the same picture is stored
//! once and a URL never changes meaning. Writes go to a temporary file,
//! are fsynced, then renamed into place (and the folder fsynced), so a
//! reader never sees half a picture. Ids are validated before they touch a
//! path, so no request can escape the store.
//!
//! An upload is first *staged* (`staging/`, not served) and *published*
//! (renamed into place) only once authd has accepted it as the account's
//! avatar; refused, it is discarded. Staged files a crash left behind are
//! swept when the store opens, so no file reaches the served folders
//! without an account having taken it, and nothing lingers unseen.

use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

/// Staged files older than this when the store opens were left by a crash.
const STALE_STAGED: Duration = Duration::from_secs(3600);

/// A picture written but not yet served.
#[derive(Debug)]
pub struct Staged {
    pub id: String,
    path: PathBuf,
}

#[derive(Debug, Clone)]
pub struct AvatarStore {
    dir: PathBuf,
    /// When staged files were last swept (an upload sweeps at most every
    /// [`SWEEP_EVERY`], so a long-running webd keeps no leftovers either).
    last_sweep: std::sync::Arc<std::sync::Mutex<std::time::Instant>>,
}

/// How often uploads sweep the staging folder.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// Whether `id` is a photo id: 64 lowercase hex digits.
pub fn valid_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl AvatarStore {
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(dir.join("staging"))?;
        let store = AvatarStore {
            dir,
            last_sweep: std::sync::Arc::new(std::sync::Mutex::new(std::time::Instant::now())),
        };
        let swept = store.sweep_staging(STALE_STAGED)?;
        if swept > 0 {
            log::info!("removed {swept} staged avatar(s) left by an earlier run");
        }
        Ok(store)
    }

    /// Removes staged files older than `age`; how many.
    pub fn sweep_staging(&self, age: Duration) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(self.dir.join("staging"))? {
            let entry = entry?;
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|elapsed| elapsed >= age);
            if old && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Writes `png` where nothing serves it yet (sweeping stale staged
    /// files first when it is time).
    pub fn stage(&self, png: &[u8]) -> io::Result<Staged> {
        let due = {
            let mut last = self.last_sweep.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.elapsed() >= SWEEP_EVERY;
            if due {
                *last = std::time::Instant::now();
            }
            due
        };
        if due {
            self.sweep_staging(STALE_STAGED)?;
        }
        let id = hex::encode(Sha256::digest(png));
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(io::Error::other)?;
        let path = self
            .dir
            .join("staging")
            .join(format!("{id}.{}.png", hex::encode(suffix)));
        let mut file = File::create(&path)?;
        file.write_all(png)?;
        file.sync_all()?;
        Ok(Staged { id, path })
    }

    /// Serves a staged picture under its id (an identical one already
    /// served stays, and the staged copy goes).
    pub fn publish(&self, staged: Staged) -> io::Result<()> {
        let path = self.path(&staged.id).expect("a SHA-256 in hex is an id");
        if path.exists() {
            return fs::remove_file(&staged.path);
        }
        let folder = path.parent().expect("ids live in a subfolder");
        fs::create_dir_all(folder)?;
        fs::rename(&staged.path, &path)?;
        File::open(folder)?.sync_all()
    }

    /// Drops a staged picture nobody took.
    pub fn discard(&self, staged: Staged) -> io::Result<()> {
        fs::remove_file(&staged.path)
    }

    /// Where picture `id` lives; `None` for anything that is not an id.
    pub fn path(&self, id: &str) -> Option<PathBuf> {
        valid_id(id).then(|| self.dir.join(&id[..2]).join(format!("{id}.png")))
    }

    /// Stores `png` and returns its id (storing it again changes nothing).
    pub fn put(&self, png: &[u8]) -> io::Result<String> {
        let id = hex::encode(Sha256::digest(png));
        let path = self.path(&id).expect("a SHA-256 in hex is an id");
        if path.exists() {
            return Ok(id);
        }
        let folder = path.parent().expect("ids live in a subfolder");
        fs::create_dir_all(folder)?;
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(io::Error::other)?;
        let tmp = folder.join(format!(".{id}.{}.tmp", hex::encode(suffix)));
        let mut file = File::create(&tmp)?;
        file.write_all(png)?;
        file.sync_all()?;
        fs::rename(&tmp, &path)?;
        File::open(folder)?.sync_all()?;
        Ok(id)
    }

    /// The bytes of picture `id`, if stored.
    pub fn get(&self, id: &str) -> io::Result<Option<Vec<u8>>> {
        let Some(path) = self.path(id) else {
            return Ok(None);
        };
        match fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_and_no_escape() {
        let dir = tempfile::tempdir().unwrap();
        let store = AvatarStore::open(dir.path()).unwrap();
        let id = store.put(b"png bytes").unwrap();
        assert!(valid_id(&id));
        assert_eq!(store.put(b"png bytes").unwrap(), id, "content-addressed");
        assert_eq!(store.get(&id).unwrap().unwrap(), b"png bytes");
        assert_eq!(store.get(&"0".repeat(64)).unwrap(), None);
        for bad in [
            "../../etc/passwd",
            "..",
            &"A".repeat(64),
            "",
            &format!("{}/x", "a".repeat(62)),
        ] {
            assert!(store.path(bad).is_none(), "{bad}");
            assert_eq!(store.get(bad).unwrap(), None);
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path().join(&id[..2])).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn staged_pictures_are_served_only_once_published() {
        let dir = tempfile::tempdir().unwrap();
        let store = AvatarStore::open(dir.path()).unwrap();
        let staged = store.stage(b"a picture").unwrap();
        let id = staged.id.clone();
        assert_eq!(store.get(&id).unwrap(), None, "staged is not served");
        store.publish(staged).unwrap();
        assert_eq!(store.get(&id).unwrap().unwrap(), b"a picture");
        // The same picture again: published once, the copy removed.
        store.publish(store.stage(b"a picture").unwrap()).unwrap();
        let refused = store.stage(b"refused picture").unwrap();
        let refused_id = refused.id.clone();
        store.discard(refused).unwrap();
        assert_eq!(store.get(&refused_id).unwrap(), None);
        assert_eq!(fs::read_dir(dir.path().join("staging")).unwrap().count(), 0);
    }

    #[test]
    fn staged_files_left_by_a_crash_are_swept_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = AvatarStore::open(dir.path()).unwrap();
        let old = store.stage(b"left by a crash").unwrap();
        let recent = store.stage(b"an upload in flight").unwrap();
        let long_ago = std::time::SystemTime::now() - Duration::from_secs(2 * 3600);
        File::options()
            .write(true)
            .open(&old.path)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        drop(AvatarStore::open(dir.path()).unwrap());
        assert!(!old.path.exists(), "a stale staged file is swept");
        assert!(recent.path.exists(), "a recent one is left to its upload");
    }
}
