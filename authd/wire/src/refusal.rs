//! Every answer other than `ok`: a status and what it carries. A few
//! statuses carry one field (`malformed` and `invalid_code` a reason,
//! `too_many_attempts` and `too_many_codes` the seconds to wait); the rest
//! carry none.

use crate::{Message, Status};
use throng_core::proto::{DecodeError, Field, FieldReader, FieldWriter};

/// What a refusal carries besides its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    None,
    /// A reason for a person (`malformed`, `invalid_code`).
    Reason(String),
    /// Seconds until a retry can succeed (`too_many_*`).
    RetryAfter(u32),
}

/// A request's answer when it is not `ok`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: Status,
    pub detail: Detail,
}

impl Refusal {
    /// A refusal without detail.
    pub fn new(status: Status) -> Refusal {
        Refusal {
            status,
            detail: Detail::None,
        }
    }

    pub fn reason(status: Status, reason: impl Into<String>) -> Refusal {
        Refusal {
            status,
            detail: Detail::Reason(reason.into()),
        }
    }

    pub fn retry_after(status: Status, seconds: u32) -> Refusal {
        Refusal {
            status,
            detail: Detail::RetryAfter(seconds),
        }
    }

    /// The reason, when the refusal carries one.
    pub fn reason_text(&self) -> Option<&str> {
        match &self.detail {
            Detail::Reason(r) => Some(r),
            _ => None,
        }
    }

    /// The seconds to wait, when the refusal carries them.
    pub fn retry_after_secs(&self) -> Option<u32> {
        match self.detail {
            Detail::RetryAfter(s) => Some(s),
            _ => None,
        }
    }
}

impl From<Status> for Refusal {
    fn from(status: Status) -> Refusal {
        Refusal::new(status)
    }
}

/// The body of a refusal is its detail only; the status is in the header.
impl Message for Detail {
    fn encode(&self, w: &mut FieldWriter<'_>) {
        match self {
            Detail::None => {}
            Detail::Reason(r) => {
                w.str(r);
            }
            Detail::RetryAfter(s) => {
                w.u32(*s);
            }
        }
    }

    fn decode(r: &mut FieldReader<'_>) -> Result<Detail, DecodeError> {
        Ok(match r.next_field()? {
            None => Detail::None,
            Some(Field::Str(reason)) => Detail::Reason(reason.to_owned()),
            Some(Field::U32(seconds)) => Detail::RetryAfter(seconds),
            Some(other) => {
                return Err(DecodeError::WrongFieldType {
                    expected: throng_core::proto::FieldType::Str,
                    found: other.field_type(),
                })
            }
        })
    }
}
