//! The token endpoint (RFC 6749 3.2, OpenID Connect Core 3.1.3): an
//! authorization code for tokens, or a refresh token for new ones.
//!
//! A code is taken from Redis with `GETDEL`, so two exchanges of one code
//! cannot both succeed; a code presented again finds the `ocu:` record of
//! its first use and ends the grant it made (RFC 6749 4.1.2: tokens issued
//! from a replayed code should be revoked). A refresh token is used up in
//! the same transaction that stores its successor; presented again, it
//! ends the whole grant (OAuth 2.0 Security BCP 4.14: reuse means one of
//! two holders is a thief, and the provider cannot tell which).

use super::oidc::{refuse, ACCESS_PREFIX, REFRESH_PREFIX};
use super::users::By;
use super::Worker;
use crate::oidc::claims::{at_hash, IdToken, ProfileClaims};
use crate::oidc::grants::{AccessGrant, CodeGrant};
use crate::oidc::{pkce, random_token, scope, signing, token_hash, Provider};
use crate::records::now_ms;
use crate::store::oidc::{Client, Grant, GrantsOf};
use crate::store::User;
use authd_wire::ops::{OidcToken, Tokens};
use authd_wire::{Refusal, Status};

impl Worker {
    pub(super) fn token(&mut self, op: &OidcToken) -> Result<Tokens, Refusal> {
        let provider = self.provider()?;
        let client =
            self.authenticated_client(&provider, &op.client_id, op.client_secret.as_str())?;
        match op.grant_type.as_str() {
            "authorization_code" => self.exchange_code(&provider, &client, op),
            "refresh_token" => self.refresh(&provider, &client, op),
            "" => Err(refuse(Status::InvalidRequest, "grant_type is missing")),
            _ => Err(refuse(
                Status::UnsupportedGrantType,
                "grant_type must be authorization_code or refresh_token",
            )),
        }
    }

    fn exchange_code(
        &mut self,
        provider: &Provider,
        client: &Client,
        op: &OidcToken,
    ) -> Result<Tokens, Refusal> {
        let code = op.code.as_str();
        if code.is_empty() {
            return Err(refuse(Status::InvalidRequest, "code is missing"));
        }
        let (key, used_key) = (self.code_key(code), self.used_code_key(code));
        let (taken, used): (Option<String>, Option<u64>) = self
            .cache
            .run(|c| {
                redis::pipe()
                    .cmd("GETDEL")
                    .arg(&key)
                    .cmd("GET")
                    .arg(&used_key)
                    .query(c)
            })
            .ok_or_else(|| Refusal::new(Status::Unavailable))?;
        let Some(taken) = taken else {
            if let Some(grant_id) = used {
                log::warn!(
                    "a code of client {} was presented again: its grant ends",
                    client.client_id
                );
                self.end_grants(GrantsOf::Id(grant_id), false)?;
                return Err(refuse(Status::InvalidGrant, "the code was used already"));
            }
            return Err(refuse(
                Status::InvalidGrant,
                "the code is unknown or expired",
            ));
        };
        let grant: CodeGrant =
            serde_json::from_str(&taken).map_err(|_| Refusal::new(Status::Internal))?;
        if grant.client_id != client.client_id {
            return Err(refuse(
                Status::InvalidGrant,
                "the code was issued to another client",
            ));
        }
        if grant.redirect_uri != op.redirect_uri {
            return Err(refuse(
                Status::InvalidGrant,
                "redirect_uri is not the authorization request's",
            ));
        }
        let verifier = op.code_verifier.as_str();
        match (grant.challenge.is_empty(), verifier.is_empty()) {
            (true, true) => {}
            // A verifier for a request that sent no challenge is a
            // downgrade attempt.
            (true, false) => {
                return Err(refuse(
                    Status::InvalidGrant,
                    "code_verifier given, but the authorization request had no code_challenge",
                ))
            }
            (false, _) if !pkce::verifies(verifier, &grant.challenge) => {
                return Err(refuse(
                    Status::InvalidGrant,
                    "code_verifier does not match the code_challenge",
                ))
            }
            (false, _) => {}
        }
        let mut uuid = [0u8; 16];
        hex::decode_to_slice(&grant.uuid, &mut uuid).map_err(|_| Refusal::new(Status::Internal))?;
        let user = self.live_user(&uuid)?;
        let refresh = random_token(REFRESH_PREFIX).map_err(Refusal::new)?;
        let stored = Grant {
            id: 0,
            user_id: grant.user_id,
            client_id: client.client_id.clone(),
            scope: grant.scope.clone(),
            sid: grant.sid.clone(),
            auth_time: grant.auth_time,
            revoked: false,
        };
        let grant_id = self
            .shared
            .db
            .create_grant(
                &stored,
                &token_hash(&refresh),
                provider.cfg.refresh_token_ttl.as_secs(),
            )
            .map_err(|e| Refusal::from(super::store_failed("storing a grant", e)))?;
        self.remember_used_code(code, grant_id);
        let nonce = Some(grant.nonce).filter(|n| !n.is_empty());
        let stored = Grant {
            id: grant_id,
            ..stored
        };
        self.issue(
            provider,
            client,
            &user,
            &stored,
            &grant.scope,
            nonce,
            refresh,
        )
    }

    fn refresh(
        &mut self,
        provider: &Provider,
        client: &Client,
        op: &OidcToken,
    ) -> Result<Tokens, Refusal> {
        let old = op.refresh_token.as_str();
        if old.is_empty() {
            return Err(refuse(Status::InvalidRequest, "refresh_token is missing"));
        }
        let unknown = || refuse(Status::InvalidGrant, "the refresh token is not valid");
        if !old.starts_with(REFRESH_PREFIX) {
            return Err(unknown());
        }
        let old_hash = token_hash(old);
        let row = self
            .shared
            .db
            .refresh_token(&old_hash)
            .map_err(|e| Refusal::from(super::store_failed("reading a refresh token", e)))?
            .ok_or_else(unknown)?;
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
                &old_hash,
                &token_hash(&new),
                row.grant.id,
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
        self.issue(provider, client, &user, &row.grant, &scope, None, new)
    }

    /// The user of a code, unless gone or locked (`invalid_grant`).
    fn live_user(&mut self, uuid: &[u8; 16]) -> Result<User, Refusal> {
        match self.user(By::Uuid(uuid)) {
            Ok(Some(user)) if !user.locked => Ok(user),
            Ok(_) => Err(refuse(Status::InvalidGrant, "the account cannot sign in")),
            Err(()) => Err(Refusal::new(Status::Unavailable)),
        }
    }

    /// A new access token (Redis, listed under its grant), and the ID
    /// token, for `grant` with `scope`.
    #[allow(clippy::too_many_arguments)]
    fn issue(
        &mut self,
        provider: &Provider,
        client: &Client,
        user: &User,
        grant: &Grant,
        scope: &str,
        nonce: Option<String>,
        refresh: String,
    ) -> Result<Tokens, Refusal> {
        let now = now_ms() / 1000;
        let ttl = provider.cfg.access_token_ttl.as_secs().max(1);
        let access = random_token(ACCESS_PREFIX).map_err(Refusal::new)?;
        let sub = uuid::Uuid::from_bytes(user.uuid).to_string();
        let record = AccessGrant {
            grant_id: grant.id,
            uuid: user.uuid_hex(),
            client_id: client.client_id.clone(),
            scope: scope.to_owned(),
            iat: now,
            exp: now + ttl,
        };
        let value = serde_json::to_string(&record).map_err(|_| Refusal::new(Status::Internal))?;
        let (key, set) = (self.access_key(&access), self.grant_tokens_key(grant.id));
        // The set outlives every token in it by a little; a token's key is
        // deleted with the grant, or expires.
        let set_ttl = ttl + 60;
        self.cache
            .run(|c| {
                redis::pipe()
                    .cmd("SET")
                    .arg(&key)
                    .arg(&value)
                    .arg("EX")
                    .arg(ttl)
                    .ignore()
                    .cmd("SADD")
                    .arg(&set)
                    .arg(&key)
                    .ignore()
                    .cmd("EXPIRE")
                    .arg(&set)
                    .arg(set_ttl)
                    .ignore()
                    .query::<()>(c)
            })
            .ok_or_else(|| Refusal::new(Status::Unavailable))?;
        let alg = signing::client_algorithm(&client.id_token_alg);
        let email = if scope::has(scope, "email") && user.has_email {
            match &user.email {
                Some(e) => Some(e.clone()),
                None => self
                    .shared
                    .db
                    .user_by_id(user.id)
                    .map_err(|e| Refusal::from(super::store_failed("loading an e-mail", e)))?
                    .and_then(|u| u.email),
            }
        } else {
            None
        };
        let profile = scope::has(scope, "profile");
        let claims = IdToken {
            iss: provider.issuer.clone(),
            sub,
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
        let id_token = provider
            .keys(&self.shared.db)
            .sign(alg, "JWT", &claims)
            .map_err(|e| {
                log::error!("signing an ID token: {e}");
                Refusal::new(Status::Internal)
            })?;
        Ok(Tokens {
            access_token: access.into(),
            expires_in: u32::try_from(ttl).unwrap_or(u32::MAX),
            id_token: id_token.into(),
            refresh_token: refresh.into(),
            scope: scope.to_owned(),
        })
    }
}
