//! `bench serve-ping`: the core protocol server with no operations beyond
//! `ping` and `stats`, on the core reactor. It is what the `ping` scenario
//! measures: the reactor and the framing, with nothing behind them.

use std::net::SocketAddr;
use throng_core::daemon::DaemonError;
use throng_core::metrics::Metrics;
use throng_core::proto;
use throng_core::reactor::{Placement, ReactorConfig};
use throng_core::rpc::{NoOperations, RpcService};
use throng_core::server;

/// Serves until SIGTERM/SIGINT.
pub fn serve(
    listen: SocketAddr,
    threads: usize,
    max_connections: usize,
    placement: Placement,
) -> Result<(), DaemonError> {
    throng_core::logging::init(&Default::default());
    let config = ReactorConfig {
        listen: vec![listen],
        threads,
        max_connections,
        placement,
        ..ReactorConfig::default()
    };
    throng_core::daemon::self_check(&config, 0, "auth");
    let metrics = Metrics::new();
    let m = metrics.clone();
    let handle = server::start(&config, &metrics, move |_| {
        RpcService::new(NoOperations, proto::DEFAULT_MAX_FRAME, m.clone())
    })?;
    log::info!(
        "ping server on {} with {} threads",
        handle.local_addrs()[0],
        config.thread_count()
    );
    throng_core::daemon::run_until_signalled("ping server", handle, || {})
}
