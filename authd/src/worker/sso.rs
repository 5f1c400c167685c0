//! "Sign in with …": Throng as a relying party of the providers in
//! `oidc.upstream` ([`crate::oidc::upstream`]). `sso_start` keeps the
//! flow's state, nonce and PKCE verifier in Redis (`sso:` under the hash of
//! the state, 10 minutes, taken once); `sso_finish` verifies what came back
//! and decides:
//!
//! - an identity already linked signs its account in;
//! - a flow started from a session (`/security`, "link") links the
//!   identity to that session's account once its password is given (the
//!   pending link below): a session alone is not enough, or a stolen one
//!   would let its thief add a way in;
//! - an identity whose provider vouches for a verified e-mail that an
//!   account has is linked only once that account's password is proven: a
//!   pending link (`ssol:`, 10 minutes) that the next `sign_in` of that
//!   account completes — a provider's word alone never opens an existing
//!   account, since anyone can open an account at some provider with an
//!   address they do not control if that provider does not verify it;
//! - a password reset unlinks every identity a password linked (the
//!   password may be what was stolen); the one that made the account stays;
//! - otherwise a new account is made (its password is unknown to everyone:
//!   the decoy hash), and the identity is marked as having made it.

use super::Worker;
use crate::oidc::upstream::{Upstream, UpstreamClaims, UpstreamError};
use crate::oidc::{random_token, token_hash};
use crate::ops::Job;
use crate::records::now_ms;
use crate::store::db::{DbError, LoginRecord};
use crate::store::User;
use authd_wire::ops::{
    SsoFinish, SsoFinished, SsoRedirect, SsoStart, SsoUnlink, SSO_LINKED, SSO_PASSWORD_NEEDED,
    SSO_PASSWORD_TO_LINK, SSO_SIGNED_IN,
};
use authd_wire::{Refusal, Request, Secret, Status};
use serde::{Deserialize, Serialize};

/// How long a flow and a pending link wait.
const FLOW_TTL_S: u64 = 600;

/// A flow between `sso_start` and `sso_finish`.
#[derive(Serialize, Deserialize)]
struct Flow {
    provider: String,
    nonce: String,
    verifier: String,
    /// The account to link to (a flow started from a session).
    link_user: Option<u64>,
    next: String,
}

/// An identity waiting for its account's password.
#[derive(Serialize, Deserialize)]
struct PendingLink {
    provider: String,
    subject: String,
    email: Option<String>,
    user_id: u64,
}

fn upstream_refusal(e: &UpstreamError) -> Refusal {
    log::warn!("sign-in with another provider: {e}");
    match e {
        UpstreamError::Unreachable(_) => Refusal::new(Status::Unavailable),
        UpstreamError::Protocol(_) => Refusal::reason(
            Status::InvalidGrant,
            "the provider did not answer as an OpenID provider",
        ),
        UpstreamError::Refused(_) => {
            Refusal::reason(Status::InvalidGrant, "the provider refused the sign-in")
        }
        UpstreamError::BadToken(_) => {
            Refusal::reason(Status::InvalidGrant, "the provider's answer did not verify")
        }
    }
}

/// A username for a new account from what the provider said: its
/// preferred username or the e-mail's local part, kept to the username
/// rules; `user` when nothing usable is left.
fn username_from(claims: &UpstreamClaims) -> String {
    let wanted = claims
        .preferred_username
        .clone()
        .or_else(|| {
            claims
                .email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let kept: String = wanted
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(54)
        .collect();
    if kept.is_empty() {
        "user".into()
    } else {
        kept
    }
}

impl Worker {
    pub(super) fn sso(&mut self, job: Job) {
        match job.op.clone() {
            Request::SsoStart(op) => {
                let answer = self.sso_start(&op);
                job.answer::<SsoStart>(answer)
            }
            Request::SsoFinish(op) => {
                let answer = self.sso_finish(&op);
                job.answer::<SsoFinish>(answer)
            }
            Request::SsoUnlink(SsoUnlink { token, identity }) => {
                let answer = self
                    .session_user(token.as_str())
                    .map_err(Refusal::new)
                    .and_then(
                        |user| match self.shared.db.unlink_identity(user.id, identity) {
                            Ok(Some(true)) => Ok(()),
                            Ok(Some(false)) => Err(Refusal::reason(
                                Status::Forbidden,
                                "this identity made the account, which has no other way in",
                            )),
                            Ok(None) => Err(Refusal::new(Status::NotFound)),
                            Err(e) => Err(super::store_failed("unlinking an identity", e).into()),
                        },
                    );
                job.answer::<SsoUnlink>(answer)
            }
            _ => job.refuse(Status::Internal),
        }
    }

    fn upstream(&self, id: &str) -> Result<&Upstream, Refusal> {
        self.shared
            .upstreams
            .get(id)
            .ok_or_else(|| Refusal::new(Status::NotFound))
    }

    /// Where providers send the browser back.
    fn callback_uri(&self) -> String {
        format!(
            "{}/sso/callback",
            self.shared.cfg.oidc.issuer.trim_end_matches('/')
        )
    }

    fn sso_start(&mut self, op: &SsoStart) -> Result<SsoRedirect, Refusal> {
        let link_user = if op.token.as_str().is_empty() {
            None
        } else {
            Some(
                self.session_user(op.token.as_str())
                    .map_err(Refusal::new)?
                    .id,
            )
        };
        let state = random_token("").map_err(Refusal::new)?;
        let nonce = random_token("").map_err(Refusal::new)?;
        let verifier = random_token("").map_err(Refusal::new)?;
        let challenge = {
            use base64::Engine;
            use sha2::Digest;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()))
        };
        let callback = self.callback_uri();
        let url = self
            .upstream(&op.provider)?
            .authorization_url(&callback, &state, &nonce, &challenge)
            .map_err(|e| upstream_refusal(&e))?;
        let flow = Flow {
            provider: op.provider.clone(),
            nonce,
            verifier,
            link_user,
            next: op.next.clone(),
        };
        let key = self.cache.key("sso", &hex::encode(token_hash(&state)));
        let value = serde_json::to_string(&flow).map_err(|_| Refusal::new(Status::Internal))?;
        self.cache
            .run(|c| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&value)
                    .arg("EX")
                    .arg(FLOW_TTL_S)
                    .query::<()>(c)
            })
            .ok_or_else(|| Refusal::new(Status::Unavailable))?;
        Ok(SsoRedirect {
            url,
            state: state.into(),
        })
    }

    fn sso_finish(&mut self, op: &SsoFinish) -> Result<SsoFinished, Refusal> {
        let key = self
            .cache
            .key("sso", &hex::encode(token_hash(op.state.as_str())));
        let taken: Option<String> = self
            .cache
            .run(|c| redis::cmd("GETDEL").arg(&key).query(c))
            .ok_or_else(|| Refusal::new(Status::Unavailable))?;
        let expired = || Refusal::reason(Status::InvalidRequest, "this sign-in has expired");
        let flow: Flow = taken
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(expired)?;
        if flow.provider != op.provider {
            return Err(expired());
        }
        let callback = self.callback_uri();
        let upstream = self.upstream(&op.provider)?;
        let claims = upstream
            .exchange(op.code.as_str(), &callback, &flow.verifier)
            .and_then(|id_token| upstream.verify(&id_token, &flow.nonce))
            .map_err(|e| upstream_refusal(&e))?;
        // Only an address the provider says it verified counts, in the
        // canonical form accounts keep.
        let email = claims
            .email
            .as_deref()
            .filter(|_| claims.email_verified == Some(true))
            .and_then(|e| crate::validate::email(e).ok());
        let db = &self.shared.db;
        let linked = db
            .linked_identity(&op.provider, &claims.sub)
            .map_err(|e| Refusal::from(super::store_failed("reading an identity", e)))?;
        let done = |outcome, token: String, username: String, warnings| SsoFinished {
            outcome,
            token: Secret(token),
            username,
            next: flow.next.clone(),
            warnings,
        };
        match (linked, flow.link_user) {
            (Some(l), Some(user_id)) if l.user_id == user_id => {
                Ok(done(SSO_LINKED, String::new(), String::new(), 0))
            }
            (Some(_), Some(_)) => Err(Refusal::reason(
                Status::Taken,
                "this identity is linked to another account",
            )),
            (Some(l), None) => {
                let user = match db.user_by_id(l.user_id) {
                    Ok(Some(u)) => u,
                    Ok(None) => return Err(expired()),
                    Err(e) => return Err(super::store_failed("loading a user", e).into()),
                };
                let token = self.open_session(&user, op)?;
                Ok(done(SSO_SIGNED_IN, token, user.username, 0))
            }
            // A session alone never links: its password is asked, as for
            // an e-mail match (a stolen session would otherwise add a way
            // in for its thief that a reset does not close).
            (None, Some(user_id)) => {
                let user = match db.user_by_id(user_id) {
                    Ok(Some(u)) => u,
                    Ok(None) => return Err(expired()),
                    Err(e) => return Err(super::store_failed("loading a user", e).into()),
                };
                let link = random_token("").map_err(Refusal::new)?;
                let pending = PendingLink {
                    provider: op.provider.clone(),
                    subject: claims.sub.clone(),
                    email,
                    user_id,
                };
                self.store_pending_link(&link, &pending)?;
                Ok(done(SSO_PASSWORD_TO_LINK, link, user.username, 0))
            }
            (None, None) => {
                let existing = match &email {
                    Some(e) => db
                        .user_by_email(e)
                        .map_err(|e| Refusal::from(super::store_failed("finding an e-mail", e)))?,
                    None => None,
                };
                if let Some(existing) = existing {
                    let link = random_token("").map_err(Refusal::new)?;
                    let pending = PendingLink {
                        provider: op.provider.clone(),
                        subject: claims.sub.clone(),
                        email,
                        user_id: existing.id,
                    };
                    self.store_pending_link(&link, &pending)?;
                    return Ok(done(SSO_PASSWORD_NEEDED, link, existing.username, 0));
                }
                let user = self.account_for(&op.provider, &claims, email.as_deref())?;
                let token = self.open_session(&user, op)?;
                Ok(done(SSO_SIGNED_IN, token, user.username, 0))
            }
        }
    }

    fn store_pending_link(&mut self, link: &str, pending: &PendingLink) -> Result<(), Refusal> {
        let key = self.cache.key("ssol", &hex::encode(token_hash(link)));
        let value = serde_json::to_string(pending).map_err(|_| Refusal::new(Status::Internal))?;
        self.cache
            .run(|c| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&value)
                    .arg("EX")
                    .arg(FLOW_TTL_S)
                    .query::<()>(c)
            })
            .ok_or_else(|| Refusal::new(Status::Unavailable))
    }

    /// A `sign_in` of `user` with its password carried a pending link:
    /// the identity is linked if the link was made for this account.
    pub(super) fn complete_link(&mut self, link: &str, user: &User) {
        let key = self.cache.key("ssol", &hex::encode(token_hash(link)));
        let taken: Option<String> = self
            .cache
            .run(|c| redis::cmd("GETDEL").arg(&key).query(c))
            .flatten();
        let Some(pending) = taken.and_then(|t| serde_json::from_str::<PendingLink>(&t).ok()) else {
            return;
        };
        if pending.user_id != user.id {
            log::warn!("a pending identity link was presented with another account's sign-in");
            return;
        }
        if let Err(e) = self.shared.db.link_identity(
            user.id,
            &pending.provider,
            &pending.subject,
            pending.email.as_deref(),
            false,
        ) {
            log::error!("linking an identity: {e}");
        }
    }

    /// A new account for an identity no account has: a username from its
    /// claims (made unique with a suffix), its verified e-mail when no
    /// account has it, a password nobody knows.
    fn account_for(
        &mut self,
        provider: &str,
        claims: &UpstreamClaims,
        email: Option<&str>,
    ) -> Result<User, Refusal> {
        let base = username_from(claims);
        let nickname = claims
            .name
            .clone()
            .filter(|n| crate::validate::nickname(n).is_ok())
            .unwrap_or_else(|| base.clone());
        let mut email = email;
        for attempt in 0..6 {
            let username = if attempt == 0 {
                base.clone()
            } else {
                let mut raw = [0u8; 3];
                getrandom::fill(&mut raw).map_err(|_| Refusal::new(Status::Internal))?;
                format!("{base}-{}", hex::encode(raw))
            };
            let uuid = *uuid::Uuid::new_v4().as_bytes();
            let made = self.shared.db.create_user(
                &uuid,
                &username,
                email,
                &self.shared.decoy_hash,
                &nickname,
            );
            match made {
                Ok(id) => {
                    let linked =
                        self.shared
                            .db
                            .link_identity(id, provider, &claims.sub, email, true);
                    let id = match linked {
                        Ok(true) => id,
                        Ok(false) => {
                            self.delete_made_account(id, &username, &uuid);
                            self.linked_first(provider, claims)?
                        }
                        Err(e) => {
                            self.delete_made_account(id, &username, &uuid);
                            return Err(super::store_failed("linking an identity", e).into());
                        }
                    };
                    return match self.shared.db.user_by_id(id) {
                        Ok(Some(user)) => Ok(user),
                        Ok(None) => Err(Refusal::new(Status::Internal)),
                        Err(e) => Err(super::store_failed("loading a new user", e).into()),
                    };
                }
                Err(DbError::Taken) => continue,
                // Taken since we looked: the account goes without it.
                Err(DbError::EmailTaken) => email = None,
                Err(DbError::Mysql(e)) => {
                    return Err(super::store_failed("creating an account", e).into())
                }
            }
        }
        Err(Refusal::reason(
            Status::Taken,
            "no free username was found for this identity",
        ))
    }

    /// Deletes account `id` (`username`, `uuid`), made a moment ago for
    /// an identity it could not be linked to (another first sign-in of the
    /// identity linked first, or the link failed): it has no way in. Also
    /// from the user cache, where a look-up by name meanwhile may have put
    /// it.
    fn delete_made_account(&mut self, id: u64, username: &str, uuid: &[u8; 16]) {
        if let Err(e) = self.shared.db.delete_unlinked_new_user(id) {
            log::error!("deleting an account made for an identity it could not link: {e}");
        }
        self.cache.forget_account(username, uuid, false);
    }

    /// The account another first sign-in of the same identity linked
    /// first: its id.
    fn linked_first(&mut self, provider: &str, claims: &UpstreamClaims) -> Result<u64, Refusal> {
        match self.shared.db.linked_identity(provider, &claims.sub) {
            Ok(Some(l)) => Ok(l.user_id),
            Ok(None) => Err(Refusal::new(Status::Internal)),
            Err(e) => Err(super::store_failed("reading an identity", e).into()),
        }
    }

    /// A session for `user`, signed in through another provider, with its
    /// login record (`ok_sso`).
    fn open_session(&mut self, user: &User, op: &SsoFinish) -> Result<String, Refusal> {
        let lock = self.cache.lock_key(&user.uuid);
        let locked: Option<Option<String>> =
            self.cache.run(|c| redis::cmd("GET").arg(&lock).query(c));
        if user.locked || matches!(locked, Some(Some(_))) {
            return Err(Refusal::new(Status::AccountLocked));
        }
        let made = now_ms();
        let ttl = self.shared.cfg.sessions.ttl.as_secs().max(1);
        let (token, key) = self.new_redis_token().map_err(Refusal::new)?;
        let value = Self::session_value(user, made);
        let stored = self
            .cache
            .run(|c| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&value)
                    .arg("EX")
                    .arg(ttl)
                    .query::<()>(c)
            })
            .is_some();
        let token = if stored {
            token
        } else {
            self.mysql_session(user).map_err(Refusal::new)?
        };
        let place = self.shared.geo.place(&op.ip);
        self.record(LoginRecord {
            user_id: Some(user.id),
            username: user.username.clone(),
            at_ms: made,
            ip: op.ip.clone(),
            agent: op.agent.clone(),
            result: "ok_sso",
            country: place.country,
            city: place.city,
            device: (!op.device.is_empty()).then(|| super::unusual::device_hash(&op.device)),
            referrer: String::new(),
            warnings: 0,
            session: Some(crate::password::token_hash(&token)),
        });
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(preferred: Option<&str>, email: Option<&str>) -> UpstreamClaims {
        UpstreamClaims {
            sub: "s".into(),
            nonce: None,
            email: email.map(Into::into),
            email_verified: Some(true),
            name: None,
            preferred_username: preferred.map(Into::into),
        }
    }

    #[test]
    fn usernames_follow_the_rules_whatever_the_provider_says() {
        assert_eq!(username_from(&claims(Some("ann.lee"), None)), "ann.lee");
        assert_eq!(
            username_from(&claims(None, Some("bob+x@example.com"))),
            "bobx"
        );
        assert_eq!(username_from(&claims(Some("__Zoë 王"), None)), "Zo");
        assert_eq!(username_from(&claims(Some("王"), None)), "user");
        assert_eq!(username_from(&claims(None, None)), "user");
        let long = "a".repeat(100);
        assert_eq!(username_from(&claims(Some(&long), None)).len(), 54);
        assert!(crate::validate::username(&username_from(&claims(Some("-x-"), None))).is_ok());
    }
}
