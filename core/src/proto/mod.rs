//! The Throng binary protocol: length-prefixed frames with a fixed header and a
//! body of typed fields, spoken between webd and authd (and by any daemon's
//! ping/stats endpoint).
//!
//! The wire layout, the protocol's own opcodes and statuses are specified in
//! `core/PROTOCOL.md`; a test parses that page and compares it with the
//! tables here, so the two cannot drift apart. Services define their own
//! opcodes and statuses with [`code_table!`](crate::code_table) and
//! [`status_table!`](crate::status_table) in their wire crates.
//!
//! Decoding never panics: any byte sequence yields a value, "need more bytes",
//! or a typed [`DecodeError`].

mod error;
mod field;
mod field_type;
mod frame;
mod opcode;
mod status;
mod table;

pub use error::DecodeError;
pub use field::{decode_fields, Field, FieldReader, FieldWriter};
pub use field_type::FieldType;
pub use frame::{
    decode, encode_empty, Frame, FrameWriter, Header, FLAG_RESPONSE, HEADER_LEN, LENGTH_LEN,
    VERSION,
};
pub use opcode::Opcode;
pub use status::Status;

/// Default hard maximum for a whole frame (header and body), in bytes.
pub const DEFAULT_MAX_FRAME: u32 = 64 * 1024;
