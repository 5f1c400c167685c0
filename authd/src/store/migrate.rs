//! Versioned schema migrations: the SQL files in `authd/migrations/`,
//! compiled in, and the few steps SQL cannot express (Rust functions),
//! applied in order at start under a named lock so that several authd
//! processes starting together apply each one once.

use mysql::prelude::Queryable;

/// One migration's work.
enum Step {
    Sql(&'static str),
    Code(fn(&mut mysql::PooledConn) -> Result<(), mysql::Error>),
}

/// (version, step), in order.
const MIGRATIONS: &[(&str, Step)] = &[
    (
        "0001_init",
        Step::Sql(include_str!("../../migrations/0001_init.sql")),
    ),
    (
        "0002_session_age",
        Step::Sql(include_str!("../../migrations/0002_session_age.sql")),
    ),
    (
        "0003_canonical_email",
        Step::Sql(include_str!("../../migrations/0003_canonical_email.sql")),
    ),
    (
        "0004_canonical_unicode_email",
        Step::Code(canonical_unicode_emails),
    ),
    (
        "0005_session_password",
        Step::Sql(include_str!("../../migrations/0005_session_password.sql")),
    ),
    (
        "0006_security",
        Step::Sql(include_str!("../../migrations/0006_security.sql")),
    ),
    (
        "0007_oidc",
        Step::Sql(include_str!("../../migrations/0007_oidc.sql")),
    ),
    (
        "0008_first_refresh",
        Step::Sql(include_str!("../../migrations/0008_first_refresh.sql")),
    ),
];

/// After 0003 lowercased every address, the ones with non-ASCII letters
/// still need NFC and IDNA (`validate::email`), which SQL cannot do: read
/// only those rows and rewrite each that changes. A row whose canonical
/// form another account already holds keeps its old spelling (logged by
/// id, never by address) — two accounts for one mailbox were the bug.
fn canonical_unicode_emails(conn: &mut mysql::PooledConn) -> Result<(), mysql::Error> {
    let rows: Vec<(u64, String)> = conn.query(
        "SELECT id, email FROM users WHERE email IS NOT NULL AND email <> CONVERT(email USING ascii)",
    )?;
    for (id, email) in rows {
        let Ok(canonical) = crate::validate::email(&email) else {
            log::warn!("user {id}: its address is not valid as an address now; left as it was");
            continue;
        };
        if canonical == email {
            continue;
        }
        let moved = conn.exec_drop("UPDATE users SET email = ? WHERE id = ?", (&canonical, id));
        match moved {
            Ok(()) => {}
            Err(mysql::Error::MySqlError(e)) if e.code == 1062 => {
                log::warn!("user {id}: its address in canonical form belongs to another account; left as it was");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

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
        for (version, step) in MIGRATIONS {
            let done: Option<String> = conn.exec_first(
                "SELECT version FROM schema_migrations WHERE version = ?",
                (version,),
            )?;
            if done.is_some() {
                continue;
            }
            match step {
                Step::Sql(sql) => {
                    for statement in statements(sql) {
                        conn.query_drop(statement)?;
                    }
                }
                Step::Code(run) => run(conn)?,
            }
            conn.exec_drop(
                "INSERT INTO schema_migrations (version) VALUES (?)",
                (version,),
            )?;
            applied.push((*version).to_owned());
        }
        Ok(applied)
    })();
    // Pooled connections are not reset on their return: this one is, so
    // that nothing a migration step set is left for the requests that use
    // it next.
    conn.reset_connection(true);
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
        let Step::Sql(init) = MIGRATIONS[0].1 else {
            panic!("0001 is SQL")
        };
        assert_eq!(statements(init).len(), 4);
    }
}
