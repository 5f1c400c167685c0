//! The token endpoint (RFC 6749 3.2, OpenID Connect Core 3.1.3): an
//! authorization code for tokens, or a refresh token for new ones.
//!
//! A code is taken from Redis by one script that also writes the `ocu:`
//! record of its use, so two exchanges of one code cannot both succeed,
//! and one presented again, even while the first exchange runs, finds the
//! record and ends the grant it made (RFC 6749 4.1.2: tokens issued from
//! a replayed code should be revoked; `oidc_exchange.rs`). A refresh
//! token is used up in the same transaction that stores its successor;
//! presented again, it ends the whole grant (OAuth 2.0 Security BCP 4.14:
//! reuse means one of two holders is a thief, and the provider cannot
//! tell which).

use super::oidc::{refuse, ACCESS_PREFIX, REFRESH_PREFIX};
use super::Worker;
use crate::oidc::claims::{at_hash, IdToken, ProfileClaims};
use crate::oidc::grants::AccessGrant;
use crate::oidc::{random_token, scope, signing, token_hash, Provider};
use crate::ops::Job;
use crate::records::now_ms;
use crate::store::oidc::{Client, Grant, GrantsOf};
use crate::store::User;
use authd_wire::ops::{OidcToken, Tokens};
use authd_wire::{Refusal, Request, Status};

/// One set of tokens to issue: for `job`, to `client`, of `user`'s
/// `grant`, with `scope`, the ID token's `nonce`, and the new refresh
/// token.
pub(super) type Issue = (Job, Client, User, Grant, String, Option<String>, String);

impl Worker {
    /// A token request: a code exchange goes to the batch
    /// (`oidc_batch`); a refresh is answered here.
    pub(super) fn token(&mut self, job: Job) {
        let Request::OidcToken(op) = job.op.clone() else {
            job.refuse(Status::Internal);
            return;
        };
        let provider = match self.provider() {
            Ok(p) => p,
            Err(refusal) => return job.refuse(refusal),
        };
        match op.grant_type.as_str() {
            "authorization_code" => self.oidc_batch(vec![job]),
            "refresh_token" => {
                let client = match self.authenticated_client(
                    &provider,
                    &op.client_id,
                    op.client_secret.as_str(),
                ) {
                    Ok(c) => c,
                    Err(refusal) => return job.refuse(refusal),
                };
                match self.refresh(&provider, &client, &op) {
                    Ok((user, grant, scope, refresh)) => self.issue_all(
                        &provider,
                        vec![(job, client, user, grant, scope, None, refresh)],
                    ),
                    Err(refusal) => job.refuse(refusal),
                }
            }
            "" => job.refuse(refuse(Status::InvalidRequest, "grant_type is missing")),
            _ => job.refuse(refuse(
                Status::UnsupportedGrantType,
                "grant_type must be authorization_code or refresh_token",
            )),
        }
    }

    /// A refresh: the user, grant, scope and new refresh token to issue
    /// with, the old token used up.
    fn refresh(
        &mut self,
        provider: &Provider,
        client: &Client,
        op: &OidcToken,
    ) -> Result<(User, Grant, String, String), Refusal> {
        let old = op.refresh_token.as_str();
        if old.is_empty() {
            return Err(refuse(Status::InvalidRequest, "refresh_token is missing"));
        }
        let unknown = || refuse(Status::InvalidGrant, "the refresh token is not valid");
        let row = self.presented_refresh_token(old)?.ok_or_else(unknown)?;
        if row.grant.client_id != client.client_id || row.grant.revoked || row.expired {
            return Err(unknown());
        }
        if row.used {
            log::warn!(
                "a used refresh token of client {} was presented again: its grant ends",
                client.client_id
            );
            self.end_grants(GrantsOf::Id(row.grant.id), false)?;
            return Err(refuse(
                Status::InvalidGrant,
                "the refresh token was used already; the grant has ended",
            ));
        }
        let scope = if op.scope.trim().is_empty() {
            row.grant.scope.clone()
        } else if scope::within(&op.scope, &row.grant.scope) {
            scope::granted(&op.scope)
                .ok_or_else(|| refuse(Status::InvalidScope, "the scope must include openid"))?
        } else {
            return Err(refuse(
                Status::InvalidScope,
                "the scope is wider than the grant's",
            ));
        };
        let user = match self.shared.db.user_by_id(row.grant.user_id) {
            Ok(Some(u)) if !u.locked => u,
            Ok(_) => return Err(unknown()),
            Err(e) => return Err(super::store_failed("loading a user", e).into()),
        };
        let new = random_token(REFRESH_PREFIX).map_err(Refusal::new)?;
        let rotated = self
            .shared
            .db
            .rotate_refresh_token(
                &token_hash(old),
                &row,
                &token_hash(&new),
                provider.cfg.refresh_token_ttl.as_secs(),
            )
            .map_err(|e| Refusal::from(super::store_failed("rotating a refresh token", e)))?;
        if !rotated {
            // Used by someone else between the read and the write.
            self.end_grants(GrantsOf::Id(row.grant.id), false)?;
            return Err(refuse(
                Status::InvalidGrant,
                "the refresh token was used already; the grant has ended",
            ));
        }
        Ok((user, row.grant, scope, new))
    }

    /// New access tokens (one Redis pipeline, each listed under its
    /// grant) and ID tokens for every entry, each answered. An entry whose
    /// grant was marked ended meanwhile (its code presented again, its
    /// session ended) gets nothing: its access token is deleted and its
    /// grant ended in MariaDB too, since the mark may have been set before
    /// the grant was stored.
    pub(super) fn issue_all(&mut self, provider: &Provider, issues: Vec<Issue>) {
        let now = now_ms() / 1000;
        let ttl = provider.cfg.access_token_ttl.as_secs().max(1);
        let mut ready = Vec::with_capacity(issues.len());
        for issue in issues {
            let Ok(access) = random_token(ACCESS_PREFIX) else {
                issue.0.refuse(Status::Internal);
                continue;
            };
            let (_, client, user, grant, scope, ..) = &issue;
            let record = AccessGrant {
                grant_id: grant.id,
                uuid: user.uuid_hex(),
                client_id: client.client_id.clone(),
                scope: scope.clone(),
                iat: now,
                exp: now + ttl,
            };
            let Ok(value) = serde_json::to_string(&record) else {
                issue.0.refuse(Status::Internal);
                continue;
            };
            let keys = (
                self.access_key(&access),
                self.grant_tokens_key(grant.id),
                self.grant_ended_key(grant.id),
            );
            ready.push((issue, access, value, keys));
        }
        // The set outlives every token in it by a little; a token's key
        // is deleted with the grant, or expires.
        // After each token joins its grant's set, the grant's end mark is
        // read ([`Worker::end_grants`] writes it before reading the set).
        let ended: Option<Vec<bool>> = self.cache.run(|c| {
            let mut p = redis::pipe();
            for (_, _, value, (key, set, mark)) in &ready {
                p.cmd("SET").arg(key).arg(value).arg("EX").arg(ttl).ignore();
                p.cmd("SADD").arg(set).arg(key).ignore();
                p.cmd("EXPIRE").arg(set).arg(ttl + 60).ignore();
                p.cmd("EXISTS").arg(mark);
            }
            p.query(c)
        });
        // Per token: whether its grant has ended (`None`: Redis failed).
        let ended: Vec<Option<bool>> = match ended.filter(|e| e.len() == ready.len()) {
            Some(flags) => flags.into_iter().map(Some).collect(),
            None => vec![None; ready.len()],
        };
        let taken_back: Vec<(&String, u64)> = ready
            .iter()
            .zip(&ended)
            .filter(|(_, ended)| **ended == Some(true))
            .map(|(((_, _, _, grant, ..), _, _, (key, ..)), _)| (key, grant.id))
            .collect();
        if !taken_back.is_empty() {
            let keys: Vec<&String> = taken_back.iter().map(|(key, _)| *key).collect();
            let _ = self
                .cache
                .run(|c| redis::cmd("DEL").arg(&keys).query::<()>(c));
            for (_, grant_id) in &taken_back {
                if let Err(e) = self.shared.db.revoke_grants(GrantsOf::Id(*grant_id)) {
                    log::error!("ending a grant ended while it was made: {e}");
                }
            }
        }
        let keys = provider.keys(&self.shared.db);
        for (((job, client, user, grant, scope, nonce, refresh), access, ..), ended) in
            ready.into_iter().zip(ended)
        {
            match ended {
                None => {
                    job.refuse(Status::Unavailable);
                    continue;
                }
                Some(true) => {
                    job.refuse(refuse(Status::InvalidGrant, "the grant has ended"));
                    continue;
                }
                Some(false) => {}
            }
            let alg = signing::client_algorithm(&client.id_token_alg);
            let email = match self.email_for(&scope, &user) {
                Ok(e) => e,
                Err(refusal) => {
                    job.refuse(refusal);
                    continue;
                }
            };
            let profile = scope::has(&scope, "profile");
            let claims = IdToken {
                iss: provider.issuer.clone(),
                sub: uuid::Uuid::from_bytes(user.uuid).to_string(),
                aud: client.client_id.clone(),
                exp: now + provider.cfg.id_token_ttl.as_secs().max(1),
                iat: now,
                auth_time: grant.auth_time,
                nonce,
                sid: grant.sid.clone(),
                at_hash: (alg == jsonwebtoken::Algorithm::RS256).then(|| at_hash(&access)),
                profile: ProfileClaims {
                    name: profile.then(|| user.nickname.clone()),
                    nickname: profile.then(|| user.nickname.clone()),
                    preferred_username: profile.then(|| user.username.clone()),
                    email_verified: email.as_ref().map(|_| true),
                    email,
                },
            };
            match keys.sign(alg, "JWT", &claims) {
                Ok(id_token) => job.ok::<OidcToken>(&Tokens {
                    access_token: access.into(),
                    expires_in: u32::try_from(ttl).unwrap_or(u32::MAX),
                    id_token: id_token.into(),
                    refresh_token: refresh.into(),
                    scope,
                }),
                Err(e) => {
                    log::error!("signing an ID token: {e}");
                    job.refuse(Status::Internal);
                }
            }
        }
    }

    /// The user's e-mail when `scope` asks for it (the cache keeps none).
    fn email_for(&mut self, scope: &str, user: &User) -> Result<Option<String>, Refusal> {
        if !scope::has(scope, "email") || !user.has_email {
            return Ok(None);
        }
        if let Some(e) = &user.email {
            return Ok(Some(e.clone()));
        }
        Ok(self
            .shared
            .db
            .user_by_id(user.id)
            .map_err(|e| Refusal::from(super::store_failed("loading an e-mail", e)))?
            .and_then(|u| u.email))
    }
}
