//! webd's own HTTP/1.1 layer on `httparse`: request heads parsed without
//! allocating per header ([`head`]), bodies by Content-Length or chunked
//! coding ([`body`]), responses with a Date cached per second
//! ([`response`]), and the connection logic on the core reactor — keep-alive,
//! pipelined requests answered in order, `Expect: 100-continue`, HEAD, the
//! limits with their status codes and a header deadline against slowloris
//! ([`conn`]). What a request means is a [`Routes`] implementation's
//! business.

pub mod body;
pub mod conn;
pub mod forwarded;
pub mod head;
pub mod limits;
pub mod response;
pub mod routes;

pub use conn::HttpService;
pub use head::{Head, HttpError};
pub use limits::HttpLimits;
pub use response::Response;
pub use routes::{Done, Outcome, Routed, Routes};
