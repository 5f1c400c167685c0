//! Removing what one test made in the shared stores: its database and its
//! Redis keys. Shared with webd's tests (`#[path]`), which run authd too.

use mysql::prelude::Queryable;

/// Drops database `db` (through `mysql_url`, any database of that server)
/// and deletes every Redis key under `prefix`.
pub fn drop_test_stores(mysql_url: &str, db: &str, redis_url: &str, prefix: &str) {
    if let Ok(mut conn) = mysql::Conn::new(mysql::Opts::from_url(mysql_url).unwrap()) {
        let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS {db}"));
    }
    if let Ok(mut r) = redis::Client::open(redis_url).and_then(|c| c.get_connection()) {
        // SCAN, not KEYS: a Redis holding millions of benchmark sessions
        // must not stall the tests running beside this one.
        let keys: Vec<String> = redis::cmd("SCAN")
            .cursor_arg(0)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(10_000)
            .clone()
            .iter::<String>(&mut r)
            .map(|it| it.filter_map(Result::ok).collect())
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut r);
        }
    }
}
