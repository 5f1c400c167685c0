//! Versioned schema migrations: the SQL files in `authd/migrations/`,
//! compiled in, applied in order at start under a named lock so that
//! several authd processes starting together apply each file once.

use mysql::prelude::Queryable;

/// (version, SQL), in order.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/0001_init.sql")),
    (
        "0002_session_age",
        include_str!("../../migrations/0002_session_age.sql"),
    ),
];

/// The statements of a migration file: split at `;` ending a line,
/// comment lines dropped.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            out.push(current.trim().trim_end_matches(';').to_owned());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

/// Applies every migration not yet applied; returns the versions applied.
pub fn migrate(conn: &mut mysql::PooledConn) -> Result<Vec<String>, mysql::Error> {
    conn.query_drop(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
            applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
        ) ENGINE=InnoDB",
    )?;
    let locked: Option<i64> = conn.query_first("SELECT GET_LOCK('throng_authd_migrations', 60)")?;
    if locked != Some(1) {
        return Err(mysql::Error::IoError(std::io::Error::other(
            "could not take the migration lock within 60 s",
        )));
    }
    let result = (|| {
        let mut applied = Vec::new();
        for (version, sql) in MIGRATIONS {
            let done: Option<String> = conn.exec_first(
                "SELECT version FROM schema_migrations WHERE version = ?",
                (version,),
            )?;
            if done.is_some() {
                continue;
            }
            for statement in statements(sql) {
                conn.query_drop(statement)?;
            }
            conn.exec_drop(
                "INSERT INTO schema_migrations (version) VALUES (?)",
                (version,),
            )?;
            applied.push((*version).to_owned());
        }
        Ok(applied)
    })();
    let _: Option<i64> = conn.query_first("SELECT RELEASE_LOCK('throng_authd_migrations')")?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_line_ending_semicolons() {
        let s = statements("-- c\nCREATE TABLE a (\n x INT\n);\n\nCREATE TABLE b (y INT);\n");
        assert_eq!(s.len(), 2);
        assert!(s[0].starts_with("CREATE TABLE a"));
        assert!(!s[1].ends_with(';'));
        assert_eq!(statements(MIGRATIONS[0].1).len(), 4);
    }
}
