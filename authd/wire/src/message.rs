//! The two traits every request and answer implements: a [`Message`] is a
//! frame body with its own `encode` and `decode`, an [`Operation`] is a
//! request that names its opcode and its answer's type. The field order of
//! each lives in exactly one `encode`/`decode` pair, so callers never agree
//! on positions by hand.

use crate::Opcode;
use throng_core::proto::{DecodeError, FieldReader, FieldWriter};

/// A frame body: written field by field and read back in the same order.
pub trait Message: Sized {
    /// Appends this message's fields.
    fn encode(&self, w: &mut FieldWriter<'_>);
    /// Reads this message's fields (the caller checks nothing is left).
    fn decode(r: &mut FieldReader<'_>) -> Result<Self, DecodeError>;
}

/// An authd request: its opcode and the type of its `ok` answer.
pub trait Operation: Message {
    const OPCODE: Opcode;
    /// Whether the caller may send the request again, to another authd,
    /// when the one it went to died before answering: true when doing it
    /// twice leaves the same state as once (reads, sets, log-outs). A
    /// request that is not repeatable is sent again only if none of its
    /// bytes left the caller.
    const REPEATABLE: bool;
    type Answer: Message;
}

/// The empty body: the `ok` answer of operations that return nothing.
impl Message for () {
    fn encode(&self, _: &mut FieldWriter<'_>) {}

    fn decode(_: &mut FieldReader<'_>) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// A message encoded as a frame body.
pub fn encode_body<M: Message>(message: &M) -> Vec<u8> {
    let mut out = Vec::new();
    message.encode(&mut FieldWriter::new(&mut out));
    out
}

/// A whole frame body decoded as `M`; bytes left over are an error, so a
/// peer that sends more fields than the operation takes learns it.
pub fn decode_body<M: Message>(body: &[u8]) -> Result<M, DecodeError> {
    let (message, left) = decode_prefix::<M>(body)?;
    match left {
        0 => Ok(message),
        n => Err(DecodeError::TrailingBytes(n)),
    }
}

/// `M` from the start of a body, and how many bytes follow it (for a
/// server that judges the fields it read before refusing what is left).
pub fn decode_prefix<M: Message>(body: &[u8]) -> Result<(M, usize), DecodeError> {
    let mut r = FieldReader::new(body);
    let message = M::decode(&mut r)?;
    let left = match r.finish() {
        Ok(()) => 0,
        Err(DecodeError::TrailingBytes(n)) => n,
        Err(e) => return Err(e),
    };
    Ok((message, left))
}
