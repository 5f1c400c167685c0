//! Non-blocking I/O loops shared by the reactor, the protocol client and
//! the load client: write until the socket stops taking bytes, read until
//! it has none, retrying `EINTR` and telling `WouldBlock` apart from errors.

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
