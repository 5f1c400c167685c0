//! webd's routes: the gateway JSON API, answered through authd, and the
//! placeholder page until the pages land. One `App` per reactor, with its
//! own protocol client to every authd backend (a dead one is skipped).

use crate::api::{self, Endpoint};
use crate::http::{Done, Head, Outcome, Response, Routes};
use crate::pages::{PageCall, Pages, Step};
use mio::event::Event;
use mio::Token;
use std::net::SocketAddr;
use std::time::Instant;
use throng_core::client::{CallError, ClientConfig, ProtoClient};
use throng_core::reactor::{ConnId, Env, FOREIGN_TOKEN_BASE};

/// What an authd call in flight will answer.
pub enum Pending {
    Api(&'static Endpoint),
    Page(PageCall),
}

pub struct App {
    client: ProtoClient<(ConnId, Pending)>,
    pages: Pages,
    started: bool,
}

impl App {
    pub fn new(authd: ClientConfig, secure_cookies: bool) -> Self {
        App {
            client: ProtoClient::new(authd, FOREIGN_TOKEN_BASE, Instant::now()),
            pages: Pages { secure_cookies },
            started: false,
        }
    }

    fn collect(&mut self, done: &mut Done) {
        let pages = &self.pages;
        self.client.drain(|c| {
            let (conn, pending) = c.tag;
            let answer = match pending {
                Pending::Api(endpoint) => api::answer(endpoint, c.result),
                Pending::Page(call) => pages.finish(call, c.result),
            };
            done.push((conn, answer));
        });
    }
}

impl Routes for App {
    type Reply = ();

    fn route(&self, method: &str, path: &str) -> Result<usize, Response> {
        if api::endpoint(path).is_some() {
            return match method {
                "POST" => Ok(api::MAX_BODY),
                _ => {
                    Err(Response::html(405, "<h1>405 Method Not Allowed</h1>\n")
                        .header("Allow: POST"))
                }
            };
        }
        match self.pages.route(method, path) {
            Some(decision) => decision,
            None => Err(Response::html(404, "<h1>404 Not Found</h1>\n")),
        }
    }

    fn handle(
        &mut self,
        conn: ConnId,
        peer: SocketAddr,
        head: &Head<'_>,
        body: &[u8],
        env: &mut Env<'_>,
    ) -> Outcome {
        let (opcode, args, pending) = match api::endpoint(head.path) {
            Some(endpoint) => match api::parse_request(endpoint, body) {
                Ok(values) => (endpoint.opcode, values, Pending::Api(endpoint)),
                Err(refusal) => return Outcome::Now(refusal),
            },
            None => match self.pages.start(head, peer, body) {
                Step::Now(response) => return Outcome::Now(response),
                Step::Call { opcode, args, then } => (opcode, args, Pending::Page(then)),
            },
        };
        let fields = |w: &mut throng_core::proto::FieldWriter<'_>| api::write_fields(&args, w);
        match self
            .client
            .call(env.registry, env.now, opcode as u8, fields, (conn, pending))
        {
            Ok(()) => Outcome::Later,
            Err(e) => Outcome::Now(match api::endpoint(head.path) {
                Some(endpoint) => api::answer(endpoint, Err::<_, CallError>(e)),
                None => self.pages.finish_failed(),
            }),
        }
    }

    fn foreign(&mut self, _: Token, event: &Event, env: &mut Env<'_>, done: &mut Done) {
        self.client.event(env.registry, event, env.now);
        self.collect(done);
    }

    fn wants_tick(&self) -> bool {
        true
    }

    fn tick(&mut self, env: &mut Env<'_>, done: &mut Done) {
        if !self.started {
            self.client.start(env.registry, env.now);
            self.started = true;
        }
        self.client.tick(env.registry, env.now);
        self.collect(done);
    }
}
