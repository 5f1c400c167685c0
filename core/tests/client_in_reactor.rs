//! The protocol client inside a reactor, the way webd will use it: a front
//! service forwards each request to a backend through `ProtoClient`, with
//! the client's sockets on the reactor's own poll (foreign tokens) and its
//! deadlines on the service tick.

use mio::event::Event;
use mio::Token;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use throng_core::client::{ClientConfig, ProtoClient, Replay};
use throng_core::metrics::Metrics;
use throng_core::proto::{self, Header, Opcode, Status};
use throng_core::reactor::{
    ConnId, ConnInfo, Conns, Driven, Env, ReactorConfig, Service, Session, FOREIGN_TOKEN_BASE,
};
use throng_core::rpc::{NoOperations, RpcService};
use throng_core::server;

/// Answers each incoming ping with the backend's answer to a ping of its own.
struct Front {
    client: ProtoClient<(ConnId, u32)>,
    started: bool,
}

impl Front {
    fn deliver(&mut self, conns: &mut Conns<'_, ()>) {
        self.client.drain(|done| {
            let (id, request_id) = done.tag;
            if let Some(mut s) = conns.get(id) {
                let status = match &done.result {
                    Ok(r) => r.header.status,
                    Err(_) => Status::Unavailable as u8,
                };
                proto::encode_empty(
                    s.out(),
                    Header::request(Opcode::Ping as u8, request_id).response(status),
                );
            }
        });
    }
}

impl Service for Front {
    type Conn = ();

    fn open(&mut self, _: ConnId, _: &ConnInfo, env: &mut Env<'_>) {
        if !self.started {
            self.client.start(env.registry, env.now);
            self.started = true;
        }
    }

    fn data(&mut self, s: &mut Session<'_, ()>, input: &[u8], env: &mut Env<'_>) -> usize {
        let mut used = 0;
        while let Ok(Some((frame, len))) = proto::decode(&input[used..], proto::DEFAULT_MAX_FRAME) {
            used += len;
            let tag = (s.id(), frame.header.request_id);
            if self
                .client
                .call(env.now, Opcode::Ping as u8, Replay::Repeatable, |_| {}, tag)
                .is_err()
            {
                proto::encode_empty(s.out(), frame.header.response(Status::Unavailable as u8));
            }
        }
        used
    }
}

impl Driven<()> for Front {
    type Reply = ();

    fn foreign(&mut self, _: Token, event: &Event, conns: &mut Conns<'_, ()>, env: &mut Env<'_>) {
        self.client.event(env.registry, event, env.now);
        self.deliver(conns);
    }

    fn next_wakeup(&self) -> Option<std::time::Instant> {
        self.client.next_deadline()
    }

    // Queued calls leave at the end of the turn that made them.
    fn before_sleep(&mut self, conns: &mut Conns<'_, ()>, env: &mut Env<'_>) {
        self.client.flush_unsent(env.registry, env.now);
        self.deliver(conns);
    }

    fn wakeup(&mut self, conns: &mut Conns<'_, ()>, env: &mut Env<'_>) {
        self.client.tick(env.registry, env.now);
        self.deliver(conns);
    }
}

#[test]
fn a_service_calls_a_backend_through_the_client() {
    let metrics = Metrics::new();
    let m = metrics.clone();
    let backend_cfg = ReactorConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        threads: 1,
        ..ReactorConfig::default()
    };
    let backend = server::start(&backend_cfg, &metrics, move |_| {
        RpcService::new(NoOperations, proto::DEFAULT_MAX_FRAME, m.clone())
    })
    .unwrap();
    let client_cfg = ClientConfig {
        backends: vec![backend.local_addrs()[0]],
        ..ClientConfig::default()
    };
    let front_cfg = ReactorConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        threads: 2,
        ..ReactorConfig::default()
    };
    let front = server::start(&front_cfg, &Metrics::new(), move |_| Front {
        client: ProtoClient::new(client_cfg.clone(), FOREIGN_TOKEN_BASE, Instant::now()),
        started: false,
    })
    .unwrap();
    let mut s = TcpStream::connect(front.local_addrs()[0]).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Until the backend answered the client's probe, calls fail fast.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut id = 0;
    loop {
        id += 1;
        let mut req = Vec::new();
        proto::encode_empty(&mut req, Header::request(Opcode::Ping as u8, id));
        s.write_all(&req).unwrap();
        let mut buf = [0u8; proto::HEADER_LEN];
        s.read_exact(&mut buf).unwrap();
        let header = proto::decode(&buf, 1024).unwrap().unwrap().0.header;
        assert_eq!(header.request_id, id);
        if header.status == Status::Ok as u8 {
            break;
        }
        assert_eq!(header.status, Status::Unavailable as u8);
        assert!(Instant::now() < deadline, "the backend never came up");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Now a pipelined batch all goes through.
    let mut batch = Vec::new();
    for i in 0..100 {
        proto::encode_empty(&mut batch, Header::request(Opcode::Ping as u8, 1000 + i));
    }
    s.write_all(&batch).unwrap();
    let mut seen = Vec::new();
    for _ in 0..100 {
        let mut buf = [0u8; proto::HEADER_LEN];
        s.read_exact(&mut buf).unwrap();
        let header = proto::decode(&buf, 1024).unwrap().unwrap().0.header;
        assert_eq!(header.status, Status::Ok as u8);
        seen.push(header.request_id);
    }
    seen.sort_unstable();
    assert_eq!(seen, (1000..1100).collect::<Vec<_>>());
    for h in [front, backend] {
        h.shutdown();
        h.join().unwrap();
    }
}
