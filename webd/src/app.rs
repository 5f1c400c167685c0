//! webd's routes: the pages and the gateway JSON API, answered through
//! authd, and the avatars, processed and served by the avatar pool. One
//! `App` per reactor, with its own protocol client to every authd backend
//! (a dead one is skipped) and its own reply channel from the avatar pool.

use crate::api::Endpoint;
use crate::avatars::{store, AvatarPool, AvatarReply, Task, TaskKind, UploadError};
use crate::http::{Done, Head, Outcome, Response, Routed, Routes};
use crate::pages::csrf::Holder;
use crate::pages::{self, PageCall, Pages, RequestCookies, Step};
use crate::route::{Route, AVATAR_PREFIX};
use authd_wire::ops::{ChangeAvatar, ValidateSession};
use authd_wire::Request;
use mio::event::Event;
use mio::Token;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use throng_core::client::{
    CallError, ClientConfig, LinkState, ProtoClient, Replay, Response as Answer,
};
use throng_core::handoff::ReplySender;
use throng_core::metrics::{LocalHistogram, Metrics};
use throng_core::reactor::{ConnId, Env, FOREIGN_TOKEN_BASE};

/// What an authd call in flight will answer.
pub enum Pending {
    Api(&'static Endpoint),
    Page(PageCall),
    /// An upload whose session authd must confirm before the picture is
    /// decoded or stored: nothing of it reaches the avatar pool (or the
    /// disk) for a session authd does not know.
    Upload(Box<Task>),
    /// A staged picture waiting for authd to take it as the avatar: then
    /// published, else discarded ([`crate::avatars::store`]).
    Avatar(crate::avatars::store::Staged),
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
    /// When this App was made: the wake-up that starts the client.
    created: Instant,
}

impl App {
    pub fn new(
        authd: ClientConfig,
        pages: Pages,
        avatars: AvatarRoutes,
        metrics: Arc<Metrics>,
    ) -> Self {
        App {
            client: ProtoClient::new(authd, FOREIGN_TOKEN_BASE, Instant::now()),
            pages,
            avatars,
            authd_latency: metrics
                .histogram(
                    "webd_authd_call_seconds",
                    "Time from a call to authd to its answer.",
                )
                .local(),
            metrics,
            started: false,
            created: Instant::now(),
        }
    }

    fn collect(&mut self, done: &mut Done, now: Instant) {
        let (pages, metrics, latency) = (&self.pages, &self.metrics, &mut self.authd_latency);
        let pool = &self.avatars.pool;
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
                Pending::Api(endpoint) => (endpoint.finish)(c.result),
                Pending::Page(call) => pages.finish(call, c.result),
                Pending::Avatar(staged) => {
                    let accepted = pages.avatar_taken(c.result);
                    let keep = accepted.is_ok();
                    let settle = Task {
                        conn,
                        reply: self.avatars.replies.clone(),
                        kind: TaskKind::Settle { staged, keep },
                    };
                    match (pool.submit(settle), accepted) {
                        // The pool answers once the file is published.
                        (Ok(()), Ok(())) => return,
                        // Discarded by the pool; the refusal answers now.
                        (Ok(()), Err(refusal)) => refusal,
                        (Err(task), accepted) => {
                            let TaskKind::Settle { staged, keep } = task.kind else {
                                unreachable!("a settle task comes back as one")
                            };
                            let settled = pool.settle_now(staged, keep);
                            match accepted {
                                Ok(()) if settled => pages::redirect("/home"),
                                Ok(()) => pages::edit_error(UploadError::Failed),
                                Err(refusal) => refusal,
                            }
                        }
                    }
                }
                Pending::Upload(task) => {
                    match session_confirmed(c.result, self.pages.secure_cookies) {
                        Ok(()) => match pool.submit(*task) {
                            Ok(()) => return, // the avatar pool answers
                            Err(_) => pages::edit_error(UploadError::Busy),
                        },
                        Err(refusal) => refusal,
                    }
                }
            };
            done.push((conn, answer));
        });
    }

    fn call(
        &mut self,
        env: &mut Env<'_>,
        conn: ConnId,
        request: &Request,
        pending: Pending,
    ) -> Result<(), CallError> {
        let result = self.client.call(
            env.now,
            request.opcode().into(),
            if request.repeatable() {
                Replay::Repeatable
            } else {
                Replay::IfUnsent
            },
            |w| request.encode(w),
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

    fn upload(
        &mut self,
        env: &mut Env<'_>,
        conn: ConnId,
        head: &Head<'_>,
        body: &[u8],
        cookies: RequestCookies,
    ) -> Outcome {
        let Some(token) = cookies.session else {
            return Outcome::Now(pages::redirect("/login"));
        };
        let content_type = head
            .content_type
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default();
        let check = Request::ValidateSession(ValidateSession {
            token: token.as_str().into(),
        });
        let task = Task {
            conn,
            reply: self.avatars.replies.clone(),
            kind: TaskKind::Upload {
                body: body.to_vec(),
                content_type,
                expected_csrf: self.pages.csrf.token(Holder::Session(&token)),
                token,
                max_bytes: self.avatars.max_upload,
            },
        };
        match self.call(env, conn, &check, Pending::Upload(Box::new(task))) {
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

/// Whether authd confirmed an upload's session, or the answer refusing it.
fn session_confirmed(result: Result<Answer, CallError>, secure: bool) -> Result<(), Response> {
    let Ok(answer) = result else {
        return Err(pages::edit_error(UploadError::Busy));
    };
    match authd_wire::decode_answer::<ValidateSession>(answer.header.status, &answer.body) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(refusal)) if refusal.status == authd_wire::Status::NoSession => {
            Err(pages::redirect("/login").header(pages::clear_session_cookie(secure)))
        }
        _ => Err(pages::edit_error(UploadError::Busy)),
    }
}

fn avatar_headers(r: Response, id: &str) -> Response {
    r.header(format!("ETag: \"{id}\""))
        .header("Cache-Control: public, max-age=31536000, immutable")
        .header("X-Content-Type-Options: nosniff")
}

impl Routes for App {
    type Route = Route;
    type Reply = AvatarReply;

    fn route(&self, method: &str, path: &str) -> Routed<Route> {
        match Route::resolve(path) {
            Some(route) => Routed {
                label: route.label(),
                route: route
                    .body_limit(method, self.avatars.max_upload)
                    .map(|limit| (route, limit)),
            },
            None => Routed {
                label: "other",
                route: Err(Response::html(404, "<h1>404 Not Found</h1>\n")),
            },
        }
    }

    fn handle(
        &mut self,
        route: Route,
        conn: ConnId,
        client: IpAddr,
        head: &Head<'_>,
        body: &[u8],
        env: &mut Env<'_>,
    ) -> Outcome {
        let (request, pending) = match route {
            Route::Upload => {
                let cookies = RequestCookies::parse(head, self.pages.secure_cookies);
                return self.upload(env, conn, head, body, cookies);
            }
            Route::Avatar => return self.serve_avatar(conn, head),
            Route::Health => {
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
            Route::Api(endpoint) => match (endpoint.parse)(body, client) {
                Ok(request) => (request, Pending::Api(endpoint)),
                Err(refusal) => return Outcome::Now(refusal),
            },
            page => {
                let cookies = RequestCookies::parse(head, self.pages.secure_cookies);
                match self.pages.start(page, head, client, body, &cookies) {
                    Step::Now(response) => return Outcome::Now(response),
                    Step::Call { request, then } => (request, Pending::Page(then)),
                }
            }
        };
        let api = match &pending {
            Pending::Api(endpoint) => Some(*endpoint),
            _ => None,
        };
        match self.call(env, conn, &request, pending) {
            Ok(()) => Outcome::Later,
            Err(e) => Outcome::Now(match api {
                Some(endpoint) => (endpoint.finish)(Err(e)),
                None => self.pages.finish_failed(),
            }),
        }
    }

    fn foreign(&mut self, _: Token, event: &Event, env: &mut Env<'_>, done: &mut Done) {
        self.client.event(env.registry, event, env.now);
        self.collect(done, env.now);
    }

    /// Right away until the client has started, then at the client's next
    /// deadline or the next merge of latency samples; nothing when idle.
    /// Finished calls never wait for a wake-up: every hook that can finish
    /// one (an event, a tick, the flush at the end of a turn) collects.
    fn next_wakeup(&self) -> Option<Instant> {
        if !self.started {
            return Some(self.created); // long past: at once
        }
        [self.client.next_deadline(), self.authd_latency.next_flush()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The calls this turn of the loop queued leave together, one write per
    /// authd connection; a call whose connection broke while sending is
    /// answered (or moved to another authd) in the same turn.
    fn before_sleep(&mut self, env: &mut Env<'_>, done: &mut Done) {
        if self.client.has_unsent() {
            self.client.flush_unsent(env.registry, env.now);
        }
        if self.client.has_completions() {
            self.collect(done, env.now);
        }
    }

    fn wakeup(&mut self, env: &mut Env<'_>, done: &mut Done) {
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
                Ok(staged) => {
                    let request = Request::ChangeAvatar(ChangeAvatar {
                        token: token.into(),
                        photo: staged.id.clone(),
                    });
                    // On a refused call the staged file stays for the
                    // store's sweep.
                    if self
                        .call(env, conn, &request, Pending::Avatar(staged))
                        .is_err()
                    {
                        done.push((conn, pages::edit_error(UploadError::Busy)));
                    }
                }
                Err(e) => done.push((conn, pages::edit_error(e))),
            },
            // A discarded picture's connection was answered already.
            AvatarReply::Settled { keep: false, .. } => {}
            AvatarReply::Settled { conn, ok, .. } => done.push((
                conn,
                if ok {
                    pages::redirect("/home")
                } else {
                    pages::edit_error(UploadError::Failed)
                },
            )),
            AvatarReply::Panicked { conn } => done.push((
                conn,
                Response::html(500, "<h1>500 Internal Server Error</h1>\n"),
            )),
        }
    }
}
