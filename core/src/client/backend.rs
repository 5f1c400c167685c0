//! One persistent connection to one backend: its socket, the requests in
//! flight on it (by request id), its buffers and where it stands in the
//! connect → probe → up → down cycle.

use crate::nbio::Outbox;
use mio::net::TcpStream;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Where a backend connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Waiting until `retry_at` before connecting again.
    Down,
    /// Non-blocking connect in progress.
    Connecting,
    /// Connected; a ping was sent and its answer proves the backend alive.
    Probing,
    /// Answering; takes requests.
    Up,
}

/// A call waiting for its answer on one connection, with what it takes to
/// send it again to another backend if this one dies first.
pub(crate) struct Pending<T> {
    pub tag: T,
    /// The call's own deadline, over every backend it is tried on.
    pub deadline: Instant,
    /// When this try gives up on its backend (at most `deadline`).
    pub try_deadline: Instant,
    pub opcode: u8,
    /// The encoded fields, to build the frame again with another id.
    pub body: Vec<u8>,
    pub replay: super::Replay,
    /// Offset of the request's first byte in the connection's outbox:
    /// while the socket has taken fewer bytes, nothing of it left.
    pub start: u64,
    /// Backends tried so far, this one included.
    pub tries: u8,
}

pub(crate) struct Link<T> {
    pub addr: SocketAddr,
    pub state: LinkState,
    pub stream: Option<TcpStream>,
    /// Bumped on every reconnect, so timers of an older socket are ignored.
    pub epoch: u32,
    pub next_id: u32,
    pub probe_id: u32,
    /// The ping sent when the connection went silent with calls waiting
    /// (0: none outstanding).
    pub health_id: u32,
    /// The request id of this connection's `hello` (0: none sent).
    pub hello_id: u32,
    pub pending: HashMap<u32, Pending<T>>,
    pub out: Outbox,
    pub input: Vec<u8>,
    pub backoff: Duration,
    /// Whether the last failure was already logged (log once per outage).
    pub outage_logged: bool,
    /// When bytes last arrived: a try that times out on a connection that
    /// has been silent since it was sent means the backend hangs.
    pub last_read: Instant,
}

impl<T> Link<T> {
    pub fn new(addr: SocketAddr, backoff: Duration) -> Self {
        Link {
            addr,
            state: LinkState::Down,
            stream: None,
            epoch: 0,
            next_id: 1,
            probe_id: 0,
            health_id: 0,
            hello_id: 0,
            pending: HashMap::new(),
            out: Outbox::new(false),
            input: Vec::new(),
            backoff,
            outage_logged: false,
            last_read: Instant::now(),
        }
    }

    /// A fresh request id; 0 is never used so it can mean "none".
    pub fn take_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }
}
