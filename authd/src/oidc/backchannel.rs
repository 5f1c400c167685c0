//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a
//! Throng session ends, every client that got a grant in it and registered
//! a `backchannel_logout_uri` is sent a signed logout token, server to
//! server, so it ends its own session even when the browser never visits
//! it again. Chosen over front-channel logout because browsers that block
//! third-party cookies break the iframes front-channel needs.
//!
//! The POSTs leave from one thread of their own through a bounded queue:
//! a slow or dead client never holds a worker, and a full queue drops the
//! notice (counted and logged) rather than grow. No redirects are
//! followed; the token never reaches a log.

use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

/// One logout token for one client.
pub struct Notice {
    pub client_id: String,
    pub uri: String,
    pub logout_token: String,
}

/// Where notices are queued.
#[derive(Clone)]
pub struct Backchannel {
    tx: Sender<Notice>,
    dropped: throng_core::metrics::Counter,
}

impl Backchannel {
    /// Starts the sender thread; it ends once every `Backchannel` is gone
    /// and the queue is sent.
    pub fn start(
        queue: usize,
        timeout: Duration,
        metrics: &throng_core::metrics::Metrics,
    ) -> Result<(Backchannel, JoinHandle<()>), String> {
        let (tx, rx) = crossbeam_channel::bounded(queue.max(1));
        let sent = metrics.counter(
            "authd_oidc_backchannel_total{result=\"sent\"}",
            "Back-channel logout notices, by how they ended.",
        );
        let failed = metrics.counter(
            "authd_oidc_backchannel_total{result=\"failed\"}",
            "Back-channel logout notices, by how they ended.",
        );
        let dropped = metrics.counter(
            "authd_oidc_backchannel_total{result=\"dropped\"}",
            "Back-channel logout notices, by how they ended.",
        );
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        let handle = std::thread::Builder::new()
            .name("oidc-backchannel".into())
            .spawn(move || send_all(&rx, &agent, &sent, &failed))
            .map_err(|e| e.to_string())?;
        Ok((Backchannel { tx, dropped }, handle))
    }

    /// Queues a notice; a full queue drops it.
    pub fn send(&self, notice: Notice) {
        match self.tx.try_send(notice) {
            Ok(()) => {}
            Err(TrySendError::Full(n)) | Err(TrySendError::Disconnected(n)) => {
                self.dropped.inc();
                log::warn!(
                    "back-channel logout to client {} dropped: the queue is full",
                    n.client_id
                );
            }
        }
    }
}

fn send_all(
    rx: &Receiver<Notice>,
    agent: &ureq::Agent,
    sent: &throng_core::metrics::Counter,
    failed: &throng_core::metrics::Counter,
) {
    for notice in rx {
        let result = agent
            .post(&notice.uri)
            .header("Cache-Control", "no-store")
            .send_form([("logout_token", notice.logout_token.as_str())]);
        // The spec's success is 200 (or 204); anything else is the
        // client's failure, said without the token.
        match result {
            Ok(r) if r.status().is_success() => sent.inc(),
            Ok(r) => {
                failed.inc();
                log::warn!(
                    "back-channel logout to client {}: HTTP {}",
                    notice.client_id,
                    r.status().as_u16()
                );
            }
            Err(e) => {
                failed.inc();
                log::warn!("back-channel logout to client {}: {}", notice.client_id, e);
            }
        }
    }
}
