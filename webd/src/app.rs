//! webd's routes: the pages and the gateway JSON API, answered through
//! authd, and the avatars, processed and served by the avatar pool. One
//! `App` per reactor, with its own protocol client to every authd backend
//! (a dead one is skipped) and its own reply channel from the avatar pool.

use crate::api::{self, Endpoint};
use crate::avatars::{store, AvatarPool, AvatarReply, Task, TaskKind, UploadError};
use crate::http::{Done, Head, Outcome, Response, Routes};
use crate::pages::{self, PageCall, Pages, Step};
use mio::event::Event;
use mio::Token;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use throng_core::client::{CallError, ClientConfig, LinkState, ProtoClient};
use throng_core::handoff::ReplySender;
use throng_core::metrics::{LocalHistogram, Metrics};
use throng_core::proto::Opcode;
use throng_core::reactor::{ConnId, Env, FOREIGN_TOKEN_BASE};

/// What an authd call in flight will answer.
pub enum Pending {
    Api(&'static Endpoint),
    Page(PageCall),
}

/// The avatar side of the application.
pub struct AvatarRoutes {
    pub pool: AvatarPool,
    pub replies: ReplySender<AvatarReply>,
    /// Largest picture accepted, bytes.
    pub max_upload: usize,
}

pub struct App {
    client: ProtoClient<(ConnId, Pending, Instant)>,
    pages: Pages,
    avatars: AvatarRoutes,
    metrics: Arc<Metrics>,
    authd_latency: LocalHistogram,
    started: bool,
}

const UPLOAD_PATH: &str = "/edit/avatar";
const AVATAR_PREFIX: &str = "/avatars/";
const METRICS_PATH: &str = "/metrics";
const HEALTH_PATH: &str = "/healthz";

impl App {
    pub fn new(
        authd: ClientConfig,
        secure_cookies: bool,
        avatars: AvatarRoutes,
        metrics: Arc<Metrics>,
    ) -> Self {
        App {
            client: ProtoClient::new(authd, FOREIGN_TOKEN_BASE, Instant::now()),
            pages: Pages { secure_cookies },
            avatars,
            authd_latency: metrics
                .histogram(
                    "webd_authd_call_seconds",
                    "Time from a call to authd to its answer.",
                )
                .local(),
            metrics,
            started: false,
        }
    }

    fn collect(&mut self, done: &mut Done, now: Instant) {
        let (pages, metrics, latency) = (&self.pages, &self.metrics, &mut self.authd_latency);
        self.client.drain(|c| {
            let (conn, pending, started) = c.tag;
            latency.record(now.saturating_duration_since(started));
            if let Err(e) = &c.result {
                let kind = match e {
                    CallError::Timeout => "timeout",
                    CallError::Disconnected => "disconnected",
                    _ => "other",
                };
                let name = format!("webd_authd_call_errors_total{{error=\"{kind}\"}}");
                metrics
                    .counter(&name, "Calls to authd that got no answer.")
                    .inc();
            }
            let answer = match pending {
                Pending::Api(endpoint) => api::answer(endpoint, c.result),
                Pending::Page(call) => pages.finish(call, c.result),
            };
            done.push((conn, answer));
        });
    }

    fn call(
        &mut self,
        env: &mut Env<'_>,
        conn: ConnId,
        opcode: Opcode,
        args: &[String],
        pending: Pending,
    ) -> Result<(), CallError> {
        let fields = |w: &mut throng_core::proto::FieldWriter<'_>| api::write_fields(args, w);
        let result = self.client.call(
            env.registry,
            env.now,
            opcode as u8,
            fields,
            (conn, pending, env.now),
        );
        if let Err(e) = &result {
            let kind = match e {
                CallError::NoBackend => "no_backend",
                CallError::Busy => "busy",
                _ => "other",
            };
            let name = format!("webd_authd_call_errors_total{{error=\"{kind}\"}}");
            self.metrics
                .counter(&name, "Calls to authd that got no answer.")
                .inc();
        }
        result
    }

    fn upload(&mut self, conn: ConnId, head: &Head<'_>, body: &[u8]) -> Outcome {
        let Some(token) = pages::session(head) else {
            return Outcome::Now(pages::redirect("/login"));
        };
        let content_type = head
            .content_type
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default();
        let task = Task {
            conn,
            reply: self.avatars.replies.clone(),
            kind: TaskKind::Upload {
                body: body.to_vec(),
                content_type,
                csrf_cookie: pages::csrf_cookie_value(head),
                token,
                max_bytes: self.avatars.max_upload,
            },
        };
        match self.avatars.pool.submit(task) {
            Ok(()) => Outcome::Later,
            Err(_) => Outcome::Now(pages::edit_error(UploadError::Busy)),
        }
    }

    fn serve_avatar(&mut self, conn: ConnId, head: &Head<'_>) -> Outcome {
        let id = &head.path[AVATAR_PREFIX.len()..];
        if !store::valid_id(id) {
            return Outcome::Now(Response::html(404, "<h1>404 Not Found</h1>\n"));
        }
        // The id is the content's hash: a client holding it holds the picture.
        if head
            .if_none_match
            .is_some_and(|tags| String::from_utf8_lossy(tags).contains(id))
        {
            return Outcome::Now(avatar_headers(Response::new(304), id));
        }
        let task = Task {
            conn,
            reply: self.avatars.replies.clone(),
            kind: TaskKind::Read {
                id: id.to_owned(),
                head_only: head.method == "HEAD",
            },
        };
        match self.avatars.pool.submit(task) {
            Ok(()) => Outcome::Later,
            Err(_) => Outcome::Now(Response::new(503).header("Retry-After: 1")),
        }
    }
}

fn avatar_headers(r: Response, id: &str) -> Response {
    r.header(format!("ETag: \"{id}\""))
        .header("Cache-Control: public, max-age=31536000, immutable")
        .header("X-Content-Type-Options: nosniff")
}

impl Routes for App {
    type Reply = AvatarReply;

    fn route_label(&self, path: &str) -> &'static str {
        const FIXED: &[&str] = &[
            "/",
            "/signup",
            "/login",
            "/home",
            "/edit",
            "/logout",
            "/style.css",
            UPLOAD_PATH,
            METRICS_PATH,
            HEALTH_PATH,
            "/get_verification",
            "/post_registration",
            "/check_accountexists",
            "/reset_password",
            "/trylogin_server",
        ];
        if path.starts_with(AVATAR_PREFIX) {
            return "/avatars/{id}";
        }
        FIXED
            .iter()
            .find(|p| **p == path)
            .copied()
            .unwrap_or("other")
    }

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
        if path == UPLOAD_PATH {
            return match method {
                // Room for the multipart framing around a picture at the limit.
                "POST" => Ok(self.avatars.max_upload + 64 * 1024),
                _ => {
                    Err(Response::html(405, "<h1>405 Method Not Allowed</h1>\n")
                        .header("Allow: POST"))
                }
            };
        }
        if path.starts_with(AVATAR_PREFIX) || path == METRICS_PATH || path == HEALTH_PATH {
            return match method {
                "GET" | "HEAD" => Ok(0),
                _ => Err(Response::html(405, "<h1>405 Method Not Allowed</h1>\n")
                    .header("Allow: GET, HEAD")),
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
        if head.path == UPLOAD_PATH {
            return self.upload(conn, head, body);
        }
        if head.path.starts_with(AVATAR_PREFIX) {
            return self.serve_avatar(conn, head);
        }
        if head.path == HEALTH_PATH {
            // Healthy: at least one authd backend answers.
            let up = self.client.links().any(|(_, state)| state == LinkState::Up);
            return Outcome::Now(if up {
                Response::new(200)
                    .header("Content-Type: text/plain")
                    .body("ok\n")
            } else {
                Response::new(503)
                    .header("Content-Type: text/plain")
                    .body("no authd backend answers\n")
            });
        }
        if head.path == METRICS_PATH {
            return Outcome::Now(
                Response::new(200)
                    .header("Content-Type: text/plain; version=0.0.4")
                    .header("Cache-Control: no-store")
                    .body(self.metrics.render()),
            );
        }
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
        match self.call(env, conn, opcode, &args, pending) {
            Ok(()) => Outcome::Later,
            Err(e) => Outcome::Now(match api::endpoint(head.path) {
                Some(endpoint) => api::answer(endpoint, Err::<_, CallError>(e)),
                None => self.pages.finish_failed(),
            }),
        }
    }

    fn foreign(&mut self, _: Token, event: &Event, env: &mut Env<'_>, done: &mut Done) {
        self.client.event(env.registry, event, env.now);
        self.collect(done, env.now);
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
        self.collect(done, env.now);
        self.authd_latency.maybe_flush(env.now);
    }

    fn reply(&mut self, reply: AvatarReply, env: &mut Env<'_>, done: &mut Done) {
        match reply {
            AvatarReply::Read {
                conn,
                id,
                head_only: _,
                bytes,
            } => {
                let answer = match bytes {
                    Some(png) => avatar_headers(
                        Response::new(200)
                            .header("Content-Type: image/png")
                            .body(png),
                        &id,
                    ),
                    None => Response::html(404, "<h1>404 Not Found</h1>\n"),
                };
                done.push((conn, answer));
            }
            AvatarReply::Stored {
                conn,
                token,
                result,
            } => match result {
                Ok(id) => {
                    let args = [token, id];
                    if self
                        .call(
                            env,
                            conn,
                            Opcode::ChangeAvatar,
                            &args,
                            Pending::Page(PageCall::AvatarSaved),
                        )
                        .is_err()
                    {
                        done.push((conn, pages::edit_error(UploadError::Busy)));
                    }
                }
                Err(e) => done.push((conn, pages::edit_error(e))),
            },
            AvatarReply::Panicked { conn } => done.push((
                conn,
                Response::html(500, "<h1>500 Internal Server Error</h1>\n"),
            )),
        }
    }
}
