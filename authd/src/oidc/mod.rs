//! Throng as an OpenID Connect provider: what every worker shares to
//! decide authorizations and issue tokens ([`Provider`]), and the pieces
//! it is made of — sealed signing keys ([`signing`], [`seal`]), PKCE
//! ([`pkce`]), scopes ([`scope`]), the tokens' claims ([`claims`]) and
//! back-channel logout ([`backchannel`]); and, as a relying party, the
//! other providers users sign in with ([`upstream`]). The operations are in
//! `worker::oidc` and `worker::oidc_token`; `SECURITY.md` section 8 says
//! what each endpoint lets whom do.
//!
//! Keys per purpose, all derived from the master key: one seals the
//! private signing keys, one keys the HMAC of client secrets, one makes
//! the `sid` a client sees of a Throng session (so the `sid` says nothing
//! about the session token), one makes a grant's first refresh token
//! ([`first_refresh`]).

pub mod backchannel;
pub mod claims;
pub mod first_refresh;
pub mod grant_id;
pub mod grants;
pub mod jws_algorithms;
pub mod pkce;
pub mod scope;
pub mod seal;
pub mod signing;
pub mod upstream;

use crate::config::OidcConfig;
use crate::keys::derive;
use crate::store::db::Db;
use crate::store::oidc::{Client, Grant};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use signing::{KeyError, KeySet};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// How long a worker trusts what it read of a client (a removed client
/// stops working within this).
const CLIENT_CACHE: Duration = Duration::from_secs(30);

/// What every worker shares as a provider.
pub struct Provider {
    pub issuer: String,
    pub cfg: OidcConfig,
    seal_key: [u8; 32],
    client_key: [u8; 32],
    sid_key: [u8; 32],
    first_refresh_key: [u8; 32],
    keys: RwLock<Arc<KeySet>>,
    keys_read: Mutex<Instant>,
    pub backchannel: backchannel::Backchannel,
}

impl Provider {
    /// The provider of `cfg`, its key set loaded (and made on the first
    /// start).
    pub fn new(
        cfg: &OidcConfig,
        master: &[u8],
        db: &Db,
        backchannel: backchannel::Backchannel,
    ) -> Result<Provider, KeyError> {
        let seal_key = derive(master, "oidc signing key seal");
        let keys = KeySet::load(db, &seal_key, cfg.id_token_ttl, cfg.key_publish_ahead)?;
        Ok(Provider {
            issuer: cfg.issuer.trim_end_matches('/').to_owned(),
            cfg: cfg.clone(),
            seal_key,
            client_key: derive(master, "oidc client secret"),
            sid_key: derive(master, "oidc sid"),
            first_refresh_key: derive(master, "oidc first refresh token"),
            keys: RwLock::new(Arc::new(keys)),
            keys_read: Mutex::new(Instant::now()),
            backchannel,
        })
    }

    /// The key set, read again from the database when it is older than
    /// `oidc.key_reload` (by one worker; the others go on with the one
    /// they have).
    pub fn keys(&self, db: &Db) -> Arc<KeySet> {
        let stale = self
            .keys_read
            .try_lock()
            .ok()
            .filter(|at| at.elapsed() >= self.cfg.key_reload)
            .map(|mut at| {
                *at = Instant::now();
            })
            .is_some();
        if stale {
            match KeySet::load(
                db,
                &self.seal_key,
                self.cfg.id_token_ttl,
                self.cfg.key_publish_ahead,
            ) {
                Ok(set) => *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(set),
                Err(e) => log::error!("reloading the signing keys: {e}"),
            }
        }
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The seal key, for the operator command that rotates keys.
    pub fn seal_key(&self) -> &[u8; 32] {
        &self.seal_key
    }

    /// The stored form of a client secret.
    pub fn secret_hash(&self, secret: &str) -> String {
        secret_hash(&self.client_key, secret)
    }

    /// Whether `secret` is `client`'s (constant time); a public client has
    /// none, and a secret offered for one is refused.
    pub fn secret_matches(&self, client: &Client, secret: &str) -> bool {
        if client.is_public() {
            return secret.is_empty();
        }
        let offered = self.secret_hash(secret);
        offered
            .as_bytes()
            .ct_eq(client.secret_hash.as_bytes())
            .into()
    }

    /// The first refresh token of `grant`, without the refresh prefix
    /// ([`first_refresh`]).
    pub fn first_refresh_token(&self, grant: &Grant) -> String {
        first_refresh::token(&self.first_refresh_key, grant)
    }

    /// Whether `token` (without the refresh prefix) is `grant`'s first
    /// refresh token.
    pub fn is_first_refresh_token(&self, token: &str, grant: &Grant) -> bool {
        first_refresh::matches(&self.first_refresh_key, token, grant)
    }

    /// The `sid` clients see of the session with token hash `token_hash`.
    pub fn sid(&self, token_hash: &[u8; 32]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.sid_key).expect("any key length");
        mac.update(token_hash);
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

/// HMAC-SHA256 of a client secret under the client-secret key, hex.
pub fn secret_hash(client_key: &[u8; 32], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(client_key).expect("any key length");
    mac.update(secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The client-secret key of a master key (the operator command stores
/// hashes as the daemon checks them).
pub fn client_key(master: &[u8]) -> [u8; 32] {
    derive(master, "oidc client secret")
}

/// The seal key of a master key (the operator command that rotates keys).
pub fn seal_key(master: &[u8]) -> [u8; 32] {
    derive(master, "oidc signing key seal")
}

/// A worker's short memory of clients (see [`CLIENT_CACHE`]).
#[derive(Default)]
pub struct ClientCache(HashMap<String, (Option<Client>, Instant)>);

impl ClientCache {
    /// The client `client_id`, from memory or the database; `Err` when
    /// the database could not say.
    pub fn get(&mut self, db: &Db, client_id: &str) -> Result<Option<Client>, mysql::Error> {
        if let Some((client, at)) = self.0.get(client_id) {
            if at.elapsed() < CLIENT_CACHE {
                return Ok(client.clone());
            }
        }
        let client = db.client(client_id)?;
        // Bounded: unknown ids cost a slot each, so a flood of made-up
        // ids empties the memory rather than growing it.
        if self.0.len() >= 1024 {
            self.0.clear();
        }
        self.0
            .insert(client_id.to_owned(), (client.clone(), Instant::now()));
        Ok(client)
    }
}

/// A fresh opaque token: `prefix` and 256 random bits, base64url.
pub fn random_token(prefix: &str) -> Result<String, authd_wire::Status> {
    use base64::Engine;
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|_| authd_wire::Status::Internal)?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    ))
}

/// The SHA-256 of a token, as stores keep it.
pub fn token_hash(token: &str) -> [u8; 32] {
    use sha2::Digest;
    Sha256::digest(token.as_bytes()).into()
}
