//! webd's routes: the gateway JSON API, answered through authd, and the
//! placeholder page until the pages land. One `App` per reactor, with its
//! own protocol client to every authd backend (a dead one is skipped).

use crate::api::{self, Endpoint};
use crate::http::{Done, Head, Outcome, Response, Routes};
use crate::placeholder::Placeholder;
use mio::event::Event;
use mio::Token;
use std::time::Instant;
use throng_core::client::{CallError, ClientConfig, ProtoClient};
use throng_core::reactor::{ConnId, Env, FOREIGN_TOKEN_BASE};

pub struct App {
    client: ProtoClient<(ConnId, &'static Endpoint)>,
    started: bool,
}

impl App {
    pub fn new(authd: ClientConfig) -> Self {
        App {
            client: ProtoClient::new(authd, FOREIGN_TOKEN_BASE, Instant::now()),
            started: false,
        }
    }

    fn collect(&mut self, done: &mut Done) {
        self.client.drain(|c| {
            let (conn, endpoint) = c.tag;
            done.push((conn, api::answer(endpoint, c.result)));
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
        Placeholder.route(method, path)
    }

    fn handle(&mut self, conn: ConnId, head: &Head<'_>, body: &[u8], env: &mut Env<'_>) -> Outcome {
        let Some(endpoint) = api::endpoint(head.path) else {
            return Outcome::Now(Placeholder::page());
        };
        let values = match api::parse_request(endpoint, body) {
            Ok(v) => v,
            Err(refusal) => return Outcome::Now(refusal),
        };
        let fields = |w: &mut throng_core::proto::FieldWriter<'_>| api::write_fields(&values, w);
        match self.client.call(
            env.registry,
            env.now,
            endpoint.opcode as u8,
            fields,
            (conn, endpoint),
        ) {
            Ok(()) => Outcome::Later,
            Err(e) => Outcome::Now(api::answer(endpoint, Err::<_, CallError>(e))),
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
