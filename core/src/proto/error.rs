//! The one error type of the protocol decoder: every way a byte sequence can
//! fail to be a frame or a field list has its own variant, so callers can map
//! each to a status code instead of guessing from a string.

use super::field_type::FieldType;
use thiserror::Error;

/// Why bytes could not be decoded as a frame or as typed fields.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The length prefix announces more than the configured maximum.
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    FrameTooLarge { len: u64, max: u32 },
    /// The length prefix is smaller than the fixed header.
    #[error("frame length {len} is shorter than the {min}-byte header")]
    FrameTooShort { len: u32, min: u32 },
    /// The version byte is not one this build speaks.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u8),
    /// Flag bits that are reserved were set.
    #[error("reserved flag bits set: {0:#04x}")]
    ReservedFlags(u8),
    /// A field needs more bytes than the body has left.
    #[error("field truncated: needs {needed} bytes, {available} left")]
    Truncated { needed: u64, available: usize },
    /// A field tag byte that names no type.
    #[error("unknown field type {0:#04x}")]
    UnknownFieldType(u8),
    /// The next field has another type than the one asked for.
    #[error("expected a {expected} field, found {found}")]
    WrongFieldType {
        expected: FieldType,
        found: FieldType,
    },
    /// The body ended where another field was expected.
    #[error("missing field: expected a {0}")]
    MissingField(FieldType),
    /// Fields were left over after the last expected one.
    #[error("{0} unexpected trailing bytes after the last field")]
    TrailingBytes(usize),
    /// A string field is not valid UTF-8.
    #[error("string field is not valid UTF-8")]
    InvalidUtf8,
    /// A bool field holds something other than 0 or 1.
    #[error("bool field holds {0}, not 0 or 1")]
    InvalidBool(u8),
}
