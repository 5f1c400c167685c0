//! Listening sockets made with `socket2`: `SO_REUSEADDR` and `SO_REUSEPORT`
//! so every reactor thread (and several processes) can bind the same port
//! and let the kernel spread incoming connections, a configurable backlog,
//! non-blocking mode for `mio`, and optionally `SO_INCOMING_CPU` so that
//! the kernel hands a listener the connections received on its CPU.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;

/// Binds a non-blocking, `SO_REUSEPORT` listener on `addr`, carrying
/// `SO_INCOMING_CPU` = `cpu` when given: the kernel (6.1+) then prefers it,
/// within its port's group, for connections received on that CPU
/// ([`crate::reactor::Placement`]). Set before `listen`, when the group
/// counts such sockets.
pub fn steered_listener(
    addr: SocketAddr,
    backlog: u32,
    cpu: Option<usize>,
) -> io::Result<mio::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if let Some(cpu) = cpu {
        socket.set_cpu_affinity(cpu)?;
    }
    socket.set_nonblocking(true)?;
    socket
        .bind(&addr.into())
        .map_err(|e| io::Error::new(e.kind(), format!("bind {addr}: {e}")))?;
    let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
    socket.listen(backlog)?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_listeners_share_a_port() {
        let a = steered_listener("127.0.0.1:0".parse().unwrap(), 16, None).unwrap();
        let addr = a.local_addr().unwrap();
        let b = steered_listener(addr, 16, None).unwrap();
        assert_eq!(b.local_addr().unwrap(), addr);
    }
}
