//! One accepted connection as the reactor holds it: the socket, the
//! service's state, and buffers that exist only while bytes are in flight.

use super::ConnId;
use crate::buffer::BufferPool;
use mio::net::TcpStream;
use mio::{Registry, Token};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub(crate) struct Connection<C> {
    pub stream: TcpStream,
    pub id: ConnId,
    pub peer: SocketAddr,
    pub state: C,
    /// Bytes received but not yet consumed by the service.
    pub input: Option<Vec<u8>>,
    /// Bytes the socket has not taken yet, from `out_pos` on.
    pub output: Option<Vec<u8>>,
    pub out_pos: usize,
    pub last_active: Instant,
    /// A deadline the service set; otherwise the idle timeout applies.
    pub deadline: Option<Instant>,
    /// The instant of the timer-wheel entry currently armed for us.
    pub armed_at: Option<Instant>,
    pub write_interest: bool,
    /// Close once the output is flushed.
    pub closing: bool,
    /// With `closing`: close gracefully (see `Session::linger_after_flush`).
    pub linger: bool,
    /// The sending side is shut down and what the peer sends is discarded
    /// until it closes, `LINGER_BYTES` went by or the deadline passed.
    pub lingering: bool,
    /// Close now.
    pub dead: bool,
    /// Reading paused because output piled up past the limit.
    pub read_paused: bool,
    /// Offer the buffered input to the service again (it asked).
    pub rerun: bool,
}

impl<C> Connection<C> {
    pub fn new(stream: TcpStream, id: ConnId, peer: SocketAddr, state: C, now: Instant) -> Self {
        Connection {
            stream,
            id,
            peer,
            state,
            input: None,
            output: None,
            out_pos: 0,
            last_active: now,
            deadline: None,
            armed_at: None,
            write_interest: false,
            closing: false,
            linger: false,
            lingering: false,
            dead: false,
            read_paused: false,
            rerun: false,
        }
    }

    pub fn pending_output(&self) -> usize {
        self.output.as_ref().map_or(0, |o| o.len() - self.out_pos)
    }

    /// When this connection must next be looked at by the timer.
    pub fn effective_deadline(&self, idle: Option<Duration>) -> Option<Instant> {
        self.deadline
            .or_else(|| idle.map(|idle| self.last_active + idle))
    }

    /// Writes as much pending output as the socket takes. Returns the buffer
    /// to the pool when everything went, and keeps write interest registered
    /// exactly while something is left. The writing and the interest are
    /// `nbio`'s, shared with the protocol client's [`crate::nbio::Outbox`];
    /// the buffer is not an `Outbox`'s own because a connection holds one
    /// only while output is pending (an idle connection costs no buffer).
    pub fn flush(&mut self, pool: &mut BufferPool, registry: &Registry) -> io::Result<()> {
        if let Some(out) = self.output.as_mut() {
            crate::nbio::write_pending(&mut self.stream, out, &mut self.out_pos)?;
            if self.out_pos == out.len() {
                if let Some(buf) = self.output.take() {
                    pool.give(buf);
                }
                self.out_pos = 0;
            }
        }
        crate::nbio::keep_write_interest(
            &mut self.stream,
            registry,
            Token(super::conn_key(self.id)),
            self.output.is_some(),
            &mut self.write_interest,
        )
    }

    /// Gives both buffers back to the pool (the connection is closing).
    pub fn release_buffers(&mut self, pool: &mut BufferPool) {
        if let Some(buf) = self.input.take() {
            pool.give(buf);
        }
        if let Some(buf) = self.output.take() {
            pool.give(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_connection_is_small_and_holds_no_buffer() {
        // The socket, ids, deadlines and flags; buffers only while bytes are
        // in flight. Guard against the struct growing by accident.
        let size = std::mem::size_of::<Connection<()>>();
        assert!(size <= 192, "Connection<()> grew to {size} bytes");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let peer = std_stream.peer_addr().unwrap();
        let conn = Connection::new(TcpStream::from_std(std_stream), 1, peer, (), Instant::now());
        assert!(conn.input.is_none() && conn.output.is_none());
    }
}
