//! `authd client …` and `authd keys …`: the operator's commands for the
//! OpenID provider. Clients are registered here, never over the network:
//! `client add` prints one JSON object with the `client_id` and, for a
//! confidential client, the `client_secret` — shown once and stored only
//! as its HMAC under the client-secret key, so the daemon's own master key
//! (`secret`) must be configured. `keys rotate` makes new signing keys
//! that sign once published long enough, and retires the old ones.

use crate::config::Config;
use crate::oidc::signing;
use crate::store::db::Db;
use crate::store::oidc::Client;
use clap::Subcommand;
use serde_json::json;
use throng_core::config::DaemonArgs;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Registers an application; prints its client_id (and secret).
    Add(NewClient),
    /// Lists the registered applications (never a secret).
    List,
    /// Removes an application, with its consents, grants and tokens.
    Remove { client_id: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Makes new signing keys; the old ones sign until the new ones have
    /// been published long enough, then verify until their tokens expire.
    Rotate,
    /// Lists the signing keys (kid, alg, made, retired).
    List,
}

/// A redirect, post-logout or back-channel URI a client may register:
/// absolute, no fragment, `https` — or `http` to a loopback host (native
/// apps and development, RFC 8252 7.3).
pub fn valid_uri(text: &str) -> Result<(), String> {
    // The URL parser drops tabs and newlines silently; a URI that needs
    // that is no URI (and would reach a Location header as it is).
    if text.chars().any(|c| c.is_control() || c == ' ') {
        return Err(format!("{text:?}: control characters or spaces"));
    }
    let url = url::Url::parse(text).map_err(|e| format!("{text:?}: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("{text:?}: a redirect URI has no fragment"));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "{text:?}: https only (http only to localhost, 127.0.0.1 or [::1])"
        )),
    }
}

fn random(n: usize) -> Result<String, String> {
    use base64::Engine;
    let mut raw = vec![0u8; n];
    getrandom::fill(&mut raw).map_err(|e| e.to_string())?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

fn master(cfg: &Config) -> Result<Vec<u8>, String> {
    if cfg.secret.len() < 32 {
        return Err("this needs authd's master key: set secret (THRONG_AUTHD_SECRET, 32+ bytes) as the daemon has it".into());
    }
    Ok(cfg.secret.as_bytes().to_vec())
}

/// A client to register.
#[derive(Debug, Clone, clap::Args)]
pub struct NewClient {
    /// The name the consent page shows.
    #[arg(long)]
    pub name: String,
    /// Where codes may be sent (repeatable; matched exactly).
    #[arg(long = "redirect-uri", required = true)]
    pub redirect_uris: Vec<String>,
    /// Where the browser may return after logout (repeatable).
    #[arg(long = "post-logout-uri")]
    pub post_logout_uris: Vec<String>,
    /// Where back-channel logout tokens are POSTed.
    #[arg(long = "backchannel-logout-uri", default_value = "")]
    pub backchannel_logout_uri: String,
    /// A client that keeps no secret (a browser or mobile app): it must
    /// use PKCE.
    #[arg(long)]
    pub public: bool,
    /// How its ID tokens are signed: RS256 or EdDSA.
    #[arg(long, default_value = "RS256")]
    pub alg: String,
}

/// Registers `spec`: the JSON object `client add` prints (with the
/// secret, which exists nowhere else).
pub fn add(cfg: &Config, db: &Db, spec: NewClient) -> Result<serde_json::Value, String> {
    let NewClient {
        name,
        redirect_uris,
        post_logout_uris,
        backchannel_logout_uri,
        public,
        alg,
    } = spec;
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err("--name: 1–128 characters, no control characters".into());
    }
    for uri in redirect_uris.iter().chain(&post_logout_uris) {
        valid_uri(uri)?;
    }
    if !backchannel_logout_uri.is_empty() {
        valid_uri(&backchannel_logout_uri)?;
    }
    if !signing::ALGORITHMS.contains(&alg.as_str()) {
        return Err(format!("--alg: one of {}", signing::ALGORITHMS.join(", ")));
    }
    let client_id = random(16)?;
    let secret = if public { None } else { Some(random(32)?) };
    let secret_hash = match &secret {
        Some(s) => crate::oidc::secret_hash(&crate::oidc::client_key(&master(cfg)?), s),
        None => String::new(),
    };
    let client = Client {
        client_id: client_id.clone(),
        name,
        secret_hash,
        redirect_uris,
        post_logout_uris,
        backchannel_logout_uri,
        id_token_alg: alg,
    };
    db.add_client(&client).map_err(|e| format!("mysql: {e}"))?;
    let mut out = json!({
        "client_id": client_id,
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "public": public,
        "id_token_signed_response_alg": client.id_token_alg,
    });
    if let Some(secret) = secret {
        out["client_secret"] = json!(secret);
    }
    Ok(out)
}

pub fn run_client(args: &DaemonArgs, command: ClientCommand) -> Result<(), String> {
    let cfg: Config = args.load("authd").map_err(|e| e.to_string())?;
    let db = Db::connect(&cfg.mysql.url, 1, 2).map_err(|e| format!("mysql: {e}"))?;
    db.migrate().map_err(|e| format!("migrations: {e}"))?;
    match command {
        ClientCommand::Add(spec) => {
            println!("{}", add(&cfg, &db, spec)?);
            Ok(())
        }
        ClientCommand::List => {
            let clients = db.clients().map_err(|e| format!("mysql: {e}"))?;
            for c in clients {
                println!(
                    "{}",
                    json!({
                        "client_id": c.client_id,
                        "name": c.name,
                        "public": c.is_public(),
                        "redirect_uris": c.redirect_uris,
                        "post_logout_redirect_uris": c.post_logout_uris,
                        "backchannel_logout_uri": c.backchannel_logout_uri,
                        "id_token_signed_response_alg": c.id_token_alg,
                    })
                );
            }
            Ok(())
        }
        ClientCommand::Remove { client_id } => {
            if db
                .remove_client(&client_id)
                .map_err(|e| format!("mysql: {e}"))?
            {
                println!("removed {client_id}");
                Ok(())
            } else {
                Err(format!("no client {client_id:?}"))
            }
        }
    }
}

/// Makes a new key of each algorithm, retires the others once it signs,
/// and deletes keys retired longer ago than any token they signed lives;
/// what it did, a line each.
pub fn rotate(cfg: &Config, db: &Db) -> Result<Vec<String>, String> {
    let seal = crate::oidc::seal_key(&master(cfg)?);
    let ahead = cfg.oidc.key_publish_ahead.as_secs();
    let mut said = Vec::new();
    for alg in signing::ALGORITHMS {
        let kid = signing::add_key(db, &seal, alg).map_err(|e| e.to_string())?;
        db.retire_signing_keys(alg, &kid, ahead)
            .map_err(|e| format!("mysql: {e}"))?;
        said.push(format!(
            "{alg}: new key {kid} signs in {ahead} s; the old ones retire then"
        ));
    }
    let horizon = cfg.oidc.id_token_ttl.as_secs() + 2 * ahead;
    let before = (crate::records::now_ms() / 1000).saturating_sub(horizon);
    let dropped = db
        .drop_retired_keys(before)
        .map_err(|e| format!("mysql: {e}"))?;
    if dropped > 0 {
        said.push(format!(
            "deleted {dropped} key(s) retired before every token they signed expired"
        ));
    }
    Ok(said)
}

pub fn run_keys(args: &DaemonArgs, command: KeysCommand) -> Result<(), String> {
    let cfg: Config = args.load("authd").map_err(|e| e.to_string())?;
    let db = Db::connect(&cfg.mysql.url, 1, 2).map_err(|e| format!("mysql: {e}"))?;
    db.migrate().map_err(|e| format!("migrations: {e}"))?;
    match command {
        KeysCommand::Rotate => {
            for line in rotate(&cfg, &db)? {
                println!("{line}");
            }
            Ok(())
        }
        KeysCommand::List => {
            for k in db.signing_keys().map_err(|e| format!("mysql: {e}"))? {
                println!(
                    "{}",
                    json!({"kid": k.kid, "alg": k.alg, "created_ms": k.created_ms, "retired_ms": k.retired_ms})
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_uris_without_fragments() {
        assert!(valid_uri("https://app.example/cb").is_ok());
        assert!(valid_uri("http://127.0.0.1/cb").is_ok());
        assert!(valid_uri("http://localhost/cb").is_ok());
        assert!(valid_uri("http://app.example/cb").is_err());
        assert!(valid_uri("https://app.example/cb#x").is_err());
        assert!(valid_uri("/cb").is_err());
        assert!(valid_uri("javascript:alert(1)").is_err());
        assert!(valid_uri("https://app.example/c\r\nSet-Cookie: x=1").is_err());
        assert!(valid_uri("https://app.example/c b").is_err());
    }
}
