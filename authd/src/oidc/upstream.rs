//! Throng as a relying party: the other OpenID providers of
//! `oidc.upstream`, each read from its discovery document, asked for
//! tokens over its token endpoint, and trusted only through an ID token
//! that verifies against its JWKS (RFC 7517) with its `iss`, our client id
//! as `aud`, a live `exp` and the `nonce` of the flow. Discovery and keys
//! are kept an hour; an unknown `kid` fetches the keys again (once a
//! minute at most, so a flood of forged tokens cannot make us hammer the
//! provider). The HTTP calls block the thread that makes them, bounded by
//! [`TIMEOUT`]: that is one of the few workers of the `sso` lane
//! (`oidc.upstream_threads`, its own bounded queue), never one that signs
//! users in. No lock is held over a call, and a failed fetch is
//! remembered for [`FAILURE_KEPT`], so an unreachable provider costs one
//! timeout every few seconds, not one per click.
//!
//! An `https://` issuer's endpoints must be `https://` too; an `http://`
//! issuer is accepted only on a loopback address (a second Throng in
//! tests, a provider on the same host).

use crate::config::UpstreamConfig;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest one call to a provider may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// How long discovery and keys are kept.
const KEEP: Duration = Duration::from_secs(3600);
/// Least time between two fetches of a provider's keys.
const REFETCH_AFTER: Duration = Duration::from_secs(60);
/// How long a failed fetch is answered from memory.
const FAILURE_KEPT: Duration = Duration::from_secs(10);

/// A fetched document, or the failure of the last try, with when.
type Kept<T> = Mutex<Option<(Result<T, String>, Instant)>>;

/// The parts of a discovery document a relying party uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

/// What an upstream ID token says of the user.
#[derive(Debug, Clone, Deserialize)]
pub struct UpstreamClaims {
    pub sub: String,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

/// Why a step with a provider failed (said in the log and, without
/// detail that matters to an attacker, to the user).
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the provider answered what is not OpenID Connect: {0}")]
    Protocol(String),
    #[error("the provider refused the code: {0}")]
    Refused(String),
    #[error("the ID token is not valid: {0}")]
    BadToken(String),
}

/// One configured provider.
pub struct Upstream {
    pub cfg: UpstreamConfig,
    agent: ureq::Agent,
    discovery: Kept<Discovery>,
    keys: Kept<JwkSet>,
}

/// Every configured provider, by id.
#[derive(Default)]
pub struct Upstreams(HashMap<String, Upstream>);

impl Upstreams {
    /// The providers of the config; refuses a bad id or a duplicate.
    pub fn new(configs: &[UpstreamConfig]) -> Result<Upstreams, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        let mut out = HashMap::new();
        for cfg in configs {
            let id_ok = !cfg.id.is_empty()
                && cfg.id.len() <= 64
                && cfg.id.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !id_ok {
                return Err(format!(
                    "oidc.upstream id {:?}: 1–64 of a–z 0–9 _ -",
                    cfg.id
                ));
            }
            if cfg.issuer.is_empty() || cfg.client_id.is_empty() {
                return Err(format!(
                    "oidc.upstream {}: issuer and client_id are needed",
                    cfg.id
                ));
            }
            if !issuer_allowed(&cfg.issuer) {
                return Err(format!(
                    "oidc.upstream {}: the issuer must be an https:// URL (http:// only on a loopback address)",
                    cfg.id
                ));
            }
            let upstream = Upstream {
                cfg: cfg.clone(),
                agent: agent.clone(),
                discovery: Mutex::new(None),
                keys: Mutex::new(None),
            };
            if out.insert(cfg.id.clone(), upstream).is_some() {
                return Err(format!("oidc.upstream id {:?} twice", cfg.id));
            }
        }
        Ok(Upstreams(out))
    }

    pub fn get(&self, id: &str) -> Option<&Upstream> {
        self.0.get(id)
    }
}

fn get_json<T: serde::de::DeserializeOwned>(
    agent: &ureq::Agent,
    url: &str,
) -> Result<T, UpstreamError> {
    let mut response = agent
        .get(url)
        .call()
        .map_err(|e| UpstreamError::Unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(UpstreamError::Protocol(format!(
            "{url}: HTTP {}",
            response.status().as_u16()
        )));
    }
    read_json(&mut response).map_err(|e| UpstreamError::Protocol(format!("{url}: {e}")))
}

/// A response body (at most 1 MiB) as JSON.
fn read_json<T: serde::de::DeserializeOwned>(
    response: &mut ureq::http::Response<ureq::Body>,
) -> Result<T, String> {
    let text = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// An issuer we may talk to: `https://`, or `http://` on a loopback host.
fn issuer_allowed(issuer: &str) -> bool {
    if issuer.starts_with("https://") {
        return true;
    }
    let Some(rest) = issuer.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What a kept document answers now: the document, the remembered
/// failure, or `None` (fetch it) — `fresh` says how long a document lasts.
fn from_memory<T: Clone>(
    kept: &Kept<T>,
    fresh: impl Fn(Duration) -> bool,
) -> Option<Result<T, UpstreamError>> {
    let kept = kept.lock().unwrap_or_else(|p| p.into_inner());
    match kept.as_ref() {
        Some((Ok(doc), at)) if fresh(at.elapsed()) => Some(Ok(doc.clone())),
        Some((Err(why), at)) if at.elapsed() < FAILURE_KEPT => Some(Err(
            UpstreamError::Unreachable(format!("{why} (a moment ago; not asked again yet)")),
        )),
        _ => None,
    }
}

/// Remembers what a fetch gave (the lock is held only to store it).
fn remember<T: Clone>(kept: &Kept<T>, got: &Result<T, UpstreamError>) {
    let value = match got {
        Ok(doc) => Ok(doc.clone()),
        Err(e) => Err(e.to_string()),
    };
    *kept.lock().unwrap_or_else(|p| p.into_inner()) = Some((value, Instant::now()));
}

impl Upstream {
    /// The provider's discovery document (kept [`KEEP`]); its `issuer`
    /// must be the configured one exactly (OpenID Connect Discovery 4.3).
    pub fn discovery(&self) -> Result<Discovery, UpstreamError> {
        if let Some(known) = from_memory(&self.discovery, |age| age < KEEP) {
            return known;
        }
        let got = self.fetch_discovery();
        remember(&self.discovery, &got);
        got
    }

    fn fetch_discovery(&self) -> Result<Discovery, UpstreamError> {
        let issuer = self.cfg.issuer.trim_end_matches('/');
        let d: Discovery = get_json(
            &self.agent,
            &format!("{issuer}/.well-known/openid-configuration"),
        )?;
        // The endpoints keep the issuer's scheme: an https issuer whose
        // token endpoint is http would send our client secret in clear.
        let scheme = if self.cfg.issuer.starts_with("https://") {
            "https://"
        } else {
            "http://"
        };
        for endpoint in [&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri] {
            if !endpoint.starts_with(scheme) || endpoint.chars().any(|c| c.is_control() || c == ' ')
            {
                return Err(UpstreamError::Protocol(format!(
                    "discovery names an endpoint that is no {scheme} URL: {endpoint:?}"
                )));
            }
        }
        if d.issuer != self.cfg.issuer {
            return Err(UpstreamError::Protocol(format!(
                "discovery names issuer {:?}, not {:?}",
                d.issuer, self.cfg.issuer
            )));
        }
        Ok(d)
    }

    /// Where to send the browser.
    pub fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        challenge: &str,
    ) -> Result<String, UpstreamError> {
        let d = self.discovery()?;
        let scope = if self.cfg.scope.split(' ').any(|s| s == "openid") {
            self.cfg.scope.clone()
        } else {
            format!("openid {}", self.cfg.scope).trim().to_owned()
        };
        let query = form_urlencoded_pairs(&[
            ("response_type", "code"),
            ("client_id", &self.cfg.client_id),
            ("redirect_uri", redirect_uri),
            ("scope", &scope),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]);
        let sep = if d.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        Ok(format!("{}{sep}{query}", d.authorization_endpoint))
    }

    /// The ID token for a code (client_secret_basic, PKCE verifier).
    pub fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<String, UpstreamError> {
        use base64::Engine;
        let d = self.discovery()?;
        let enc = |s: &str| form_urlencoded_pairs(&[("x", s)])[2..].to_owned();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            enc(&self.cfg.client_id),
            enc(&self.cfg.client_secret)
        ));
        let mut response = self
            .agent
            .post(&d.token_endpoint)
            .header("Authorization", &format!("Basic {basic}"))
            .send_form([
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
            ])
            .map_err(|e| UpstreamError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let body: serde_json::Value = read_json(&mut response)
            .map_err(|e| UpstreamError::Protocol(format!("token answer: {e}")))?;
        if status != 200 {
            let error = body["error"].as_str().unwrap_or("no error code");
            return Err(UpstreamError::Refused(format!("HTTP {status}, {error}")));
        }
        let answer: TokenAnswer = serde_json::from_value(body)
            .map_err(|e| UpstreamError::Protocol(format!("token answer: {e}")))?;
        answer
            .id_token
            .ok_or_else(|| UpstreamError::Protocol("no id_token in the token answer".into()))
    }

    /// The provider's keys, fetched again when `refresh` and the last
    /// fetch is older than [`REFETCH_AFTER`].
    fn keys(&self, refresh: bool) -> Result<JwkSet, UpstreamError> {
        let fresh = |age: Duration| age < KEEP && !(refresh && age >= REFETCH_AFTER);
        if let Some(known) = from_memory(&self.keys, fresh) {
            return known;
        }
        let got = self
            .discovery()
            .and_then(|d| get_json::<JwkSet>(&self.agent, &d.jwks_uri));
        remember(&self.keys, &got);
        got
    }

    /// The claims of an ID token from this provider, verified.
    pub fn verify(&self, id_token: &str, nonce: &str) -> Result<UpstreamClaims, UpstreamError> {
        let bad = |why: &str| UpstreamError::BadToken(why.to_owned());
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| bad("not a JWT"))?;
        // Only asymmetric algorithms: an `HS256` token "signed" with a
        // public key, or `none`, is a forgery.
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
                | Algorithm::ES256
                | Algorithm::ES384
                | Algorithm::EdDSA
        ) {
            return Err(bad("its algorithm is not one a provider signs with"));
        }
        let find = |set: &JwkSet| match &header.kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        let jwk = match find(&self.keys(false)?) {
            Some(jwk) => jwk,
            None => find(&self.keys(true)?)
                .ok_or_else(|| bad("signed by a key the provider does not publish"))?,
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| bad("the provider's key is unusable"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.cfg.issuer.as_str()]);
        validation.set_audience(&[self.cfg.client_id.as_str()]);
        validation.set_required_spec_claims(&["iss", "aud", "exp", "sub"]);
        let claims = jsonwebtoken::decode::<UpstreamClaims>(id_token, &key, &validation)
            .map_err(|e| UpstreamError::BadToken(e.to_string()))?
            .claims;
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(bad("its nonce is not this sign-in's"));
        }
        if claims.sub.is_empty() || claims.sub.len() > 255 {
            return Err(bad("its sub is empty or too long"));
        }
        Ok(claims)
    }
}

/// `k=v&…`, form-urlencoded.
fn form_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::issuer_allowed;

    #[test]
    fn only_https_issuers_or_loopback_http_ones_are_accepted() {
        for ok in [
            "https://accounts.example.com",
            "http://127.0.0.1:9090",
            "http://127.8.0.2",
            "http://localhost:8080/realm",
            "http://[::1]:9000",
        ] {
            assert!(issuer_allowed(ok), "{ok}");
        }
        for bad in [
            "http://accounts.example.com",
            "http://10.0.0.1",
            "http://127.0.0.1.example.com",
            "http://localhost.example.com",
            "http://[::2]",
            "ftp://127.0.0.1",
            "127.0.0.1",
            "",
        ] {
            assert!(!issuer_allowed(bad), "{bad}");
        }
    }
}
