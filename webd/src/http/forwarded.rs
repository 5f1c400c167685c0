//! The client address behind a trusted proxy: HAProxy (or any proxy
//! listed in `http.trusted_proxies`) appends the address it accepted the
//! connection from to `X-Forwarded-For`, and that is the address the
//! per-address limits, login records and sign-in checks must see — not
//! the proxy's own, which every request would share.
//!
//! Only the entries added by trusted proxies are believed: the header is
//! read from its right end (the nearest proxy's entry) leftwards, past
//! further trusted proxies, and the first untrusted address is the
//! client. Everything to its left was written by the client and may be
//! forged. A request from an untrusted peer keeps its peer address, with
//! whatever header it sent ignored.

use ipnet::IpNet;
use std::net::IpAddr;

/// The address a request is attributed to.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&[u8]>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for.and_then(|h| std::str::from_utf8(h).ok()) else {
        return peer;
    };
    let mut client = peer;
    for entry in header.rsplit(',') {
        let Some(ip) = parse_entry(entry.trim()) else {
            // Garbage where a proxy's entry should be: believe nothing
            // further left, and keep the last address a proxy vouched for.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// An entry as proxies write them: `192.0.2.1`, `2001:db8::1`, or with a
/// port (`192.0.2.1:5000`, `[2001:db8::1]:5000`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_address() {
        let trusted = nets(&["127.0.0.254/32"]);
        for header in ["203.0.113.9", "127.0.0.254, 203.0.113.9", "::1"] {
            assert_eq!(
                client_ip(ip("127.0.0.2"), Some(header.as_bytes()), &trusted),
                ip("127.0.0.2")
            );
        }
        assert_eq!(client_ip(ip("127.0.0.254"), None, &[]), ip("127.0.0.254"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_forged_entries_to_its_left_are_ignored() {
        let trusted = nets(&["127.0.0.254/32", "10.0.0.0/8"]);
        let proxy = ip("127.0.0.254");
        let cases = [
            ("203.0.113.9", "203.0.113.9"),
            // The client sent "1.2.3.4"; HAProxy appended what it saw.
            ("1.2.3.4, 203.0.113.9", "203.0.113.9"),
            // Two proxies: the inner one (10.1.2.3) is trusted too.
            ("1.2.3.4, 198.51.100.7, 10.1.2.3", "198.51.100.7"),
            ("[2001:db8::5]:4711", "2001:db8::5"),
            ("198.51.100.7:5000", "198.51.100.7"),
            // Nothing a proxy vouched for: the proxy itself.
            ("not an address", "127.0.0.254"),
            ("", "127.0.0.254"),
            ("1.2.3.4, garbage", "127.0.0.254"),
        ];
        for (header, want) in cases {
            assert_eq!(
                client_ip(proxy, Some(header.as_bytes()), &trusted),
                ip(want),
                "{header}"
            );
        }
        assert_eq!(client_ip(proxy, Some(b"\xff\xfe"), &trusted), proxy);
    }
}
