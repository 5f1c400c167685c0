//! The provider's hot operations, a batch at a time, as sign-ins and
//! session checks are ([`super`]): every authorization step, userinfo,
//! introspection of an access token and code exchange queued together
//! shares its round trips — one Redis pipeline for all their keys, one
//! `MGET` for all their users, one MariaDB query for all their consents,
//! and one transaction (one commit, one fsync) for all the grants the
//! exchanges make (code exchanges: [`super::oidc_exchange`]). Measured in bench/RESULTS.md ("OpenID provider"): one
//! job at a time, each paid its own round trips and its own commit.

use super::oidc::{refuse, ACCESS_PREFIX, REFRESH_PREFIX};
use super::users::By;
use super::Worker;
use crate::oidc::grants::{AccessGrant, CodeGrant};
use crate::oidc::{pkce, random_token, scope, token_hash, Provider};
use crate::ops::Job;
use crate::records::now_ms;
use crate::store::oidc::Client;
use crate::store::User;
use authd_wire::ops::{
    Authorization, Introspection, OidcAuthorize, OidcIntrospect, OidcUserinfo, UserClaims,
    PROMPT_CONSENT, PROMPT_NONE,
};
use authd_wire::{Refusal, Request, Status};

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
        let session = token_hash(op.token.as_str());
        let grant = CodeGrant {
            user_id: user.id,
            uuid: user.uuid_hex(),
            client_id: client.client_id,
            redirect_uri: op.redirect_uri.clone(),
            scope: granted,
            nonce: op.nonce.clone(),
            challenge: op.code_challenge.clone(),
            sid: provider.sid(&session),
            auth_time: made.unwrap_or_else(now_ms) / 1000,
            session: hex::encode(session),
            session_in_redis: made.is_some(),
            session_made: made.unwrap_or(0),
            pw_fingerprint: user.pw_fingerprint.clone(),
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
}
