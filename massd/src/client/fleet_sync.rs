//! Knowing when the whole client fleet is up, not just this process. A
//! fleet of many client processes (53 for a million connections) ramps at
//! different speeds; a hold counted from each process's own ramp ends the
//! fast ones before the slow ones are up, so "every connection up together
//! for ten minutes" was never shown. Each process drops a marker file in a
//! directory they share when all of its connections are up, and counts the
//! markers: once all `members` are there, the fleet is up.
//!
//! A directory of empty files needs no server, no port and no protocol, and
//! every process sees the same answer within one look (a second here).

use std::io;
use std::path::PathBuf;

/// One process's view of the fleet's shared marker directory.
#[derive(Debug, Clone)]
pub struct FleetSync {
    dir: PathBuf,
    index: u32,
    members: u32,
}

impl FleetSync {
    /// Process `index` of `members` sharing `dir`. The directory must exist
    /// and start without markers (the one who starts the fleet empties it).
    pub fn new(dir: PathBuf, index: u32, members: u32) -> FleetSync {
        FleetSync {
            dir,
            index,
            members,
        }
    }

    /// Says that every connection of this process is up.
    pub fn mark_up(&self) -> io::Result<()> {
        std::fs::write(self.dir.join(format!("up-{}", self.index)), b"")
    }

    /// Whether every member has said so.
    pub fn everyone_up(&self) -> io::Result<bool> {
        let mut up = 0u32;
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let Some(index) = name
                .to_str()
                .and_then(|n| n.strip_prefix("up-"))
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if index < self.members {
                up += 1;
            }
        }
        Ok(up >= self.members)
    }

    /// Removes every marker in `dir` (creating it if needed), so a new fleet
    /// starts from none.
    pub fn reset(dir: &std::path::Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with("up-") {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_is_up_only_when_every_member_is() {
        let dir = tempfile::tempdir().unwrap();
        FleetSync::reset(dir.path()).unwrap();
        let members: Vec<FleetSync> = (0..3)
            .map(|i| FleetSync::new(dir.path().to_owned(), i, 3))
            .collect();
        assert!(!members[0].everyone_up().unwrap());
        members[0].mark_up().unwrap();
        members[2].mark_up().unwrap();
        // Another file, or a marker of a bigger fleet, does not count.
        std::fs::write(dir.path().join("up-7"), b"").unwrap();
        std::fs::write(dir.path().join("client-1.txt"), b"x").unwrap();
        assert!(!members[1].everyone_up().unwrap());
        members[1].mark_up().unwrap();
        assert!(members[1].everyone_up().unwrap());
        FleetSync::reset(dir.path()).unwrap();
        assert!(!members[0].everyone_up().unwrap());
        assert!(dir.path().join("client-1.txt").exists());
    }
}
