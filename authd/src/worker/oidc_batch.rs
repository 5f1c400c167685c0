//! The provider's hot operations, a batch at a time, as sign-ins and
//! session checks are ([`super`]): every authorization step, userinfo,
//! introspection of an access token and code exchange queued together
//! shares its round trips — one Redis pipeline for all their keys, one
//! `MGET` for all their users, one MariaDB query for all their consents,
//! and one transaction (one commit, one fsync) for all the grants the
//! exchanges make. Measured in bench/RESULTS.md ("OpenID provider"): one
//! job at a time, each paid its own round trips and its own commit.

use super::oidc::{refuse, ACCESS_PREFIX, REFRESH_PREFIX};
use super::users::By;
use super::Worker;
use crate::oidc::grants::{AccessGrant, CodeGrant};
use crate::oidc::{pkce, random_token, scope, token_hash, Provider};
use crate::ops::Job;
use crate::records::now_ms;
use crate::store::oidc::{Client, Grant, GrantsOf};
use crate::store::User;
use authd_wire::ops::{
    Authorization, Introspection, OidcAuthorize, OidcIntrospect, OidcToken, OidcUserinfo,
    UserClaims, PROMPT_CONSENT, PROMPT_NONE,
};
use authd_wire::{Refusal, Request, Status};
use std::sync::Arc;

/// An authorization request past its checks that need no session.
struct Asked {
    job: Job,
    op: OidcAuthorize,
    client: Client,
    granted: String,
}

/// A code made for an authorization request, to store.
struct Coded {
    job: Job,
    key: String,
    record: String,
    code: String,
}

/// A read of an access token: userinfo, or introspection by `client`.
struct Read {
    job: Job,
    token: String,
    introspector: Option<Client>,
}

/// A code exchange, and what it found.
struct Exchange {
    job: Job,
    client: Client,
    code: String,
    grant: Option<CodeGrant>,
}

impl Worker {
    /// Every provider job of a batch that has a batched path.
    pub(super) fn oidc_batch(&mut self, jobs: Vec<Job>) {
        let provider = match self.provider() {
            Ok(p) => p,
            Err(refusal) => {
                for job in jobs {
                    job.refuse(refusal.clone());
                }
                return;
            }
        };
        let (mut asks, mut reads, mut exchanges) = (Vec::new(), Vec::new(), Vec::new());
        for job in jobs {
            match &job.op {
                Request::OidcAuthorize(_) => asks.push(job),
                Request::OidcUserinfo(_) | Request::OidcIntrospect(_) => reads.push(job),
                _ => exchanges.push(job),
            }
        }
        if !asks.is_empty() {
            self.authorize_batch(&provider, asks);
        }
        if !reads.is_empty() {
            self.access_batch(reads);
        }
        if !exchanges.is_empty() {
            self.exchange_batch(&provider, exchanges);
        }
    }

    /// The checks of an authorization request that need no session: the
    /// client, its exact redirect URI, the scope, PKCE.
    fn authorize_check(&mut self, op: &OidcAuthorize) -> Result<(Client, String), Refusal> {
        let client = self.client(&op.client_id)?;
        // Exact match, character for character (no prefix, no
        // normalisation): the only defence of the code in the redirect.
        if !client.redirect_uris.contains(&op.redirect_uri) {
            return Err(refuse(
                Status::InvalidRedirectUri,
                "redirect_uri is not registered for this client",
            ));
        }
        let granted = scope::granted(&op.scope)
            .ok_or_else(|| refuse(Status::InvalidScope, "the scope must include openid"))?;
        if !op.code_challenge.is_empty() || client.is_public() {
            if op.code_challenge.is_empty() {
                return Err(refuse(
                    Status::InvalidRequest,
                    "a public client must send a PKCE code_challenge",
                ));
            }
            if op.code_challenge_method != "S256" {
                return Err(refuse(
                    Status::InvalidRequest,
                    "code_challenge_method must be S256",
                ));
            }
            if !pkce::valid_challenge(&op.code_challenge) {
                return Err(refuse(
                    Status::InvalidRequest,
                    "code_challenge is malformed",
                ));
            }
        }
        if op.token.as_str().is_empty() {
            return Err(Refusal::new(Status::NoSession));
        }
        Ok((client, granted))
    }

    fn authorize_batch(&mut self, provider: &Provider, jobs: Vec<Job>) {
        let mut asked = Vec::with_capacity(jobs.len());
        for job in jobs {
            let Request::OidcAuthorize(op) = job.op.clone() else {
                job.refuse(Status::Internal);
                continue;
            };
            match self.authorize_check(&op) {
                Ok((client, granted)) => asked.push(Asked {
                    job,
                    op,
                    client,
                    granted,
                }),
                Err(refusal) => job.refuse(refusal),
            }
        }
        if asked.is_empty() {
            return;
        }
        let tokens: Vec<&str> = asked.iter().map(|a| a.op.token.as_str()).collect();
        let sessions = self.session_users_made(&tokens);
        let mut signed_in = Vec::with_capacity(asked.len());
        for (a, session) in asked.into_iter().zip(sessions) {
            match session {
                Ok((user, made)) => signed_in.push((a, user, made)),
                Err(status) => a.job.refuse(status),
            }
        }
        if signed_in.is_empty() {
            return;
        }
        let pairs: Vec<(u64, &str)> = signed_in
            .iter()
            .map(|(a, user, _)| (user.id, a.client.client_id.as_str()))
            .collect();
        let consents = match self.shared.db.consents(&pairs) {
            Ok(c) => c,
            Err(e) => {
                let status = super::store_failed("reading consents", e);
                for (a, _, _) in signed_in {
                    a.job.refuse(status);
                }
                return;
            }
        };
        let mut coded: Vec<Coded> = Vec::new();
        for ((a, user, made), remembered) in signed_in.into_iter().zip(consents) {
            if let Some(code) = self.consented(provider, a, &user, made, remembered) {
                coded.push(code);
            }
        }
        if coded.is_empty() {
            return;
        }
        let ttl = provider.cfg.code_ttl.as_secs().max(1);
        let stored = self
            .cache
            .run(|c| {
                let mut p = redis::pipe();
                for c in &coded {
                    p.cmd("SET")
                        .arg(&c.key)
                        .arg(&c.record)
                        .arg("EX")
                        .arg(ttl)
                        .ignore();
                }
                p.query::<()>(c)
            })
            .is_some();
        for c in coded {
            if stored {
                c.job
                    .ok::<OidcAuthorize>(&Authorization::Code(c.code.into()));
            } else {
                c.job.refuse(Status::Unavailable);
            }
        }
    }

    /// The consent step of one signed-in request: answers it (the consent
    /// page, a refusal) and gives `None`, or gives its code to store.
    fn consented(
        &mut self,
        provider: &Provider,
        a: Asked,
        user: &User,
        made: Option<u64>,
        remembered: Option<String>,
    ) -> Option<Coded> {
        let Asked {
            job,
            op,
            client,
            granted,
        } = a;
        let covered = remembered
            .as_deref()
            .is_some_and(|s| scope::within(&granted, s));
        if !covered || op.prompt & PROMPT_CONSENT != 0 {
            if !op.approved {
                if op.prompt & PROMPT_NONE != 0 {
                    let why = "the user has not consented to this client";
                    job.refuse(refuse(Status::ConsentRequired, why));
                    return None;
                }
                job.ok::<OidcAuthorize>(&Authorization::Consent {
                    client_name: client.name,
                    scope: granted,
                });
                return None;
            }
            let kept = match remembered {
                Some(old) => scope::granted(&format!("{old} {granted}")).unwrap_or(granted.clone()),
                None => granted.clone(),
            };
            if let Err(e) = self
                .shared
                .db
                .remember_consent(user.id, &client.client_id, &kept)
            {
                job.refuse(super::store_failed("storing a consent", e));
                return None;
            }
        }
        let code = match random_token("") {
            Ok(c) => c,
            Err(status) => {
                job.refuse(status);
                return None;
            }
        };
        let grant = CodeGrant {
            user_id: user.id,
            uuid: user.uuid_hex(),
            client_id: client.client_id,
            redirect_uri: op.redirect_uri.clone(),
            scope: granted,
            nonce: op.nonce.clone(),
            challenge: op.code_challenge.clone(),
            sid: provider.sid(&crate::password::token_hash(op.token.as_str())),
            auth_time: made.unwrap_or_else(now_ms) / 1000,
        };
        match serde_json::to_string(&grant) {
            Ok(record) => Some(Coded {
                job,
                key: self.code_key(&code),
                record,
                code,
            }),
            Err(_) => {
                job.refuse(Status::Internal);
                None
            }
        }
    }

    /// Userinfo and introspection of access tokens: one pipeline for all
    /// their tokens, one `MGET` for all their users.
    fn access_batch(&mut self, jobs: Vec<Job>) {
        let mut reads = Vec::with_capacity(jobs.len());
        for job in jobs {
            match job.op.clone() {
                Request::OidcUserinfo(OidcUserinfo { access_token }) => reads.push(Read {
                    job,
                    token: access_token.as_str().to_owned(),
                    introspector: None,
                }),
                Request::OidcIntrospect(op) => match self.introspector(&op) {
                    Ok(client) if op.token.as_str().starts_with(REFRESH_PREFIX) => {
                        let answer = self.introspect_refresh(&client, op.token.as_str());
                        job.answer::<OidcIntrospect>(answer);
                    }
                    Ok(client) => reads.push(Read {
                        job,
                        token: op.token.as_str().to_owned(),
                        introspector: Some(client),
                    }),
                    Err(refusal) => job.refuse(refusal),
                },
                _ => job.refuse(Status::Internal),
            }
        }
        if reads.is_empty() {
            return;
        }
        let keys: Vec<Option<String>> = reads
            .iter()
            .map(|r| {
                r.token
                    .starts_with(ACCESS_PREFIX)
                    .then(|| self.access_key(&r.token))
            })
            .collect();
        let wanted: Vec<&String> = keys.iter().flatten().collect();
        let values: Option<Vec<Option<String>>> = if wanted.is_empty() {
            Some(Vec::new())
        } else {
            self.cache.run(|c| redis::cmd("MGET").arg(&wanted).query(c))
        };
        let Some(values) = values.filter(|v| v.len() == wanted.len()) else {
            for r in reads {
                r.job.refuse(Status::Unavailable);
            }
            return;
        };
        let mut values = values.into_iter();
        let now_s = now_ms() / 1000;
        let grants: Vec<Option<AccessGrant>> = keys
            .iter()
            .map(|k| {
                k.as_ref()?;
                values
                    .next()
                    .flatten()
                    .and_then(|v| serde_json::from_str::<AccessGrant>(&v).ok())
                    .filter(|g| g.exp > now_s)
            })
            .collect();
        // An introspector sees only its own clients' tokens.
        let grants: Vec<Option<AccessGrant>> = reads
            .iter()
            .zip(grants)
            .map(|(r, g)| match (&r.introspector, g) {
                (Some(c), Some(g)) if g.client_id != c.client_id => None,
                (_, g) => g,
            })
            .collect();
        let uuids: Vec<Option<[u8; 16]>> = grants
            .iter()
            .map(|g| {
                let mut uuid = [0u8; 16];
                hex::decode_to_slice(&g.as_ref()?.uuid, &mut uuid).ok()?;
                Some(uuid)
            })
            .collect();
        let by: Vec<By<'_>> = uuids.iter().flatten().map(By::Uuid).collect();
        let mut users = self.users(&by).into_iter();
        let found: Vec<Result<Option<User>, ()>> = uuids
            .iter()
            .map(|u| match u {
                Some(_) => users.next().unwrap_or(Err(())),
                None => Ok(None),
            })
            .collect();
        for ((r, grant), user) in reads.into_iter().zip(grants).zip(found) {
            let user = match user {
                Err(()) => {
                    r.job.refuse(Status::Unavailable);
                    continue;
                }
                Ok(u) => u.filter(|u| !u.locked),
            };
            match (r.introspector, grant, user) {
                (None, Some(grant), Some(user)) => {
                    let answer = self.claims(grant, user);
                    r.job.answer::<OidcUserinfo>(answer)
                }
                (None, _, _) => r.job.refuse(refuse(
                    Status::InvalidToken,
                    "the access token is not valid",
                )),
                (Some(client), Some(grant), Some(user)) => {
                    r.job.ok::<OidcIntrospect>(&Introspection {
                        active: true,
                        scope: grant.scope,
                        client_id: client.client_id,
                        sub: uuid::Uuid::from_bytes(user.uuid).to_string(),
                        username: user.username,
                        token_type: "access_token".into(),
                        iat: grant.iat,
                        exp: grant.exp,
                    })
                }
                (Some(_), _, _) => r.job.ok::<OidcIntrospect>(&Introspection::default()),
            }
        }
    }

    /// The userinfo claims of `grant`'s user (the e-mail, which the cache
    /// does not keep, read from MariaDB when the scope asks for it).
    fn claims(&mut self, grant: AccessGrant, user: User) -> Result<UserClaims, Refusal> {
        let email = if scope::has(&grant.scope, "email") && user.has_email {
            self.shared
                .db
                .user_by_id(user.id)
                .map_err(|e| Refusal::from(super::store_failed("loading an e-mail", e)))?
                .and_then(|u| u.email)
        } else {
            None
        };
        Ok(UserClaims {
            sub: uuid::Uuid::from_bytes(user.uuid).to_string(),
            scope: grant.scope,
            username: user.username,
            nickname: user.nickname,
            updated_at: 0,
            email,
            avatar: user.avatar,
        })
    }

    /// The client asking for an introspection, authenticated; a public
    /// client proves nothing about who calls (RFC 7662 2.1).
    fn introspector(&mut self, op: &OidcIntrospect) -> Result<Client, Refusal> {
        let provider = self.provider()?;
        let client =
            self.authenticated_client(&provider, &op.client_id, op.client_secret.as_str())?;
        if client.is_public() {
            return Err(refuse(
                Status::InvalidClient,
                "introspection needs a confidential client",
            ));
        }
        Ok(client)
    }

    /// Code exchanges: one pipeline takes every code, one `MGET` reads
    /// every user, one transaction stores every grant with its first
    /// refresh token, one pipeline stores every access token.
    fn exchange_batch(&mut self, provider: &Arc<Provider>, jobs: Vec<Job>) {
        let mut exchanges = Vec::with_capacity(jobs.len());
        for job in jobs {
            let Request::OidcToken(op) = job.op.clone() else {
                job.refuse(Status::Internal);
                continue;
            };
            match self.authenticated_client(provider, &op.client_id, op.client_secret.as_str()) {
                Ok(_) if op.code.as_str().is_empty() => {
                    job.refuse(refuse(Status::InvalidRequest, "code is missing"))
                }
                Ok(client) => exchanges.push(Exchange {
                    job,
                    client,
                    code: op.code.as_str().to_owned(),
                    grant: None,
                }),
                Err(refusal) => job.refuse(refusal),
            }
        }
        if exchanges.is_empty() {
            return;
        }
        let keys: Vec<(String, String)> = exchanges
            .iter()
            .map(|e| (self.code_key(&e.code), self.used_code_key(&e.code)))
            .collect();
        let taken: Option<Vec<(Option<String>, Option<u64>)>> = self.cache.run(|c| {
            let mut p = redis::pipe();
            for (key, used) in &keys {
                p.cmd("GETDEL").arg(key).cmd("GET").arg(used);
            }
            let flat: Vec<redis::Value> = p.query(c)?;
            Ok(flat
                .chunks(2)
                .map(|pair| {
                    let taken = redis::from_redis_value(pair[0].clone()).ok().flatten();
                    let used = redis::from_redis_value(pair[1].clone()).ok().flatten();
                    (taken, used)
                })
                .collect())
        });
        let Some(taken) = taken.filter(|t| t.len() == exchanges.len()) else {
            for e in exchanges {
                e.job.refuse(Status::Unavailable);
            }
            return;
        };
        let mut live = Vec::with_capacity(exchanges.len());
        for (mut e, (value, used)) in exchanges.into_iter().zip(taken) {
            match self.check_exchanged_code(&mut e, value, used) {
                Ok(()) => live.push(e),
                Err(refusal) => e.job.refuse(refusal),
            }
        }
        if live.is_empty() {
            return;
        }
        let uuids: Vec<[u8; 16]> = live
            .iter()
            .map(|e| {
                let mut uuid = [0u8; 16];
                let hex_uuid = e.grant.as_ref().map_or("", |g| g.uuid.as_str());
                let _ = hex::decode_to_slice(hex_uuid, &mut uuid);
                uuid
            })
            .collect();
        let by: Vec<By<'_>> = uuids.iter().map(By::Uuid).collect();
        let users = self.users(&by);
        let mut ready = Vec::with_capacity(live.len());
        for (e, user) in live.into_iter().zip(users) {
            match user {
                Ok(Some(user)) if !user.locked => ready.push((e, user)),
                Ok(_) => e
                    .job
                    .refuse(refuse(Status::InvalidGrant, "the account cannot sign in")),
                Err(()) => e.job.refuse(Status::Unavailable),
            }
        }
        if ready.is_empty() {
            return;
        }
        // Each grant's id is drawn here, so one multi-row INSERT can make
        // them all (AUTO_INCREMENT ids of a multi-row insert need not be
        // consecutive on Galera).
        let mut made = Vec::with_capacity(ready.len());
        for (e, user) in ready {
            let (Ok(refresh), Ok(id)) = (random_token(REFRESH_PREFIX), grant_id()) else {
                e.job.refuse(Status::Internal);
                continue;
            };
            let code = e.grant.as_ref().expect("checked");
            let grant = Grant {
                id,
                user_id: code.user_id,
                client_id: e.client.client_id.clone(),
                scope: code.scope.clone(),
                sid: code.sid.clone(),
                auth_time: code.auth_time,
                revoked: false,
            };
            made.push((e, user, grant, refresh));
        }
        let rows: Vec<(&Grant, [u8; 32])> = made
            .iter()
            .map(|(_, _, g, refresh)| (g, token_hash(refresh)))
            .collect();
        if let Err(e) = self
            .shared
            .db
            .create_grants(&rows, provider.cfg.refresh_token_ttl.as_secs())
        {
            let status = super::store_failed("storing grants", e);
            for (e, ..) in made {
                e.job.refuse(status);
            }
            return;
        }
        let used: Vec<(String, u64)> = made
            .iter()
            .map(|(e, _, g, _)| (self.used_code_key(&e.code), g.id))
            .collect();
        let issued: Vec<_> = made
            .into_iter()
            .map(|(e, user, grant, refresh)| {
                let code = e.grant.expect("checked");
                let nonce = Some(code.nonce).filter(|n| !n.is_empty());
                (e.job, e.client, user, grant, code.scope, nonce, refresh)
            })
            .collect();
        self.issue_all(provider, issued, &used);
    }

    /// The code `value` taken for `e` (and whether it was used before),
    /// checked against the exchange: client, redirect URI, PKCE. A code
    /// used before ends the grant it made.
    fn check_exchanged_code(
        &mut self,
        e: &mut Exchange,
        value: Option<String>,
        used: Option<u64>,
    ) -> Result<(), Refusal> {
        let Some(value) = value else {
            if let Some(grant_id) = used {
                log::warn!(
                    "a code of client {} was presented again: its grant ends",
                    e.client.client_id
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
            serde_json::from_str(&value).map_err(|_| Refusal::new(Status::Internal))?;
        let Request::OidcToken(op) = &e.job.op else {
            return Err(Refusal::new(Status::Internal));
        };
        check_exchange(&grant, &e.client, op)?;
        e.grant = Some(grant);
        Ok(())
    }
}

/// What a code exchange must match of the authorization request.
fn check_exchange(grant: &CodeGrant, client: &Client, op: &OidcToken) -> Result<(), Refusal> {
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
        (true, true) => Ok(()),
        // A verifier for a request that sent no challenge is a downgrade
        // attempt.
        (true, false) => Err(refuse(
            Status::InvalidGrant,
            "code_verifier given, but the authorization request had no code_challenge",
        )),
        (false, _) if !pkce::verifies(verifier, &grant.challenge) => Err(refuse(
            Status::InvalidGrant,
            "code_verifier does not match the code_challenge",
        )),
        (false, _) => Ok(()),
    }
}

/// A grant id: 63 random bits.
fn grant_id() -> Result<u64, Status> {
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|_| Status::Internal)?;
    Ok(u64::from_le_bytes(raw) >> 1)
}
