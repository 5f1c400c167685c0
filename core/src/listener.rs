//! Listening sockets made with `socket2`: `SO_REUSEADDR` and `SO_REUSEPORT`
//! so every reactor thread (and several processes) can bind the same port
//! and let the kernel spread incoming connections, a configurable backlog,
//! and non-blocking mode for `mio`.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;

/// Binds a non-blocking, `SO_REUSEPORT` listener on `addr`.
pub fn reuseport_listener(addr: SocketAddr, backlog: u32) -> io::Result<mio::net::TcpListener> {
    steered_listener(addr, backlog, None)
}

/// [`reuseport_listener`] carrying `SO_INCOMING_CPU` = `cpu` when given: the
/// kernel then prefers it, within its port's group, for connections
/// received on that CPU ([`crate::reactor::Placement`]).
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
        let a = reuseport_listener("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let addr = a.local_addr().unwrap();
        let b = reuseport_listener(addr, 16).unwrap();
        assert_eq!(b.local_addr().unwrap(), addr);
    }
}
