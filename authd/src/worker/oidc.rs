//! The OpenID provider's operations but the token endpoint's
//! ([`super::oidc_token`]): the authorization step, userinfo,
//! introspection, revocation, RP-initiated logout and the metadata; and
//! ending grants — when a Throng session ends, every grant made in it ends
//! too (its refresh tokens, its access tokens at once) and each client
//! with a back-channel logout URI is told.

use super::Worker;
use crate::oidc::claims::{Hint, LogoutToken, LOGOUT_EVENT};
use crate::oidc::grants::AccessGrant;
use crate::oidc::{first_refresh, signing, token_hash, Provider};
use crate::ops::Job;
use crate::records::now_ms;
use crate::store::oidc::{Client, Grant, GrantsOf, RefreshRow};
use authd_wire::ops::{
    Introspection, LoggedOut, OidcLogout, OidcMetadata, OidcRevoke, ProviderMetadata,
};
use authd_wire::{Refusal, Request, Status};
use std::sync::Arc;

/// The prefixes that say which store a token lives in.
pub(super) const ACCESS_PREFIX: &str = "at.";
pub(super) const REFRESH_PREFIX: &str = "rt.";

/// How long a used code is remembered, so that its replay ends its grant.
pub(super) const USED_CODE_TTL_S: u64 = 600;

pub(super) fn refuse(status: Status, why: &str) -> Refusal {
    Refusal::reason(status, why)
}

impl Worker {
    pub(super) fn oidc(&mut self, job: Job) {
        match job.op.clone() {
            Request::OidcMetadata(_) => {
                let answer = self.provider().map(|p| ProviderMetadata {
                    issuer: p.issuer.clone(),
                    jwks: p.keys(&self.shared.db).jwks().to_owned(),
                });
                job.answer::<OidcMetadata>(answer)
            }
            Request::OidcAuthorize(_) | Request::OidcUserinfo(_) | Request::OidcIntrospect(_) => {
                self.oidc_batch(vec![job])
            }
            Request::OidcToken(_) => self.token(job),
            Request::OidcRevoke(op) => {
                let answer = self.revoke(&op);
                job.answer::<OidcRevoke>(answer)
            }
            Request::OidcLogout(op) => {
                let answer = self.rp_logout(&op);
                job.answer::<OidcLogout>(answer)
            }
            _ => job.refuse(Status::Internal),
        }
    }

    pub(super) fn provider(&self) -> Result<Arc<Provider>, Refusal> {
        self.shared
            .provider
            .clone()
            .ok_or_else(|| Refusal::new(Status::OidcOff))
    }

    /// The registered client `client_id`, or `invalid_client`.
    pub(super) fn client(&mut self, client_id: &str) -> Result<Client, Refusal> {
        match self.clients.get(&self.shared.db, client_id) {
            Ok(Some(client)) => Ok(client),
            Ok(None) => Err(refuse(Status::InvalidClient, "unknown client")),
            Err(e) => Err(super::store_failed("reading a client", e).into()),
        }
    }

    /// The client, once it proved it is (its secret; a public client has
    /// none to prove). Unknown client and wrong secret answer alike.
    pub(super) fn authenticated_client(
        &mut self,
        provider: &Provider,
        client_id: &str,
        secret: &str,
    ) -> Result<Client, Refusal> {
        let failed = || refuse(Status::InvalidClient, "client authentication failed");
        if client_id.is_empty() {
            return Err(failed());
        }
        let client = self.client(client_id).map_err(|r| match r.status {
            Status::InvalidClient => failed(),
            _ => r,
        })?;
        if provider.secret_matches(&client, secret) {
            Ok(client)
        } else {
            Err(failed())
        }
    }

    pub(super) fn code_key(&self, code: &str) -> String {
        self.cache.key("oc", &code_tag(code))
    }

    /// The record of a code taken: the id of the grant its exchange makes.
    pub(super) fn used_code_key(&self, code: &str) -> String {
        self.cache.key("ocu", &code_tag(code))
    }

    pub(super) fn access_key(&self, token: &str) -> String {
        self.cache.key("oat", &hex::encode(token_hash(token)))
    }

    /// The set of a grant's access-token keys (so ending the grant ends
    /// them). The grant id is a Redis Cluster hash tag, shared with
    /// [`Worker::grant_ended_key`]: the set and the mark live on one node,
    /// so the order in which a pipeline writes one and reads the other
    /// holds ([`Worker::issue_all`], [`Worker::end_grants`]).
    pub(super) fn grant_tokens_key(&self, grant_id: u64) -> String {
        self.cache.key("oga", &format!("{{{grant_id}}}"))
    }

    /// The mark of a grant ended within an access token's life.
    pub(super) fn grant_ended_key(&self, grant_id: u64) -> String {
        self.cache.key("ogx", &format!("{{{grant_id}}}"))
    }

    /// An access token's grant, if it is alive.
    fn access_grant(&mut self, token: &str) -> Result<Option<AccessGrant>, Refusal> {
        if !token.starts_with(ACCESS_PREFIX) {
            return Ok(None);
        }
        let key = self.access_key(token);
        let value: Option<String> = self
            .cache
            .run(|c| redis::cmd("GET").arg(&key).query(c))
            .ok_or_else(|| Refusal::new(Status::Unavailable))?;
        Ok(value
            .and_then(|v| serde_json::from_str::<AccessGrant>(&v).ok())
            .filter(|g| g.exp > now_ms() / 1000))
    }

    /// The row of refresh token `token`: its stored row or, for a grant's
    /// first refresh token not used yet, what its row would say
    /// ([`crate::oidc::first_refresh`]); `None` for anything else.
    pub(super) fn presented_refresh_token(
        &mut self,
        token: &str,
    ) -> Result<Option<RefreshRow>, Refusal> {
        let Some(body) = token.strip_prefix(REFRESH_PREFIX) else {
            return Ok(None);
        };
        let failed = |e| Refusal::from(super::store_failed("reading a refresh token", e));
        let stored = self
            .shared
            .db
            .refresh_token(&token_hash(token))
            .map_err(failed)?;
        if stored.is_some() {
            return Ok(stored);
        }
        let Some(grant_id) = first_refresh::claimed_grant(body) else {
            return Ok(None);
        };
        let provider = self.provider()?;
        let row = self
            .shared
            .db
            .first_refresh_token(grant_id, provider.cfg.refresh_token_ttl.as_secs())
            .map_err(failed)?;
        Ok(row.filter(|r| provider.is_first_refresh_token(body, &r.grant)))
    }

    /// Introspection of a refresh token, for `client` (another client's
    /// token is inactive).
    pub(super) fn introspect_refresh(
        &mut self,
        client: &Client,
        token: &str,
    ) -> Result<Introspection, Refusal> {
        let row = self.presented_refresh_token(token)?;
        let Some(r) = row.filter(|r| {
            !r.used && !r.expired && !r.grant.revoked && r.grant.client_id == client.client_id
        }) else {
            return Ok(Introspection::default());
        };
        let user = match self.shared.db.user_by_id(r.grant.user_id) {
            Ok(Some(u)) if !u.locked => u,
            Ok(_) => return Ok(Introspection::default()),
            Err(e) => return Err(super::store_failed("loading a user", e).into()),
        };
        Ok(Introspection {
            active: true,
            scope: r.grant.scope,
            client_id: client.client_id.clone(),
            sub: uuid::Uuid::from_bytes(user.uuid).to_string(),
            username: user.username,
            token_type: "refresh_token".into(),
            iat: r.issued_s,
            exp: r.expires_s,
        })
    }

    fn revoke(&mut self, op: &OidcRevoke) -> Result<(), Refusal> {
        let provider = self.provider()?;
        let client =
            self.authenticated_client(&provider, &op.client_id, op.client_secret.as_str())?;
        let token = op.token.as_str();
        if token.starts_with(ACCESS_PREFIX) {
            if let Some(g) = self.access_grant(token)? {
                if g.client_id == client.client_id {
                    let key = self.access_key(token);
                    self.cache
                        .run(|c| redis::cmd("DEL").arg(&key).query::<()>(c))
                        .ok_or_else(|| Refusal::new(Status::Unavailable))?;
                }
            }
        } else if token.starts_with(REFRESH_PREFIX) {
            let row = self.presented_refresh_token(token)?;
            if let Some(r) = row.filter(|r| r.grant.client_id == client.client_id) {
                self.end_grants(GrantsOf::Id(r.grant.id), false)?;
            }
        }
        Ok(())
    }

    fn rp_logout(&mut self, op: &OidcLogout) -> Result<LoggedOut, Refusal> {
        let provider = self.provider()?;
        let keys = provider.keys(&self.shared.db);
        let hint: Option<Hint> = if op.id_token_hint.as_str().is_empty() {
            None
        } else {
            let issuer = provider.issuer.clone();
            let read = keys.verify::<Hint>(op.id_token_hint.as_str(), |alg| {
                let mut v = jsonwebtoken::Validation::new(alg);
                v.set_issuer(&[issuer.as_str()]);
                // A hint is often an expired ID token; its signature and
                // issuer are what matter.
                v.validate_exp = false;
                v.validate_aud = false;
                v.set_required_spec_claims(&["iss", "aud"]);
                v
            });
            Some(read.ok_or_else(|| {
                refuse(
                    Status::InvalidRequest,
                    "id_token_hint is not an ID token this provider issued",
                )
            })?)
        };
        let client_id = match (&hint, op.client_id.as_str()) {
            (Some(h), id) if !id.is_empty() && h.aud != id => {
                return Err(refuse(
                    Status::InvalidRequest,
                    "client_id is not the audience of id_token_hint",
                ))
            }
            (Some(h), _) => h.aud.clone(),
            (None, id) => id.to_owned(),
        };
        let mut redirect = String::new();
        if !op.post_logout_redirect_uri.is_empty() {
            if client_id.is_empty() {
                return Err(refuse(
                    Status::InvalidRequest,
                    "post_logout_redirect_uri needs id_token_hint or client_id",
                ));
            }
            let client = self.client(&client_id)?;
            if !client
                .post_logout_uris
                .contains(&op.post_logout_redirect_uri)
            {
                return Err(refuse(
                    Status::InvalidRequest,
                    "post_logout_redirect_uri is not registered for this client",
                ));
            }
            redirect = op.post_logout_redirect_uri.clone();
        }
        let token = op.token.as_str();
        if token.is_empty() {
            return Ok(LoggedOut {
                ended: true,
                redirect,
            });
        }
        // Without a hint naming this very session, a link on any page
        // could sign the user out: they confirm on our page first.
        let this_sid = provider.sid(&crate::password::token_hash(token));
        let named = hint.as_ref().is_some_and(|h| h.sid == this_sid);
        if !named && !op.confirmed {
            return Ok(LoggedOut {
                ended: false,
                redirect,
            });
        }
        self.logout(token)?;
        Ok(LoggedOut {
            ended: true,
            redirect,
        })
    }

    /// Ends the grants `which` chooses: their refresh tokens stop (MySQL),
    /// they are marked ended and their access tokens deleted (Redis; a
    /// grant named by id is marked even before it is stored), and clients
    /// with a back-channel logout URI are told when `tell` (a session
    /// ended; not for a client's own revocation). Nothing to do without a
    /// provider.
    pub(super) fn end_grants(&mut self, which: GrantsOf<'_>, tell: bool) -> Result<(), Refusal> {
        let Some(provider) = self.shared.provider.clone() else {
            return Ok(());
        };
        let ended = self
            .shared
            .db
            .revoke_grants(which)
            .map_err(|e| Refusal::from(super::store_failed("ending grants", e)))?;
        let mut ids: Vec<u64> = ended.iter().map(|g| g.id).collect();
        // A grant named by its id is marked even if MariaDB has no such
        // grant yet: the exchange still making it (a code presented twice
        // at once) reads the mark after storing its token.
        if let GrantsOf::Id(id) = which {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        let sets: Vec<(String, String)> = ids
            .iter()
            .map(|id| (self.grant_tokens_key(*id), self.grant_ended_key(*id)))
            .collect();
        // The marks first, in a round trip of their own, then the tokens:
        // a token stored meanwhile ([`Worker::issue_all`]) is either in
        // the set read here or sees the mark. (In one pipeline a Redis
        // Cluster could run a set's read on its node before the mark's
        // write on another.)
        let mark_ttl = provider.cfg.access_token_ttl.as_secs() + 60;
        let _ = self.cache.run(|c| {
            let mut marks = redis::pipe();
            for (_, mark) in &sets {
                marks
                    .cmd("SET")
                    .arg(mark)
                    .arg(1)
                    .arg("EX")
                    .arg(mark_ttl)
                    .ignore();
            }
            marks.query::<()>(c)?;
            let mut read = redis::pipe();
            for (set, _) in &sets {
                read.cmd("SMEMBERS").arg(set);
            }
            let members: Vec<Vec<String>> = read.query(c)?;
            let mut del = redis::pipe();
            for ((set, _), keys) in sets.iter().zip(members) {
                del.cmd("DEL").arg(set).ignore();
                for key in keys {
                    del.cmd("DEL").arg(key).ignore();
                }
            }
            del.query::<()>(c)
        });
        if tell {
            self.tell_clients(&provider, &ended);
        }
        Ok(())
    }

    /// Queues a back-channel logout token for each ended grant whose
    /// client asked for them (one per client and session).
    fn tell_clients(&mut self, provider: &Provider, ended: &[Grant]) {
        let keys = provider.keys(&self.shared.db);
        let mut told = std::collections::HashSet::new();
        for grant in ended {
            if !told.insert((grant.client_id.clone(), grant.sid.clone())) {
                continue;
            }
            let Ok(client) = self.client(&grant.client_id) else {
                continue;
            };
            if client.backchannel_logout_uri.is_empty() {
                continue;
            }
            let sub = match self.shared.db.user_by_id(grant.user_id) {
                Ok(Some(u)) => uuid::Uuid::from_bytes(u.uuid).to_string(),
                _ => continue,
            };
            let Ok(jti) = crate::oidc::random_token("") else {
                continue;
            };
            let now = now_ms() / 1000;
            let claims = LogoutToken {
                iss: provider.issuer.clone(),
                sub,
                aud: client.client_id.clone(),
                iat: now,
                exp: now + 120,
                jti,
                sid: grant.sid.clone(),
                events: serde_json::json!({ LOGOUT_EVENT: {} }),
            };
            let alg = signing::client_algorithm(&client.id_token_alg);
            match keys.sign(alg, "logout+jwt", &claims) {
                Ok(token) => provider.backchannel.send(crate::oidc::backchannel::Notice {
                    client_id: client.client_id.clone(),
                    uri: client.backchannel_logout_uri.clone(),
                    logout_token: token,
                }),
                Err(e) => log::error!("signing a logout token: {e}"),
            }
        }
    }

    /// A session ended: so do the grants made in it.
    pub(super) fn session_grants_end(&mut self, session_hash: &[u8; 32]) {
        let Some(provider) = self.shared.provider.clone() else {
            return;
        };
        let sid = provider.sid(session_hash);
        if let Err(e) = self.end_grants(GrantsOf::Session(&sid), true) {
            log::error!("ending the grants of a session: {:?}", e.status);
        }
    }

    /// Every session of a user ended: so do all their grants.
    pub(super) fn user_grants_end(&mut self, user_id: u64) {
        if let Err(e) = self.end_grants(GrantsOf::User(user_id), true) {
            log::error!("ending the grants of a user: {:?}", e.status);
        }
    }
}

/// A code's hash in braces, the Redis Cluster hash tag: the code's key and
/// its used record share a slot, so one script can take the one and
/// write the other ([`Worker::exchange_batch`]).
fn code_tag(code: &str) -> String {
    format!("{{{}}}", hex::encode(token_hash(code)))
}
