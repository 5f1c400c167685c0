//! What the OpenID provider keeps in MariaDB (migrations `0007_oidc`,
//! `0008_first_refresh`): the registered clients, the sealed signing
//! keys, the consents users gave, the grants made from codes, and the
//! refresh tokens (their SHA-256, never the token; a grant's first one is
//! derived from the grant, `crate::oidc::first_refresh`). Codes and access tokens are short-lived and live in
//! Redis (`worker::oidc`).

use super::db::Db;
use mysql::prelude::Queryable;

/// A registered client (an application that signs its users in with
/// Throng).
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    /// HMAC of its secret under the client-secret key, hex; empty for a
    /// public client.
    pub secret_hash: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    /// Where it is told, by back-channel logout, that a session ended;
    /// empty: not told.
    pub backchannel_logout_uri: String,
    /// `RS256` or `EdDSA`: how its ID tokens are signed.
    pub id_token_alg: String,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_empty()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// One signing key as stored: its public JWK and its sealed private half.
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub public_jwk: String,
    pub private_sealed: Vec<u8>,
    pub created_ms: u64,
    /// When it stopped signing (ms); `None`: it signs.
    pub retired_ms: Option<u64>,
}

/// A grant: one user's authorization of one client, made when a code was
/// exchanged, ended (`revoked`) by a reused refresh token, a revocation,
/// or the end of the session it came from.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: u64,
    pub user_id: u64,
    pub client_id: String,
    pub scope: String,
    pub sid: String,
    pub auth_time: u64,
    pub revoked: bool,
}

/// A refresh token's row with its grant; for a grant's first refresh
/// token not used yet ([`crate::oidc::first_refresh`]), what its row
/// would say.
#[derive(Debug)]
pub struct RefreshRow {
    pub grant: Grant,
    /// False for a first refresh token that has no row yet.
    pub stored: bool,
    pub used: bool,
    pub expired: bool,
    pub issued_s: u64,
    pub expires_s: u64,
}

const GRANT_COLUMNS: &str =
    "g.id, g.user_id, g.client_id, g.scope, g.sid, g.auth_time, g.revoked_at IS NOT NULL";

/// The grant in the first columns of `row` ([`GRANT_COLUMNS`]).
fn grant_of(row: &mut mysql::Row) -> Option<Grant> {
    Some(Grant {
        id: row.take(0)?,
        user_id: row.take(1)?,
        client_id: row.take(2)?,
        scope: row.take(3)?,
        sid: row.take(4)?,
        auth_time: row.take(5)?,
        revoked: row.take(6)?,
    })
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Db {
    pub fn add_client(&self, client: &Client) -> Result<(), mysql::Error> {
        self.run(false, |c| {
            c.exec_drop(
                "INSERT INTO oidc_clients (client_id, name, secret_hash, redirect_uris, \
                 post_logout_uris, backchannel_logout_uri, id_token_alg) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    &client.client_id,
                    &client.name,
                    &client.secret_hash,
                    client.redirect_uris.join("\n"),
                    client.post_logout_uris.join("\n"),
                    &client.backchannel_logout_uri,
                    &client.id_token_alg,
                ),
            )
        })
    }

    pub fn client(&self, client_id: &str) -> Result<Option<Client>, mysql::Error> {
        Ok(self.clients_where(Some(client_id))?.pop())
    }

    pub fn clients(&self) -> Result<Vec<Client>, mysql::Error> {
        self.clients_where(None)
    }

    fn clients_where(&self, id: Option<&str>) -> Result<Vec<Client>, mysql::Error> {
        type Row = (String, String, String, String, String, String, String);
        let to_client =
            |(client_id, name, secret_hash, redirects, logouts, backchannel, alg): Row| Client {
                client_id,
                name,
                secret_hash,
                redirect_uris: lines(&redirects),
                post_logout_uris: lines(&logouts),
                backchannel_logout_uri: backchannel,
                id_token_alg: alg,
            };
        let select = "SELECT client_id, name, secret_hash, redirect_uris, post_logout_uris, \
                      backchannel_logout_uri, id_token_alg FROM oidc_clients";
        self.run(true, |c| match id {
            Some(id) => c.exec_map(format!("{select} WHERE client_id = ?"), (id,), to_client),
            None => c.exec_map(format!("{select} ORDER BY created_at"), (), to_client),
        })
    }

    /// Removes a client, and with it (by the foreign keys) its consents,
    /// grants and refresh tokens. False when there was none.
    pub fn remove_client(&self, client_id: &str) -> Result<bool, mysql::Error> {
        self.run(false, |c| {
            c.exec_drop("DELETE FROM oidc_clients WHERE client_id = ?", (client_id,))?;
            Ok(c.affected_rows() > 0)
        })
    }

    pub fn signing_keys(&self) -> Result<Vec<StoredKey>, mysql::Error> {
        self.run(true, |c| {
            c.exec_map(
                "SELECT kid, alg, public_jwk, private_sealed, \
                 CAST(UNIX_TIMESTAMP(created_at) * 1000 AS UNSIGNED), \
                 CAST(UNIX_TIMESTAMP(retired_at) * 1000 AS UNSIGNED) \
                 FROM oidc_keys ORDER BY created_at, kid",
                (),
                |(kid, alg, public_jwk, private_sealed, created_ms, retired_ms)| StoredKey {
                    kid,
                    alg,
                    public_jwk,
                    private_sealed,
                    created_ms,
                    retired_ms,
                },
            )
        })
    }

    pub fn add_signing_key(
        &self,
        kid: &str,
        alg: &str,
        public_jwk: &str,
        sealed: &[u8],
    ) -> Result<(), mysql::Error> {
        self.run(false, |c| {
            c.exec_drop(
                "INSERT INTO oidc_keys (kid, alg, public_jwk, private_sealed) VALUES (?, ?, ?, ?)",
                (kid, alg, public_jwk, sealed),
            )
        })
    }

    /// Retires every signing key of `alg` but `keep`, `in_s` seconds from
    /// now: they sign until then and stay published until the tokens they
    /// signed have expired.
    pub fn retire_signing_keys(
        &self,
        alg: &str,
        keep: &str,
        in_s: u64,
    ) -> Result<(), mysql::Error> {
        self.run(false, |c| {
            c.exec_drop(
                "UPDATE oidc_keys SET retired_at = NOW(3) + INTERVAL ? SECOND \
                 WHERE alg = ? AND kid <> ? AND retired_at IS NULL",
                (in_s, alg, keep),
            )
        })
    }

    /// Deletes keys retired before `before_s` (unix s).
    pub fn drop_retired_keys(&self, before_s: u64) -> Result<u64, mysql::Error> {
        self.run(false, |c| {
            c.exec_drop(
                "DELETE FROM oidc_keys WHERE retired_at < FROM_UNIXTIME(?)",
                (before_s,),
            )?;
            Ok(c.affected_rows())
        })
    }

    /// The scope `user_id` consented to for `client_id`, if any.
    pub fn consent(&self, user_id: u64, client_id: &str) -> Result<Option<String>, mysql::Error> {
        self.run(true, |c| {
            c.exec_first(
                "SELECT scope FROM oidc_consents WHERE user_id = ? AND client_id = ?",
                (user_id, client_id),
            )
        })
    }

    pub fn remember_consent(
        &self,
        user_id: u64,
        client_id: &str,
        scope: &str,
    ) -> Result<(), mysql::Error> {
        self.run(true, |c| {
            c.exec_drop(
                "INSERT INTO oidc_consents (user_id, client_id, scope) VALUES (?, ?, ?) \
                 ON DUPLICATE KEY UPDATE scope = VALUES(scope), granted_at = NOW(3)",
                (user_id, client_id, scope),
            )
        })
    }

    /// The scope each (user, client) consented to: one query for a batch.
    pub fn consents(&self, pairs: &[(u64, &str)]) -> Result<Vec<Option<String>>, mysql::Error> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["(?, ?)"; pairs.len()].join(", ");
        let params: Vec<mysql::Value> = pairs
            .iter()
            .flat_map(|(u, c)| [mysql::Value::from(*u), mysql::Value::from(*c)])
            .collect();
        let rows: Vec<(u64, String, String)> = self.run(true, |c| {
            c.exec(
                format!(
                    "SELECT user_id, client_id, scope FROM oidc_consents \
                     WHERE (user_id, client_id) IN ({marks})"
                ),
                params.clone(),
            )
        })?;
        Ok(pairs
            .iter()
            .map(|(u, c)| {
                rows.iter()
                    .find(|(ru, rc, _)| ru == u && rc == c)
                    .map(|(_, _, s)| s.clone())
            })
            .collect())
    }

    /// Makes the grants of a batch of exchanged codes in one multi-row
    /// INSERT (atomic by itself). Their first refresh tokens are derived,
    /// not stored ([`crate::oidc::first_refresh`]). Grant ids are the
    /// caller's ([`crate::oidc::grant_id`]).
    pub fn create_grants(&self, grants: &[&Grant]) -> Result<(), mysql::Error> {
        if grants.is_empty() {
            return Ok(());
        }
        // A text statement, values rendered by the driver's escaping: a
        // prepared statement per batch size would be prepared and closed
        // again for most batches (their sizes vary more than the statement
        // cache holds), one more round trip and one more parse each time.
        self.run(false, |c| {
            let plain = c.no_backslash_escape();
            let text = |v: &str| mysql::Value::from(v).as_sql(plain);
            let values: Vec<String> = grants
                .iter()
                .map(|g| {
                    format!(
                        "({}, {}, {}, {}, {}, {})",
                        g.id,
                        g.user_id,
                        text(&g.client_id),
                        text(&g.scope),
                        text(&g.sid),
                        g.auth_time
                    )
                })
                .collect();
            c.query_drop(format!(
                "INSERT INTO oidc_grants (id, user_id, client_id, scope, sid, auth_time) VALUES {}",
                values.join(", ")
            ))
        })
    }

    /// A refresh token's row and its grant, if the token exists.
    pub fn refresh_token(&self, hash: &[u8; 32]) -> Result<Option<RefreshRow>, mysql::Error> {
        let row: Option<mysql::Row> = self.run(true, |c| {
            c.exec_first(
                format!(
                    "SELECT {GRANT_COLUMNS}, r.used_at IS NOT NULL, r.expires_at <= NOW(3), \
                     CAST(UNIX_TIMESTAMP(r.issued_at) AS UNSIGNED), \
                     CAST(UNIX_TIMESTAMP(r.expires_at) AS UNSIGNED) \
                     FROM oidc_refresh_tokens r JOIN oidc_grants g ON g.id = r.grant_id \
                     WHERE r.token_hash = ?"
                ),
                (hash.to_vec(),),
            )
        })?;
        Ok(row.and_then(|mut row| {
            Some(RefreshRow {
                grant: grant_of(&mut row)?,
                stored: true,
                used: row.take(7)?,
                expired: row.take(8)?,
                issued_s: row.take(9)?,
                expires_s: row.take(10)?,
            })
        }))
    }

    /// What the row of grant `grant_id`'s first refresh token would say
    /// if it had one: used once the grant records it, living `ttl_s` from
    /// the grant's creation. The caller has looked for a stored row first
    /// (grants made before tokens were derived), and checks the token
    /// against the grant.
    pub fn first_refresh_token(
        &self,
        grant_id: u64,
        ttl_s: u64,
    ) -> Result<Option<RefreshRow>, mysql::Error> {
        let row: Option<mysql::Row> = self.run(true, |c| {
            c.exec_first(
                format!(
                    "SELECT {GRANT_COLUMNS}, g.first_refresh_used_at IS NOT NULL, \
                     g.created_at + INTERVAL ? SECOND <= NOW(3), \
                     CAST(UNIX_TIMESTAMP(g.created_at) AS UNSIGNED), \
                     CAST(UNIX_TIMESTAMP(g.created_at + INTERVAL ? SECOND) AS UNSIGNED) \
                     FROM oidc_grants g WHERE g.id = ?"
                ),
                (ttl_s, ttl_s, grant_id),
            )
        })?;
        // take_opt: a time past what UNIX_TIMESTAMP can say is NULL, and
        // such a token is refused rather than the worker panicking.
        Ok(row.and_then(|mut row| {
            Some(RefreshRow {
                grant: grant_of(&mut row)?,
                stored: false,
                used: row.take_opt(7)?.ok()?,
                expired: row.take_opt(8)?.ok()?,
                issued_s: row.take_opt(9)?.ok()?,
                expires_s: row.take_opt(10)?.ok()?,
            })
        }))
    }

    /// Uses refresh token `old` (hash `old_hash`, row `old`) up and
    /// stores `new` for the same grant, in one transaction. A first
    /// refresh token's use is recorded on its grant: that UPDATE is what a
    /// concurrent use of the same token collides on. False when `old` was
    /// used meanwhile (a concurrent reuse): nothing is stored.
    pub fn rotate_refresh_token(
        &self,
        old_hash: &[u8; 32],
        old: &RefreshRow,
        new: &[u8; 32],
        ttl_s: u64,
    ) -> Result<bool, mysql::Error> {
        let grant_id = old.grant.id;
        self.run(false, |c| {
            let mut tx = c.start_transaction(mysql::TxOpts::default())?;
            if old.stored {
                tx.exec_drop(
                    "UPDATE oidc_refresh_tokens SET used_at = NOW(3) \
                     WHERE token_hash = ? AND used_at IS NULL",
                    (old_hash.to_vec(),),
                )?;
            } else {
                tx.exec_drop(
                    "UPDATE oidc_grants SET first_refresh_used_at = NOW(3) \
                     WHERE id = ? AND first_refresh_used_at IS NULL",
                    (grant_id,),
                )?;
            }
            if tx.affected_rows() != 1 {
                tx.rollback()?;
                return Ok(false);
            }
            tx.exec_drop(
                "INSERT INTO oidc_refresh_tokens (token_hash, grant_id, expires_at) \
                 VALUES (?, ?, NOW(3) + INTERVAL ? SECOND)",
                (new.to_vec(), grant_id, ttl_s),
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// Ends the grants chosen by `which`: the ones not ended already,
    /// which it returns (their clients are told).
    pub fn revoke_grants(&self, which: GrantsOf<'_>) -> Result<Vec<Grant>, mysql::Error> {
        let (filter, value): (&str, mysql::Value) = match which {
            GrantsOf::Id(id) => ("g.id = ?", id.into()),
            GrantsOf::Session(sid) => ("g.sid = ?", sid.into()),
            GrantsOf::User(user_id) => ("g.user_id = ?", user_id.into()),
        };
        self.run(false, |c| {
            let mut tx = c.start_transaction(mysql::TxOpts::default())?;
            let rows: Vec<mysql::Row> = tx.exec(
                format!(
                    "SELECT {GRANT_COLUMNS} FROM oidc_grants g \
                     WHERE {filter} AND g.revoked_at IS NULL FOR UPDATE"
                ),
                (value.clone(),),
            )?;
            let grants: Vec<Grant> = rows
                .into_iter()
                .filter_map(|mut r| grant_of(&mut r))
                .collect();
            if !grants.is_empty() {
                tx.exec_drop(
                    format!(
                        "UPDATE oidc_grants g SET g.revoked_at = NOW(3) \
                         WHERE {filter} AND g.revoked_at IS NULL"
                    ),
                    (value.clone(),),
                )?;
            }
            tx.commit()?;
            Ok(grants)
        })
    }
}

/// Which grants [`Db::revoke_grants`] ends.
#[derive(Debug, Clone, Copy)]
pub enum GrantsOf<'a> {
    Id(u64),
    /// Those made in one Throng session (its `sid`).
    Session(&'a str),
    /// All of one user's.
    User(u64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use throng_testkit::TestStores;

    #[test]
    fn a_first_refresh_token_is_used_once_even_by_two_rotations_that_read_it_unused() {
        let stores = TestStores::new("authd_first_refresh");
        let db = Db::connect(&stores.mysql_url, 1, 2).unwrap();
        db.migrate().unwrap();
        let user = db
            .create_user(&[1u8; 16], "ada", None, "not a hash", "Ada")
            .unwrap();
        db.add_client(&Client {
            client_id: "app".into(),
            name: "app".into(),
            secret_hash: String::new(),
            redirect_uris: vec!["https://app.example/cb".into()],
            post_logout_uris: vec![],
            backchannel_logout_uri: String::new(),
            id_token_alg: "EdDSA".into(),
        })
        .unwrap();
        let grant = Grant {
            id: 1,
            user_id: user,
            client_id: "app".into(),
            scope: "openid".into(),
            sid: "s".repeat(32),
            auth_time: 1,
            revoked: false,
        };
        db.create_grants(&[&grant]).unwrap();

        let first = db.first_refresh_token(1, 3600).unwrap().unwrap();
        assert!(!first.stored && !first.used && !first.expired);
        assert!(first.expires_s >= first.issued_s + 3600);
        assert!(db.first_refresh_token(1, 0).unwrap().unwrap().expired);
        assert!(db.first_refresh_token(2, 3600).unwrap().is_none());

        // Two uses that both read it unused: the second rotation stores
        // nothing and says so (its caller ends the grant).
        let also_read = db.first_refresh_token(1, 3600).unwrap().unwrap();
        assert!(db
            .rotate_refresh_token(&[7; 32], &first, &[8; 32], 3600)
            .unwrap());
        assert!(!db
            .rotate_refresh_token(&[7; 32], &also_read, &[9; 32], 3600)
            .unwrap());
        assert!(db.first_refresh_token(1, 3600).unwrap().unwrap().used);
        assert!(db.refresh_token(&[8; 32]).unwrap().is_some());
        assert!(db.refresh_token(&[9; 32]).unwrap().is_none());
    }
}
