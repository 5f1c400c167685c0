//! The protocol's own opcodes (0x01–0x0f), answered by every protocol
//! server. `PROTOCOL.md` lists the same rows and a test keeps them equal.
//! Services define theirs in their own wire crate with
//! [`crate::code_table!`], in the ranges the page reserves for them.

crate::code_table! {
    /// An opcode of the protocol itself. Frames carry the raw byte;
    /// [`Opcode::from_u8`] turns it into this or `None` (the service's).
    pub enum Opcode {
        Ping = 0x01, "ping";
        Stats = 0x02, "stats";
        Hello = 0x03, "hello";
    }
}
