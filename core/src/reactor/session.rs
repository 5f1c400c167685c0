//! The handles a service uses to act on connections: a [`Session`] for one
//! connection, and [`Conns`] to find any connection of this reactor by id
//! (when a worker's reply arrives, say).

use super::conn::Connection;
use super::{conn_key, ConnId};
use crate::buffer::BufferPool;
use slab::Slab;
use std::net::SocketAddr;
use std::time::Instant;

/// One connection, as a service sees it during a callback. Output written
/// here is flushed by the reactor right after the callback returns.
pub struct Session<'a, C> {
    pub(crate) conn: &'a mut Connection<C>,
    pub(crate) pool: &'a mut BufferPool,
    /// The reactor's `max_output`.
    pub(crate) max_output: usize,
}

impl<C> Session<'_, C> {
    pub fn id(&self) -> ConnId {
        self.conn.id
    }

    pub fn peer(&self) -> SocketAddr {
        self.conn.peer
    }

    /// The service's state for this connection.
    pub fn state(&mut self) -> &mut C {
        &mut self.conn.state
    }

    /// The output buffer; append bytes (or encode frames) into it. It comes
    /// from the reactor's pool and goes back once flushed.
    pub fn out(&mut self) -> &mut Vec<u8> {
        let pool = &mut *self.pool;
        self.conn.output.get_or_insert_with(|| pool.take())
    }

    /// Appends bytes to the output.
    pub fn write(&mut self, bytes: &[u8]) {
        self.out().extend_from_slice(bytes);
    }

    /// Bytes queued and not yet taken by the socket.
    pub fn pending_output(&self) -> usize {
        self.conn.pending_output()
    }

    /// Whether the output is over the reactor's `max_output`: a service
    /// that can produce answers from buffered input stops here and goes on
    /// when the reactor offers the input again after the peer read some.
    pub fn output_full(&self) -> bool {
        self.conn.pending_output() > self.max_output
    }

    /// Closes the connection once everything written so far is sent.
    pub fn close_after_flush(&mut self) {
        self.conn.closing = true;
    }

    /// Closes the connection once everything written so far is sent, the
    /// graceful way: shut down the sending side, then read and discard
    /// what the peer still sends (bounded in bytes and time) before the
    /// close, so that unread input does not make the kernel answer with a
    /// reset that destroys the answer before the peer has read it. For an
    /// error answer to a request whose body was not read.
    pub fn linger_after_flush(&mut self) {
        self.conn.closing = true;
        self.conn.linger = true;
    }

    /// Closes the connection now, dropping unsent output.
    pub fn close(&mut self) {
        self.conn.dead = true;
    }

    pub fn is_closing(&self) -> bool {
        self.conn.closing || self.conn.dead
    }

    /// Sets a deadline of the service's own (a header-read or request
    /// deadline); `None` returns to the reactor's idle timeout.
    pub fn set_deadline(&mut self, at: Option<Instant>) {
        self.conn.deadline = at;
    }

    /// Asks the reactor to offer the buffered input to `data` again after
    /// this callback: for a service that stopped consuming while it waited
    /// (pipelined requests behind one in flight) and can go on now.
    pub fn rerun_input(&mut self) {
        self.conn.rerun = true;
    }
}

/// All connections of this reactor, for callbacks not tied to one.
pub struct Conns<'a, C> {
    pub(crate) slab: &'a mut Slab<Connection<C>>,
    pub(crate) pool: &'a mut BufferPool,
    pub(crate) touched: &'a mut Vec<usize>,
    pub(crate) max_output: usize,
}

impl<C> Conns<'_, C> {
    /// The connection with this id, if it is still open.
    pub fn get(&mut self, id: ConnId) -> Option<Session<'_, C>> {
        let key = conn_key(id);
        match self.slab.get_mut(key) {
            Some(conn) if conn.id == id && !conn.dead => {
                self.touched.push(key);
                Some(Session {
                    conn,
                    pool: self.pool,
                    max_output: self.max_output,
                })
            }
            _ => None,
        }
    }

    /// Calls `each` for every open connection (shutdown notices and the like).
    pub fn for_each(&mut self, mut each: impl FnMut(&mut Session<'_, C>)) {
        for (key, conn) in self.slab.iter_mut() {
            if conn.dead {
                continue;
            }
            self.touched.push(key);
            each(&mut Session {
                conn,
                pool: self.pool,
                max_output: self.max_output,
            });
        }
    }

    /// Open connections on this reactor.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }
}
