//! Starting a daemon under test and waiting until it listens: by the
//! "listening on <addr>" line every Throng daemon logs, or by connecting
//! when the address is known beforehand. Every line the daemon writes later
//! goes through a check (no secret in the log) and on to the test's output.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A free port on 127.0.0.1 (free when asked; bind it soon).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Spawns `cmd` with its stderr captured, reads lines until one says
/// "listening on <addr>", and returns the child with that address. Each
/// line, before and after, is passed to `check` (which panics on what must
/// never be logged) and echoed with `name` in front.
pub fn until_listening(
    mut cmd: Command,
    name: &'static str,
    check: fn(&str),
) -> (Child, SocketAddr) {
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let addr = read_until_listening(stderr, name, check);
    (child, addr)
}

/// The "listening on" address from a daemon's log stream; the rest of the
/// stream is echoed from a thread.
pub fn read_until_listening(
    stream: impl Read + Send + 'static,
    name: &'static str,
    check: fn(&str),
) -> SocketAddr {
    let mut lines = BufReader::new(stream).lines();
    let addr = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("{name} exited before listening"))
            .unwrap();
        check(&line);
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split(' ').next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            check(&line);
            eprintln!("{name}: {line}");
        }
    });
    addr
}

/// Waits until `addr` accepts a connection; false after `within`.
pub fn until_accepting(addr: SocketAddr, within: Duration) -> bool {
    crate::eventually(within, || TcpStream::connect(addr).is_ok())
}
