//! The caller's side of an answer: a frame's status byte and body become
//! the operation's typed `ok` answer or a [`Refusal`].

use crate::{decode_body, Detail, Operation, Refusal, Status};
use std::fmt;
use throng_core::proto::DecodeError;

/// Why an answer could not be read (a server of another version, a bug).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerError {
    /// The status byte is in no table this build knows.
    UnknownStatus(u8),
    /// The body does not hold what the status promises.
    Body(DecodeError),
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::UnknownStatus(s) => write!(f, "authd answered the unknown status {s}"),
            AnswerError::Body(e) => write!(f, "authd's answer did not decode: {e}"),
        }
    }
}

impl std::error::Error for AnswerError {}

/// The answer to `O` held by a response frame's status byte and body.
pub fn decode_answer<O: Operation>(
    status: u8,
    body: &[u8],
) -> Result<Result<O::Answer, Refusal>, AnswerError> {
    let status = Status::from_u8(status).ok_or(AnswerError::UnknownStatus(status))?;
    if status == Status::Ok {
        return decode_body::<O::Answer>(body)
            .map(Ok)
            .map_err(AnswerError::Body);
    }
    let detail = decode_body::<Detail>(body).map_err(AnswerError::Body)?;
    Ok(Err(Refusal { status, detail }))
}
