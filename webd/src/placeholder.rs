//! The placeholder routes until the pages land: `GET /` (and `HEAD /`)
//! answer a page saying the stack is up and the web front is not built yet;
//! other methods on `/` are 405, other paths 404.

use crate::http::{Head, Outcome, Response, Routes};
use throng_core::reactor::{ConnId, Env};

const PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Throng</title></head><body>\n<h1>Throng</h1>\n<p>The stack is up. The web \
front (sign-up, log-in, profiles) is not built yet: this is webd's placeholder \
page.</p>\n</body></html>\n";

#[derive(Default)]
pub struct Placeholder;

impl Placeholder {
    pub fn new() -> Self {
        Placeholder
    }
}

impl Placeholder {
    /// The page.
    pub fn page() -> Response {
        Response::html(200, PAGE)
    }
}

impl Routes for Placeholder {
    type Reply = ();

    fn route(&self, method: &str, path: &str) -> Result<usize, Response> {
        match (method, path) {
            ("GET" | "HEAD", "/") => Ok(0),
            (_, "/") => {
                Err(Response::html(405, "<h1>405 Method Not Allowed</h1>\n")
                    .header("Allow: GET, HEAD"))
            }
            _ => Err(Response::html(404, "<h1>404 Not Found</h1>\n")),
        }
    }

    fn handle(&mut self, _: ConnId, _: &Head<'_>, _: &[u8], _: &mut Env<'_>) -> Outcome {
        Outcome::Now(Self::page())
    }
}
