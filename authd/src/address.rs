//! Client addresses as the limits count them. An IPv4 address is one
//! bucket; an IPv6 address is counted by its /64, since one subscriber
//! usually holds a whole /64 (and privacy addresses rotate inside it), so
//! keying whole addresses would give one attacker 2^64 fresh buckets.
//! Anything that does not parse is its own bucket, as given.

use std::net::IpAddr;

/// The bucket `ip` counts in ("" stays "": no address).
pub fn bucket(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_by_its_64_and_ipv4_whole() {
        assert_eq!(bucket("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            bucket("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_ne!(bucket("2001:db8:1:3::1"), bucket("2001:db8:1:2::1"));
        assert_eq!(bucket("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(bucket("192.0.2.7"), "192.0.2.7");
        assert_eq!(bucket(""), "");
        assert_eq!(bucket("not an address"), "not an address");
    }
}
