//! Answers that come later: the application's own events (its sockets,
//! worker replies, wake-ups) produce responses in a `Done` list, written
//! here in order with the requests pipelined behind them.

use super::{HttpConn, HttpService};
use crate::http::routes::{Done, Routes};
use mio::event::Event;
use mio::Token;
use std::time::Instant;
use throng_core::reactor::{Conns, Driven, Env};

/// The application's own events; what they answer is written here, in
/// order with the requests pipelined behind.
impl<R: Routes> Driven<HttpConn<R::Route>> for HttpService<R> {
    type Reply = R::Reply;

    fn foreign(
        &mut self,
        token: Token,
        event: &Event,
        conns: &mut Conns<'_, HttpConn<R::Route>>,
        env: &mut Env<'_>,
    ) {
        let mut done = Done::new();
        self.routes.foreign(token, event, env, &mut done);
        self.deliver(conns, done);
    }

    /// The application's wake-ups, and the merge of latency samples an
    /// idle reactor still holds.
    fn next_wakeup(&self) -> Option<Instant> {
        let flush = self.metrics.as_ref().and_then(|m| m.latency.next_flush());
        match (self.routes.next_wakeup(), flush) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn wakeup(&mut self, conns: &mut Conns<'_, HttpConn<R::Route>>, env: &mut Env<'_>) {
        if let Some(m) = self.metrics.as_mut() {
            m.latency.maybe_flush(env.now);
        }
        let mut done = Done::new();
        self.routes.wakeup(env, &mut done);
        self.deliver(conns, done);
    }

    fn before_sleep(&mut self, conns: &mut Conns<'_, HttpConn<R::Route>>, env: &mut Env<'_>) {
        let mut done = Done::new();
        self.routes.before_sleep(env, &mut done);
        if !done.is_empty() {
            self.deliver(conns, done);
        }
    }

    fn reply(
        &mut self,
        reply: R::Reply,
        conns: &mut Conns<'_, HttpConn<R::Route>>,
        env: &mut Env<'_>,
    ) {
        let mut done = Done::new();
        self.routes.reply(reply, env, &mut done);
        self.deliver(conns, done);
    }

    fn busy(&self, conn: &HttpConn<R::Route>) -> bool {
        conn.waiting.is_some()
    }
}

impl<R: Routes> HttpService<R> {
    /// Writes answers that came later, then lets the connection go on with
    /// the requests pipelined behind.
    fn deliver(&mut self, conns: &mut Conns<'_, HttpConn<R::Route>>, done: Done) {
        for (id, answer) in done {
            let Some(mut s) = conns.get(id) else {
                continue; // the client left meanwhile
            };
            let Some(waiting) = s.state().waiting.take() else {
                continue;
            };
            let close = answer.close || waiting.close;
            self.send(&mut s, &answer, waiting.head_only, close);
            Self::finished(&mut s);
            if !close {
                s.rerun_input();
            }
        }
    }
}
