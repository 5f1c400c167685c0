//! The protocol's own statuses (0–31): how a request can end whatever the
//! service. `PROTOCOL.md` lists the same rows and a test keeps them equal.
//! Services define their tables with [`crate::status_table!`], which adds
//! these rows to theirs.

crate::status_table! {
    /// A response status of the protocol itself. Frames carry the raw byte;
    /// an unknown value on the client side is kept raw by the caller, never
    /// a panic.
    pub enum Status {}
}

impl From<&super::DecodeError> for Status {
    /// The status a server answers with before closing a connection whose
    /// stream failed to decode, or for a request whose body did not.
    fn from(err: &super::DecodeError) -> Status {
        use super::DecodeError as E;
        match err {
            E::FrameTooLarge { .. } => Status::FrameTooLarge,
            E::UnsupportedVersion(_) => Status::UnsupportedVersion,
            _ => Status::Malformed,
        }
    }
}
