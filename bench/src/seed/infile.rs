//! The rows `LOAD DATA LOCAL INFILE` streams, generated on the fly: the
//! "file name" a statement asks for names a table and an index range, and
//! the handler writes those rows straight into the connection, so no file
//! of gigabytes ever exists.
//!
//! Users get their ids explicitly (`first_id` + offset) so their profiles
//! can be loaded without looking the ids up, and a uuid whose leading bytes
//! are the id: every index of the table then grows at its right edge, which
//! is what makes 10 M rows load in minutes instead of hours.

use crate::users;
use std::io::{self, Write};

/// What one LOAD statement loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub table: Table,
    /// User indices `first..=last` (`user%08d`).
    pub first: u64,
    pub last: u64,
    /// The id of user `first`; user i gets `first_id + (i - first)`.
    pub first_id: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Users,
    Profiles,
}

impl Chunk {
    /// The file name the statement uses and the handler parses back.
    pub fn file_name(&self) -> String {
        let table = match self.table {
            Table::Users => "users",
            Table::Profiles => "profiles",
        };
        format!(
            "throng-seed:{table}:{}:{}:{}",
            self.first, self.last, self.first_id
        )
    }

    pub fn parse(name: &[u8]) -> Option<Chunk> {
        let text = std::str::from_utf8(name).ok()?;
        let mut f = text.strip_prefix("throng-seed:")?.split(':');
        let table = match f.next()? {
            "users" => Table::Users,
            "profiles" => Table::Profiles,
            _ => return None,
        };
        let chunk = Chunk {
            table,
            first: f.next()?.parse().ok()?,
            last: f.next()?.parse().ok()?,
            first_id: f.next()?.parse().ok()?,
        };
        (f.next().is_none() && chunk.first <= chunk.last).then_some(chunk)
    }

    /// The LOAD statement of this chunk.
    pub fn statement(&self) -> String {
        let name = self.file_name();
        match self.table {
            Table::Users => format!(
                "LOAD DATA LOCAL INFILE '{name}' INTO TABLE users CHARACTER SET ascii \
                 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' \
                 (id, @uuid, username, pwhash) SET uuid = UNHEX(@uuid)"
            ),
            Table::Profiles => format!(
                "LOAD DATA LOCAL INFILE '{name}' INTO TABLE profiles CHARACTER SET utf8mb4 \
                 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' (user_id, nickname)"
            ),
        }
    }
}

/// A version-8 uuid that sorts by id: the id's low 48 bits first (clear of
/// the version and variant bits, which live in bytes 6 and 8), then random
/// bytes of this run.
pub fn seed_uuid(id: u64, run: [u8; 8]) -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&id.to_be_bytes()[2..]);
    bytes[6..8].copy_from_slice(&run[..2]);
    bytes[8..].copy_from_slice(&run);
    uuid::Uuid::new_v8(bytes)
}

/// Writes the chunk's rows; `progress` is called every 10,000 rows with
/// how many were written since the last call.
pub fn write_rows(
    chunk: &Chunk,
    pool: &[String],
    run: [u8; 8],
    out: &mut impl Write,
    mut progress: impl FnMut(u64),
) -> io::Result<()> {
    let mut line = String::with_capacity(256);
    let mut since = 0;
    for i in chunk.first..=chunk.last {
        let id = chunk.first_id + (i - chunk.first);
        line.clear();
        match chunk.table {
            Table::Users => {
                let hash = &pool[(i % pool.len() as u64) as usize];
                let uuid = seed_uuid(id, run).simple().to_string();
                line.push_str(&format!("{id}\t{uuid}\t{}\t{hash}\n", users::username(i)));
            }
            Table::Profiles => {
                let nick = escape(&users::nickname(i));
                line.push_str(&format!("{id}\t{nick}\n"));
            }
        }
        out.write_all(line.as_bytes())?;
        since += 1;
        if since == 10_000 {
            progress(since);
            since = 0;
        }
    }
    progress(since);
    // The driver sends full packets as they fill; the last one only here.
    out.flush()
}

/// LOAD DATA's escapes: backslash, tab and newline would end a field.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_and_rows_are_tab_separated() {
        let chunk = Chunk {
            table: Table::Profiles,
            first: 5,
            last: 8,
            first_id: 105,
        };
        assert_eq!(Chunk::parse(chunk.file_name().as_bytes()), Some(chunk));
        assert_eq!(Chunk::parse(b"/etc/passwd"), None);
        let mut out = Vec::new();
        let mut seen = 0;
        write_rows(&chunk, &["h".into()], [0; 8], &mut out, |n| seen += n).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 4);
        assert!(text.starts_with("105\t"));
        assert!(text.contains("108\t用户8号"), "{text}");
        assert_eq!(seen, 4);
        assert_eq!(escape("a\tb\\"), "a\\tb\\\\");
    }

    #[test]
    fn seed_uuids_sort_by_id() {
        let run = [7; 8];
        assert!(seed_uuid(1, run) < seed_uuid(2, run));
        assert!(seed_uuid(255, run) < seed_uuid(256, run));
        assert_eq!(seed_uuid(1, run).get_version_num(), 8);
        let all: std::collections::HashSet<_> = (0..70_000).map(|i| seed_uuid(i, run)).collect();
        assert_eq!(all.len(), 70_000, "no two ids share a uuid");
    }
}
