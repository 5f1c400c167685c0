//! The single stack's generated settings (`var/stack.env`, written by
//! `deploy/stack.sh`), for the commands that need a store URL when none is
//! given: `bench seed` and `bench requirement` run from the checkout after
//! `make up` as the README writes them, without exporting anything first.

use std::path::Path;

/// Where `deploy/stack.sh` writes the file, from the checkout's root.
pub const STACK_ENV: &str = "var/stack.env";

/// `given` when set (the flag or its environment variable), else `key`
/// from `var/stack.env` under the current directory.
pub fn or_from_stack_env(given: Option<String>, key: &str) -> Result<String, String> {
    if let Some(value) = given.filter(|v| !v.is_empty()) {
        return Ok(value);
    }
    from_file(Path::new(STACK_ENV), key)
}

fn from_file(path: &Path, key: &str) -> Result<String, String> {
    let entries = dotenvy::from_path_iter(path).map_err(|e| {
        format!(
            "no {key} given and {} cannot be read ({e}): run from the checkout after `make up`, \
             or pass the URL",
            path.display()
        )
    })?;
    for entry in entries {
        // The value holds a password: say which line is bad, never what it holds.
        let (name, value) =
            entry.map_err(|_| format!("{} has a line that is not KEY=VALUE", path.display()))?;
        if name == key {
            return Ok(value);
        }
    }
    Err(format!("{} has no {key}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn a_given_value_wins() {
        assert_eq!(
            or_from_stack_env(Some("mysql://x".into()), "K").unwrap(),
            "mysql://x"
        );
    }

    #[test]
    fn the_key_is_read_from_the_file() {
        let f = file(
            "# generated\nOTHER=1\nTHRONG_MYSQL_URL=mysql://throng:p%40ss@127.0.0.1:13306/throng\n",
        );
        assert_eq!(
            from_file(f.path(), "THRONG_MYSQL_URL").unwrap(),
            "mysql://throng:p%40ss@127.0.0.1:13306/throng"
        );
    }

    #[test]
    fn a_missing_key_or_file_is_a_clear_error() {
        let f = file("OTHER=1\n");
        assert!(from_file(f.path(), "THRONG_MYSQL_URL")
            .unwrap_err()
            .contains("has no THRONG_MYSQL_URL"));
        let err = from_file(Path::new("/nonexistent/stack.env"), "THRONG_MYSQL_URL").unwrap_err();
        assert!(err.contains("make up"), "{err}");
    }
}
