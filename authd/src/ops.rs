//! The operations of authd as typed values: decoded from a request frame
//! and validated on the reactor (cheap, so a bad request is answered at
//! once and never queued), then carried to a worker as a [`Job`].

use crate::validate;
use std::fmt;
use throng_core::handoff::ReplySender;
use throng_core::proto::{DecodeError, FieldReader, FieldWriter, Header, Opcode, Status};
use throng_core::reactor::ConnId;

/// A password, code or token: never printed, whatever derives `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Secret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    SignUp {
        username: String,
        nickname: String,
        password: Secret,
    },
    SignIn {
        username: String,
        password: Secret,
        ip: String,
        agent: String,
    },
    ValidateSession {
        token: Secret,
    },
    Logout {
        token: Secret,
    },
    Lookup {
        uuid: [u8; 16],
    },
    ChangeNickname {
        token: Secret,
        nickname: String,
    },
    ChangeAvatar {
        token: Secret,
        photo: String,
    },
    RequestCode {
        email: String,
    },
    Register {
        username: String,
        password: Secret,
        email: String,
        code: Secret,
    },
    CheckAccount {
        username: String,
        email: String,
    },
    ResetPassword {
        email: String,
        code: Secret,
        password: Secret,
    },
    TryLogin {
        username: String,
        password: Secret,
    },
}

/// An immediate error answer: a status and its encoded body.
pub type Refusal = (Status, Vec<u8>);

/// Encodes a body with a field writer.
pub fn body(write: impl FnOnce(&mut FieldWriter<'_>)) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut FieldWriter::new(&mut out));
    out
}

fn malformed(e: DecodeError) -> Refusal {
    (
        Status::Malformed,
        body(|w| {
            w.str(&e.to_string());
        }),
    )
}

fn check(result: Result<(), Status>) -> Result<(), Refusal> {
    result.map_err(|status| (status, Vec::new()))
}

/// Credentials that no account can have (a name outside the username
/// rules, a password of the wrong length) are `bad_credentials` at once:
/// the same answer as a wrong password, without touching a store.
fn plausible_credentials(username: &str, password: &Secret) -> Result<(), Refusal> {
    if validate::username(username).is_err() || validate::password(password.as_str()).is_err() {
        return Err((Status::BadCredentials, Vec::new()));
    }
    Ok(())
}

/// Decodes and validates the body of an authd opcode. `None` for opcodes
/// authd does not serve.
pub fn decode(opcode: Opcode, raw: &[u8]) -> Option<Result<Op, Refusal>> {
    let mut r = FieldReader::new(raw);
    let op = (|| -> Result<Op, Refusal> {
        let s = |r: &mut FieldReader<'_>| r.str().map(str::to_owned).map_err(malformed);
        let secret =
            |r: &mut FieldReader<'_>| r.str().map(|v| Secret(v.to_owned())).map_err(malformed);
        let op = match opcode {
            Opcode::SignUp => {
                let (username, nickname, password) = (s(&mut r)?, s(&mut r)?, secret(&mut r)?);
                check(validate::username(&username))?;
                check(validate::nickname(&nickname))?;
                check(validate::password(password.as_str()))?;
                Op::SignUp {
                    username,
                    nickname,
                    password,
                }
            }
            Opcode::SignIn => {
                let (username, password, ip, agent) =
                    (s(&mut r)?, secret(&mut r)?, s(&mut r)?, s(&mut r)?);
                plausible_credentials(&username, &password)?;
                Op::SignIn {
                    username,
                    password,
                    ip: validate::clip(&ip, 45),
                    agent: validate::clip(&agent, 512),
                }
            }
            Opcode::ValidateSession => Op::ValidateSession {
                token: secret(&mut r)?,
            },
            Opcode::Logout => Op::Logout {
                token: secret(&mut r)?,
            },
            Opcode::Lookup => Op::Lookup {
                uuid: r.uuid().map_err(malformed)?,
            },
            Opcode::ChangeNickname => {
                let (token, nickname) = (secret(&mut r)?, s(&mut r)?);
                check(validate::nickname(&nickname))?;
                Op::ChangeNickname { token, nickname }
            }
            Opcode::ChangeAvatar => {
                let (token, photo) = (secret(&mut r)?, s(&mut r)?);
                check(validate::photo_id(&photo))?;
                Op::ChangeAvatar { token, photo }
            }
            Opcode::RequestCode => {
                let email = s(&mut r)?;
                check(validate::email(&email))?;
                Op::RequestCode { email }
            }
            Opcode::Register => {
                let (username, password, email, code) =
                    (s(&mut r)?, secret(&mut r)?, s(&mut r)?, secret(&mut r)?);
                check(validate::username(&username))?;
                check(validate::password(password.as_str()))?;
                check(validate::email(&email))?;
                Op::Register {
                    username,
                    password,
                    email,
                    code,
                }
            }
            Opcode::CheckAccount => {
                let (username, email) = (s(&mut r)?, s(&mut r)?);
                check(validate::username(&username))?;
                check(validate::email(&email))?;
                Op::CheckAccount { username, email }
            }
            Opcode::ResetPassword => {
                let (email, code, password) = (s(&mut r)?, secret(&mut r)?, secret(&mut r)?);
                check(validate::email(&email))?;
                check(validate::password(password.as_str()))?;
                Op::ResetPassword {
                    email,
                    code,
                    password,
                }
            }
            Opcode::TryLogin => {
                let (username, password) = (s(&mut r)?, secret(&mut r)?);
                plausible_credentials(&username, &password)?;
                Op::TryLogin { username, password }
            }
            Opcode::Ping | Opcode::Stats => return Err((Status::UnknownOpcode, Vec::new())),
        };
        r.clone().finish().map_err(malformed)?;
        Ok(op)
    })();
    match opcode {
        Opcode::Ping | Opcode::Stats => None,
        _ => Some(op),
    }
}

/// A worker's answer, sent back to the reactor that owns the connection.
#[derive(Debug)]
pub struct Reply {
    pub conn: ConnId,
    pub header: Header,
    pub status: Status,
    pub body: Vec<u8>,
}

/// One request on its way through the workers.
///
/// A job is answered exactly once: [`Job::answer`] sends the answer, and a
/// job dropped without one — because the code handling it panicked and
/// unwound, or forgot it — answers `internal` from its `Drop`, so its
/// caller learns at once instead of waiting for a deadline.
pub struct Job {
    pub conn: ConnId,
    pub header: Header,
    pub op: Op,
    pub reply: ReplySender<Reply>,
    answered: bool,
}

impl Job {
    pub fn new(conn: ConnId, header: Header, op: Op, reply: ReplySender<Reply>) -> Self {
        Job {
            conn,
            header,
            op,
            reply,
            answered: false,
        }
    }

    /// Sends the answer back to the reactor.
    pub fn answer(mut self, status: Status, body: Vec<u8>) {
        self.send(status, body);
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

    #[test]
    fn secrets_never_print() {
        let op = Op::SignIn {
            username: "alice".into(),
            password: Secret("hunter22hunter22".into()),
            ip: "127.0.0.1".into(),
            agent: "t".into(),
        };
        let text = format!("{op:?}");
        assert!(
            !text.contains("hunter22") && text.contains("[redacted]"),
            "{text}"
        );
    }

    #[test]
    fn bad_fields_are_refused_with_their_status() {
        let raw = body(|w| {
            w.str("bad name").str("nick").str("password1");
        });
        let err = decode(Opcode::SignUp, &raw).unwrap().unwrap_err();
        assert_eq!(err.0, Status::InvalidUsername);
        let raw = body(|w| {
            w.str("alice").str("nick").str("password1").str("extra");
        });
        assert_eq!(
            decode(Opcode::SignUp, &raw).unwrap().unwrap_err().0,
            Status::Malformed
        );
        assert!(decode(Opcode::Ping, &[]).is_none());
    }
}
