//! `hyper-anchor`: the second web anchor of `bench compare`. hyper is the
//! HTTP/1.1 stack under most Rust web frameworks (axum, warp, actix's
//! peers); this serves one file — the bytes webd answers to `GET /login` —
//! as plainly as hyper allows (keep-alive, no routing layer, no logging),
//! on a tokio runtime with one worker per core, so webd is compared with
//! the best a framework built on it could do.

use bytes::Bytes;
use clap::Parser;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:17081")]
    listen: SocketAddr,
    /// The page to serve at `/login` (bench compare writes webd's there).
    #[arg(long)]
    page: PathBuf,
    /// Runtime worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let page = Bytes::from(
        std::fs::read(&args.page).map_err(|e| format!("{}: {e}", args.page.display()))?,
    );
    let threads = throng_core::cores::or_per_core(args.threads);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_io()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(serve(args.listen, page))
}

async fn serve(listen: SocketAddr, page: Bytes) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("{listen}: {e}"))?;
    println!("hyper anchor on {listen}");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors or the like: the connections already open
            // go on; try again shortly.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let page = page.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let page = page.clone();
                async move { Ok::<_, Infallible>(answer(&request, page)) }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(request: &Request<Incoming>, page: Bytes) -> Response<Full<Bytes>> {
    if request.uri().path() != "/login" {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    }
    let mut r = Response::new(Full::new(page));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}
