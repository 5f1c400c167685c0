//! The avatar store, content-addressed on the filesystem: a picture's id is
//! the SHA-256 of its (re-encoded) bytes, so the same picture is stored
//! once and a URL never changes meaning. Writes go to a temporary file,
//! are fsynced, then renamed into place (and the folder fsynced), so a
//! reader never sees half a picture. Ids are validated before they touch a
//! path, so no request can escape the store.

use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct AvatarStore {
    dir: PathBuf,
}

/// Whether `id` is a photo id: 64 lowercase hex digits.
pub fn valid_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl AvatarStore {
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(AvatarStore { dir })
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
}
