//! The route table the HTTP-layer tests serve (`http.rs`, `conformance.rs`):
//! `/echo` answers the body it got (up to [`ECHO_LIMIT`] bytes); `/` a
//! small page; `/nocontent` a 204 and `/notmodified` a 304 (both without a
//! body); anything else 404. Wrong methods get 405 with `Allow`.

#![allow(dead_code)]

use std::time::Duration;
use throng_core::metrics::Metrics;
use throng_core::reactor::{ConnId, Env, ReactorConfig};
use throng_core::server::{self, ServerHandle};
use webd::http::{Head, HttpLimits, HttpService, Outcome, Response, Routed, Routes};

pub struct Table;

pub const PAGE: &str = "<!doctype html><h1>Throng</h1><p>a test page of the HTTP layer</p>";

/// The body limit of `/echo`.
pub const ECHO_LIMIT: usize = 1024;

/// The test table's routes.
#[derive(Clone, Copy)]
pub enum TestRoute {
    Echo,
    Page,
    NoContent,
    NotModified,
}

impl Routes for Table {
    type Route = TestRoute;
    type Reply = ();

    fn route(&self, method: &str, path: &str) -> Routed<TestRoute> {
        let route = match (method, path) {
            ("POST", "/echo") => Ok((TestRoute::Echo, ECHO_LIMIT)),
            (_, "/echo") => Err(Response::new(405).header("Allow: POST")),
            ("GET" | "HEAD", "/") => Ok((TestRoute::Page, 0)),
            ("GET" | "HEAD", "/nocontent") => Ok((TestRoute::NoContent, 0)),
            ("GET" | "HEAD", "/notmodified") => Ok((TestRoute::NotModified, 0)),
            (_, "/" | "/nocontent" | "/notmodified") => {
                Err(Response::html(405, "<h1>405</h1>").header("Allow: GET, HEAD"))
            }
            _ => Err(Response::html(404, "<h1>404 Not Found</h1>\n")),
        };
        Routed {
            label: "test",
            route,
        }
    }

    fn handle(
        &mut self,
        route: TestRoute,
        _: ConnId,
        _: std::net::IpAddr,
        _: &Head<'_>,
        body: &[u8],
        _: &mut Env<'_>,
    ) -> Outcome {
        Outcome::Now(match route {
            TestRoute::Echo => Response::new(200)
                .header("Content-Type: text/plain")
                .body(body.to_vec()),
            TestRoute::NoContent => Response::new(204),
            TestRoute::NotModified => Response::new(304),
            TestRoute::Page => Response::html(200, PAGE),
        })
    }
}

/// The table on an ephemeral port with `threads` reactors.
pub fn start_server(limits: HttpLimits, threads: usize) -> ServerHandle {
    let cfg = ReactorConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        threads,
        drain_timeout: Duration::from_secs(2),
        ..ReactorConfig::default()
    };
    server::start(&cfg, &Metrics::new(), move |_| {
        HttpService::new(Table, limits.clone())
    })
    .unwrap()
}
