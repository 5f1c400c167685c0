//! Non-blocking I/O loops shared by the reactor, the protocol client and
//! the load client: write until the socket stops taking bytes, read until
//! it has none, retrying `EINTR` and telling `WouldBlock` apart from errors.

use mio::event::Source;
use mio::{Interest, Registry, Token};
use std::io::{self, ErrorKind, Read, Write};

/// Writes `buf[*pos..]` until done or `WouldBlock`, advancing `pos`.
/// A zero-length write is an error (the peer cannot take more, ever).
pub fn write_pending(w: &mut impl Write, buf: &[u8], pos: &mut usize) -> io::Result<()> {
    while *pos < buf.len() {
        match w.write(&buf[*pos..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => *pos += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Appends everything readable now to `into`. Returns `Ok(true)` when the
/// peer closed its side (EOF), `Ok(false)` when the socket is drained.
pub fn read_available(r: &mut impl Read, into: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match r.read(&mut chunk) {
            Ok(0) => return Ok(true),
            Ok(n) => into.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Registers `stream` for writable events exactly while output is pending
/// (`want`): `registered` says what it is registered for now and is kept
/// true. Write interest left on would wake a reactor on every poll.
pub fn keep_write_interest<S: Source + ?Sized>(
    stream: &mut S,
    registry: &Registry,
    token: Token,
    want: bool,
    registered: &mut bool,
) -> io::Result<()> {
    if want != *registered {
        let interest = if want {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        registry.reregister(stream, token, interest)?;
        *registered = want;
    }
    Ok(())
}

/// Output waiting for a socket that keeps its own buffer (a client's
/// connection): the bytes, how far they went, and whether write interest is
/// registered — which it is exactly while bytes are left.
#[derive(Debug, Default)]
pub struct Outbox {
    pub buf: Vec<u8>,
    pos: usize,
    write_interest: bool,
    /// Bytes the socket took since the outbox was made or reset: what a
    /// caller compares with [`Outbox::queued_total`] to know whether a
    /// request left at all.
    sent: u64,
}

impl Outbox {
    /// `write_interest`: whether the socket was registered with WRITABLE.
    pub fn new(write_interest: bool) -> Self {
        Outbox {
            buf: Vec::new(),
            pos: 0,
            write_interest,
            sent: 0,
        }
    }

    /// Bytes the socket took since the outbox was made or reset.
    pub fn sent_total(&self) -> u64 {
        self.sent
    }

    /// Bytes ever queued (sent or waiting): the offset the next byte
    /// appended to `buf` will have.
    pub fn queued_total(&self) -> u64 {
        self.sent + (self.buf.len() - self.pos) as u64
    }

    /// Writes what the socket takes and keeps the registration in step.
    pub fn flush<S>(&mut self, stream: &mut S, registry: &Registry, token: Token) -> io::Result<()>
    where
        S: Source + Write,
    {
        let before = self.pos;
        let written = write_pending(stream, &self.buf, &mut self.pos);
        self.sent += (self.pos - before) as u64;
        written?;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let want = !self.buf.is_empty();
        keep_write_interest(stream, registry, token, want, &mut self.write_interest)
    }

    /// Forgets everything (the socket is gone).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.write_interest = false;
        self.sent = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes at most `room` bytes, then blocks.
    struct Tight {
        room: usize,
        got: Vec<u8>,
    }

    impl Write for Tight {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.room).min(3);
            self.room -= n;
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn partial_writes_advance_the_position_and_stop_at_would_block() {
        let mut w = Tight {
            room: 7,
            got: Vec::new(),
        };
        let mut pos = 0;
        write_pending(&mut w, b"hello world", &mut pos).unwrap();
        assert_eq!((pos, w.got.as_slice()), (7, &b"hello w"[..]));
        w.room = 100;
        write_pending(&mut w, b"hello world", &mut pos).unwrap();
        assert_eq!(w.got, b"hello world");
    }

    #[test]
    fn reading_to_the_end_reports_eof() {
        let mut into = Vec::new();
        assert!(read_available(&mut &b"abc"[..], &mut into).unwrap());
        assert_eq!(into, b"abc");
    }
}
