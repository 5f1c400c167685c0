//! The limits of the HTTP layer, each with the status it answers.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// Longest request line (method, target, version); beyond: 414.
    pub max_request_line: usize,
    /// Longest request head (line and headers); beyond: 431.
    pub max_head: usize,
    /// Most header fields; beyond: 431.
    pub max_headers: usize,
    /// Body limit of upload routes; beyond: 413. (Every other route's
    /// limit is fixed in the route table, `route.rs`: 0 for GET and HEAD,
    /// 8 KiB for the page forms, 4 KiB for the API.)
    pub max_upload: usize,
    /// A request head must arrive completely within this; else 408.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// A request body must arrive completely within this of its head; else
    /// 408. Absolute, so a body that drips a byte at a time ends too.
    #[serde(with = "humantime_serde")]
    pub body_timeout: Duration,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is
    /// believed: a request from one of them is taken to come from the
    /// address the header names (walking right to left past further
    /// trusted proxies). From anyone else the header is ignored, so it
    /// cannot forge an address for the per-address limits. Empty: none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_request_line: 8 * 1024,
            max_head: 16 * 1024,
            max_headers: 64,
            max_upload: 5 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            trusted_proxies: Vec::new(),
        }
    }
}

/// The most headers `httparse` is given room for (stack array size).
pub const HEADER_SLOTS: usize = 128;
