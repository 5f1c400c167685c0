//! authd's side of the Throng binary protocol, in one place for authd and
//! every caller (webd, bench, the tests).
//!
//! - [`Opcode`] and [`Status`]: authd's code tables (`PROTOCOL.md` in this
//!   folder lists them; a test keeps page and code equal).
//! - [`ops`]: one request type per operation, each with its answer type,
//!   both with their `encode` and `decode` in the operation's own file.
//! - [`Request`]: any request, decoded from a frame by opcode (authd's
//!   dispatch); [`Refusal`]: any answer other than `ok`, with its detail.
//!
//! Nothing here validates a field beyond its wire type: the service that
//! owns a field (authd) decides what a valid username is.

mod answer;
mod message;
mod opcode;
pub mod ops;
mod refusal;
mod request;
mod secret;
mod status;

pub use answer::{decode_answer, AnswerError};
pub use message::{decode_body, decode_prefix, encode_body, Message, Operation};
pub use opcode::Opcode;
pub use refusal::{Detail, Refusal};
pub use request::{Request, RequestError};
pub use secret::Secret;
pub use status::Status;
