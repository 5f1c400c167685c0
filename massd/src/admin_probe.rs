//! Who answers an admin endpoint: the launcher asks a server it just
//! started for its `pid` (the one command answered without the admin
//! token, so the token never goes to a stranger holding the port) and
//! compares it with its child's. A port that answers is not proof enough — another fleet's
//! server may hold it while the child died on "Address already in use",
//! and the launcher would then report, and a benchmark measure, someone
//! else's processes.

use crate::admin_wire::AdminRequest;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// What an admin endpoint said about itself.
#[derive(Debug, PartialEq, Eq)]
pub enum Owner {
    /// Nothing listens there (yet).
    Nobody,
    /// A massd server with this pid answered.
    Pid(u32),
    /// Something answered, but not as a massd server: not one of ours.
    Stranger(String),
}

/// Asks `addr` which process it is.
pub fn owner(addr: SocketAddr) -> Owner {
    let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return Owner::Nobody;
    };
    match ask(stream) {
        Ok(owner) => owner,
        Err(e) => Owner::Stranger(format!("no answer: {e}")),
    }
}

fn ask(stream: TcpStream) -> io::Result<Owner> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let request = AdminRequest {
        token: String::new(),
        cmd: "pid".into(),
        offset: 0,
        limit: None,
    };
    let mut writer = stream.try_clone()?;
    writeln!(writer, "{}", serde_json::to_string(&request)?)?;
    let mut line = String::new();
    // One answer line; a stranger's endless line stops at the cap.
    BufReader::new(stream.take(1 << 20)).read_line(&mut line)?;
    let answer: serde_json::Value = serde_json::from_str(line.trim())
        .map_err(|_| io::Error::other("the answer is not a JSON line"))?;
    if answer["ok"] != serde_json::Value::Bool(true) {
        let why = answer["error"].as_str().unwrap_or("refused").to_owned();
        return Ok(Owner::Stranger(format!("it refused: {why}")));
    }
    match answer["pid"].as_u64().and_then(|p| u32::try_from(p).ok()) {
        Some(pid) => Ok(Owner::Pid(pid)),
        None => Ok(Owner::Stranger("its answer names no pid".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_closed_port_is_nobody() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        assert_eq!(owner(addr), Owner::Nobody);
    }

    #[test]
    fn another_program_is_a_stranger() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut line = String::new();
            BufReader::new(s.try_clone().unwrap())
                .read_line(&mut line)
                .unwrap();
            s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap();
        });
        assert!(matches!(owner(addr), Owner::Stranger(_)));
        server.join().unwrap();
    }
}
