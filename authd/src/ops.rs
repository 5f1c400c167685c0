//! authd's requests on their way through the daemon: decoded from a frame
//! with `authd-wire`'s types and validated on the reactor (cheap, so a bad
//! request is answered at once and never queued), then carried to a worker
//! as a [`Job`] that is answered exactly once with a typed answer.

use crate::validate;
use authd_wire::ops::{ChangeAvatar, ChangeNickname, OidcIntrospect, OidcRevoke};
use authd_wire::{encode_body, Operation, Request, RequestError, Status};
use std::fmt;
use throng_core::handoff::ReplySender;
use throng_core::proto::DecodeError;
use throng_core::proto::Header;
use throng_core::reactor::ConnId;

pub use authd_wire::{Refusal, Secret};

fn check(result: Result<(), Status>) -> Result<(), Refusal> {
    result.map_err(Refusal::new)
}

/// Credentials that no account can have (a name outside the username
/// rules, a password of the wrong length) are `bad_credentials` at once:
/// the same answer as a wrong password, without touching a store.
fn plausible_credentials(username: &str, password: &Secret) -> Result<(), Refusal> {
    if validate::username(username).is_err() || validate::password(password.as_str()).is_err() {
        return Err(Refusal::new(Status::BadCredentials));
    }
    Ok(())
}

/// Decodes and validates a request frame's body: the request, or the
/// refusal to answer at once (`unknown_opcode`, `malformed` with the
/// reason, or the status of the first invalid field). The fields read are
/// judged before bytes left after them are refused, as a field reader
/// taking them in order would.
pub fn decode(opcode: u8, raw: &[u8]) -> Result<Request, Refusal> {
    let malformed = |e: DecodeError| Refusal::reason(Status::Malformed, e.to_string());
    let (request, left) = Request::decode_prefix(opcode, raw).map_err(|e| match e {
        RequestError::UnknownOpcode(_) => Refusal::new(Status::UnknownOpcode),
        RequestError::Malformed(e) => malformed(e),
    })?;
    let request = validate_request(request)?;
    match left {
        0 => Ok(request),
        n => Err(malformed(DecodeError::TrailingBytes(n))),
    }
}

/// authd owns these fields, so authd decides what a valid one is. E-mail
/// addresses leave in their canonical form ([`validate::email`]); client
/// addresses and user agents are clipped, never refused.
fn validate_request(mut request: Request) -> Result<Request, Refusal> {
    let ip = |ip: &mut String| *ip = validate::clip(ip, 45);
    match &mut request {
        Request::SignUp(op) => {
            check(validate::username(&op.username))?;
            check(validate::nickname(&op.nickname))?;
            check(validate::password(op.password.as_str()))?;
            ip(&mut op.ip);
        }
        Request::SignIn(op) => {
            plausible_credentials(&op.username, &op.password)?;
            ip(&mut op.ip);
            op.agent = validate::clip(&op.agent, 512);
            op.device = validate::clip(&op.device, 64);
            op.referrer = validate::clip(&op.referrer, 512);
        }
        Request::ChangeNickname(ChangeNickname { nickname, .. }) => {
            check(validate::nickname(nickname))?
        }
        Request::ChangeAvatar(ChangeAvatar { photo, .. }) => check(validate::photo_id(photo))?,
        Request::RequestCode(op) => {
            op.email = validate::email(&op.email).map_err(Refusal::new)?;
            ip(&mut op.ip);
        }
        Request::Register(op) => {
            check(validate::username(&op.username))?;
            check(validate::password(op.password.as_str()))?;
            op.email = validate::email(&op.email).map_err(Refusal::new)?;
            ip(&mut op.ip);
        }
        Request::CheckAccount(op) => {
            check(validate::username(&op.username))?;
            op.email = validate::email(&op.email).map_err(Refusal::new)?;
            ip(&mut op.ip);
        }
        Request::ResetPassword(op) => {
            op.email = validate::email(&op.email).map_err(Refusal::new)?;
            check(validate::password(op.password.as_str()))?;
            ip(&mut op.ip);
        }
        Request::TryLogin(op) => {
            plausible_credentials(&op.username, &op.password)?;
            ip(&mut op.ip);
        }
        Request::ValidateSession(_) | Request::Logout(_) | Request::Lookup(_) => {}
        Request::Whoami(_) | Request::LogoutEverywhere(_) => {}
        Request::SecurityOverview(_) | Request::EndSession(_) => {}
        Request::AdminFindUsers(op) => {
            ip(&mut op.actor.ip);
            let n = op.query.trim().chars().count();
            if !(2..=254).contains(&n) {
                return Err(Refusal::new(Status::InvalidQuery));
            }
        }
        Request::AdminInsight(op) => {
            ip(&mut op.actor.ip);
            op.hours = op.hours.clamp(1, 168);
        }
        Request::AdminSetRole(op) => {
            ip(&mut op.actor.ip);
            if validate::username(&op.role).is_err() {
                return Err(Refusal::new(Status::UnknownRole));
            }
        }
        Request::AdminOverview(op) => ip(&mut op.actor.ip),
        Request::AdminUser(op) => ip(&mut op.actor.ip),
        Request::AdminLock(op) => ip(&mut op.actor.ip),
        Request::AdminEndSessions(op) => ip(&mut op.actor.ip),
        Request::AdminAudit(op) => ip(&mut op.actor.ip),
        Request::OidcMetadata(_) => {}
        // Refused as `malformed`, never `invalid_request`: webd sends an
        // `invalid_request` back to the redirect URI, which nobody has
        // matched against the client yet at this point.
        Request::OidcAuthorize(op) => [
            ("client_id", op.client_id.as_str(), 64),
            ("redirect_uri", op.redirect_uri.as_str(), 512),
            ("scope", op.scope.as_str(), 255),
            ("nonce", op.nonce.as_str(), 255),
            ("code_challenge", op.code_challenge.as_str(), 128),
            (
                "code_challenge_method",
                op.code_challenge_method.as_str(),
                16,
            ),
        ]
        .into_iter()
        .try_for_each(|(name, value, max)| oauth_field(name, value, max))
        .map_err(|r| {
            Refusal::reason(Status::Malformed, r.reason_text().unwrap_or("").to_owned())
        })?,
        Request::OidcToken(op) => {
            oauth_field("client_id", &op.client_id, 64)?;
            oauth_field("client_secret", op.client_secret.as_str(), 128)?;
            oauth_field("grant_type", &op.grant_type, 64)?;
            oauth_field("code", op.code.as_str(), 128)?;
            oauth_field("redirect_uri", &op.redirect_uri, 512)?;
            oauth_field("code_verifier", op.code_verifier.as_str(), 128)?;
            oauth_field("refresh_token", op.refresh_token.as_str(), 128)?;
            oauth_field("scope", &op.scope, 255)?;
        }
        Request::OidcUserinfo(op) => oauth_field("access_token", op.access_token.as_str(), 128)?,
        Request::OidcIntrospect(OidcIntrospect {
            client_id,
            client_secret,
            token,
        })
        | Request::OidcRevoke(OidcRevoke {
            client_id,
            client_secret,
            token,
        }) => {
            oauth_field("client_id", client_id, 64)?;
            oauth_field("client_secret", client_secret.as_str(), 128)?;
            oauth_field("token", token.as_str(), 128)?;
        }
        Request::SsoStart(op) => {
            oauth_field("provider", &op.provider, 64)?;
            op.next = validate::clip(&op.next, 4096);
        }
        Request::SsoFinish(op) => {
            oauth_field("provider", &op.provider, 64)?;
            oauth_field("state", op.state.as_str(), 128)?;
            oauth_field("code", op.code.as_str(), 2048)?;
            ip(&mut op.ip);
            op.agent = validate::clip(&op.agent, 512);
            op.device = validate::clip(&op.device, 64);
        }
        Request::SsoUnlink(_) => {}
        Request::OidcLogout(op) => {
            oauth_field("id_token_hint", op.id_token_hint.as_str(), 8192)?;
            oauth_field("client_id", &op.client_id, 64)?;
            oauth_field(
                "post_logout_redirect_uri",
                &op.post_logout_redirect_uri,
                512,
            )?;
        }
    }
    Ok(request)
}

/// An OAuth parameter longer than any valid one, or with control
/// characters, is `invalid_request` naming it (never echoing it: it may be
/// a secret).
fn oauth_field(name: &str, value: &str, max: usize) -> Result<(), Refusal> {
    if value.len() > max || value.chars().any(char::is_control) {
        return Err(Refusal::reason(
            Status::InvalidRequest,
            format!("{name} is malformed"),
        ));
    }
    Ok(())
}

/// A worker's answer, sent back to the reactor that owns the connection.
#[derive(Debug)]
pub struct Reply {
    pub conn: ConnId,
    pub header: Header,
    pub status: Status,
    pub body: Vec<u8>,
    /// When the reactor took the request: its latency ends at the answer.
    pub received: std::time::Instant,
}

/// One request on its way through the workers.
///
/// A job is answered exactly once: [`Job::ok`] or [`Job::refuse`] sends
/// the answer, and a job dropped without one — because the code handling
/// it panicked and unwound, or forgot it — answers `internal` from its
/// `Drop`, so its caller learns at once instead of waiting for a deadline.
pub struct Job {
    pub conn: ConnId,
    pub header: Header,
    pub op: Request,
    pub reply: ReplySender<Reply>,
    received: std::time::Instant,
    answered: bool,
}

impl Job {
    pub fn new(conn: ConnId, header: Header, op: Request, reply: ReplySender<Reply>) -> Self {
        Job {
            conn,
            header,
            op,
            reply,
            received: std::time::Instant::now(),
            answered: false,
        }
    }

    /// Answers `ok` with operation `O`'s answer. `O` must be the job's
    /// operation; a mismatch is a bug caught in debug builds.
    pub fn ok<O: Operation>(mut self, answer: &O::Answer) {
        debug_assert_eq!(
            self.header.opcode,
            u8::from(O::OPCODE),
            "a {} job answered as {}",
            self.op.opcode(),
            O::OPCODE
        );
        self.send(Status::Ok, encode_body(answer));
    }

    /// Answers with a refusal (a status, with its detail if any).
    pub fn refuse(mut self, refusal: impl Into<Refusal>) {
        let refusal = refusal.into();
        self.send(refusal.status, encode_body(&refusal.detail));
    }

    /// Answers with `O`'s answer or a refusal.
    pub fn answer<O: Operation>(self, result: Result<O::Answer, Refusal>) {
        match result {
            Ok(answer) => self.ok::<O>(&answer),
            Err(refusal) => self.refuse(refusal),
        }
    }

    /// Gives the job up without an answer from here: for a caller that
    /// answers the request itself (a full queue answered `busy`).
    pub fn abandon(mut self) {
        self.answered = true;
    }

    fn send(&mut self, status: Status, body: Vec<u8>) {
        self.answered = true;
        let _ = self.reply.send(Reply {
            conn: self.conn,
            header: self.header,
            status,
            body,
            received: self.received,
        });
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if !self.answered {
            self.send(Status::Internal, Vec::new());
        }
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("op", &self.op)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authd_wire::ops::{SignIn, SignUp};
    use authd_wire::Opcode;

    #[test]
    fn secrets_never_print() {
        let op = Request::SignIn(SignIn {
            username: "alice".into(),
            password: Secret("hunter22hunter22".into()),
            ip: "127.0.0.1".into(),
            agent: "t".into(),
            device: String::new(),
            referrer: String::new(),
            link: Default::default(),
        });
        let text = format!("{op:?}");
        assert!(
            !text.contains("hunter22") && text.contains("[redacted]"),
            "{text}"
        );
    }

    #[test]
    fn bad_fields_are_refused_with_their_status() {
        let sign_up = |username: &str| SignUp {
            username: username.into(),
            nickname: "nick".into(),
            password: "password1".into(),
            ip: String::new(),
        };
        let raw = encode_body(&sign_up("bad name"));
        let err = decode(Opcode::SignUp.into(), &raw).unwrap_err();
        assert_eq!(err.status, Status::InvalidUsername);
        let mut raw = encode_body(&sign_up("alice"));
        throng_core::proto::FieldWriter::new(&mut raw).str("extra");
        assert_eq!(
            decode(Opcode::SignUp.into(), &raw).unwrap_err().status,
            Status::Malformed
        );
        // The fields read are judged first, then what follows them.
        let mut raw = encode_body(&sign_up("bad name"));
        throng_core::proto::FieldWriter::new(&mut raw).str("extra");
        assert_eq!(
            decode(Opcode::SignUp.into(), &raw).unwrap_err().status,
            Status::InvalidUsername
        );
        assert_eq!(
            decode(throng_core::proto::Opcode::Ping.into(), &[])
                .unwrap_err()
                .status,
            Status::UnknownOpcode
        );
    }
}
