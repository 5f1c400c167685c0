//! A TCP relay that stands for one store node in failover tests: it
//! forwards every connection to the real server until [`Relay::cut`],
//! which closes what it carries and stops listening, as a killed process
//! would (peers see resets and refused connects, not a hang).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

pub struct Relay {
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    /// A relay on an ephemeral loopback port to `target`.
    pub fn to(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a relay");
        let addr = listener.local_addr().expect("relay address");
        let cut = Arc::new(AtomicBool::new(false));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (c, s, a) = (cut.clone(), streams.clone(), accepted.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if c.load(Ordering::Acquire) {
                    return; // the listener drops: connects are refused
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                a.fetch_add(1, Ordering::AcqRel);
                let mut kept = s.lock().unwrap();
                for end in [&client, &server] {
                    kept.push(end.try_clone().expect("clone a relayed stream"));
                }
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Relay {
            addr,
            cut,
            accepted,
            streams,
        }
    }

    /// Connections relayed so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Acquire)
    }

    /// The node dies: every relayed connection is closed and new ones are
    /// refused from now on.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::Release);
        // Wake the accept loop so that it sees the flag and drops the
        // listener.
        let _ = TcpStream::connect(self.addr);
        for s in self.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
    }
}
