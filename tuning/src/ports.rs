//! The ports Throng's processes listen on, as one list, for
//! `net.ipv4.ip_local_reserved_ports`. The mass profile widens the
//! ephemeral range to 1024–65535 so that a million client sockets fit; every
//! Throng listener then lies inside it, and without a reservation a client
//! socket (or its TIME_WAIT) that the kernel gave such a port as its source
//! keeps a daemon from binding it at its next start. Reserved ports are
//! still bindable by a server that asks for them; the kernel only stops
//! handing them out as ephemeral source ports.
//!
//! Blocks rather than single ports: each covers a family (the daemons and
//! their metrics, the stores, the cluster, the bench anchors, the mass
//! scenarios), so a port added inside a family is covered without a change
//! here; the stores' standard ports are in too, for the hosts of DEPLOY.md.
//! A test reads every shipped config and script that names a port and
//! fails on one outside these blocks.

use std::fmt;

/// A run of ports and what uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortBlock {
    pub first: u16,
    pub last: u16,
    pub what: &'static str,
}

/// Every port a Throng process (or a store it starts) listens on.
pub const THRONG_PORTS: &[PortBlock] = &[
    PortBlock {
        first: 3306,
        last: 3306,
        what: "MariaDB on a host of its own (DEPLOY.md)",
    },
    PortBlock {
        first: 4444,
        last: 4444,
        what: "Galera state transfer on a host of its own",
    },
    PortBlock {
        first: 4567,
        last: 4568,
        what: "Galera replication and IST on a host of its own",
    },
    PortBlock {
        first: 6379,
        last: 6380,
        what: "Redis on a host of its own",
    },
    PortBlock {
        first: 7070,
        last: 7070,
        what: "core ping server's default",
    },
    PortBlock {
        first: 9000,
        last: 9999,
        what: "webd, authd, their metrics, the exporters and Prometheus",
    },
    PortBlock {
        first: 13306,
        last: 13306,
        what: "MariaDB of `make up`",
    },
    PortBlock {
        first: 16379,
        last: 16380,
        what: "Redis of `make up`; the cluster bus of Redis on 6379-6380 (DEPLOY.md)",
    },
    PortBlock {
        first: 17000,
        last: 17999,
        what: "bench anchors (ping, Redis, nginx, hyper) and the Redis Cluster",
    },
    PortBlock {
        first: 19000,
        last: 19999,
        what:
            "the cluster's Prometheus and load balancer statistics; the bench scripts' own daemons",
    },
    PortBlock {
        first: 23300,
        last: 23399,
        what: "the stores' alternative ports (CI beside a running stack)",
    },
    PortBlock {
        first: 24560,
        last: 24599,
        what: "Galera replication, IST and SST",
    },
    PortBlock {
        first: 26379,
        last: 26379,
        what: "Redis's alternative port",
    },
    PortBlock {
        first: 27000,
        last: 27099,
        what: "the Redis Cluster's bus (its ports + 10,000)",
    },
    PortBlock {
        first: 28680,
        last: 29999,
        what: "the cluster's massd and the bench mass scenarios (original, C200K, C1M)",
    },
    PortBlock {
        first: 38600,
        last: 38699,
        what: "massd of `make up` (counter and admin ports)",
    },
];

/// Whether `port` is in one of the blocks.
pub fn reserved(port: u16) -> bool {
    THRONG_PORTS
        .iter()
        .any(|b| (b.first..=b.last).contains(&port))
}

/// How many ports the blocks hold.
pub fn count() -> u64 {
    THRONG_PORTS
        .iter()
        .map(|b| u64::from(b.last - b.first) + 1)
        .sum()
}

/// The blocks as the kernel writes the knob: `7070,9000-9999,…`.
pub fn sysctl_value() -> String {
    PortSet::from_blocks(THRONG_PORTS.iter().map(|b| (b.first, b.last))).to_string()
}

/// A set of ports in the kernel's `a-b,c` notation, kept as sorted,
/// merged ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortSet(Vec<(u16, u16)>);

impl PortSet {
    pub fn from_blocks(blocks: impl IntoIterator<Item = (u16, u16)>) -> PortSet {
        let mut v: Vec<(u16, u16)> = blocks.into_iter().collect();
        v.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match merged.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        PortSet(merged)
    }

    /// Parses `a-b,c` (whitespace allowed, empty = no ports); `None` on
    /// anything else.
    pub fn parse(text: &str) -> Option<PortSet> {
        let mut blocks = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
                None => {
                    let p: u16 = part.parse().ok()?;
                    (p, p)
                }
            };
            if a > b {
                return None;
            }
            blocks.push((a, b));
        }
        Some(PortSet::from_blocks(blocks))
    }

    /// Whether every port of `other` is in `self`.
    pub fn contains(&self, other: &PortSet) -> bool {
        other
            .0
            .iter()
            .all(|(a, b)| self.0.iter().any(|(x, y)| x <= a && b <= y))
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        PortSet::from_blocks(self.0.iter().chain(&other.0).copied())
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (a, b)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if a == b {
                write!(f, "{a}")?;
            } else {
                write!(f, "{a}-{b}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_parse_merge_and_contain() {
        let s = PortSet::parse("9000-9999, 13306,9500-10010").unwrap();
        assert_eq!(s.to_string(), "9000-10010,13306");
        assert!(s.contains(&PortSet::parse("9090,13306").unwrap()));
        assert!(!s.contains(&PortSet::parse("9090,13307").unwrap()));
        assert!(!s.contains(&PortSet::parse("10000-10011").unwrap()));
        assert_eq!(PortSet::parse("").unwrap(), PortSet::default());
        assert!(PortSet::parse("10-9").is_none());
        assert!(PortSet::parse("70000").is_none());
        assert!(PortSet::parse("a-b").is_none());
        let u = PortSet::parse("1-3")
            .unwrap()
            .union(&PortSet::parse("4,8").unwrap());
        assert_eq!(u.to_string(), "1-4,8");
    }

    #[test]
    fn the_blocks_do_not_overlap_and_render_as_listed() {
        let value = sysctl_value();
        assert_eq!(
            PortSet::parse(&value).unwrap().0.len(),
            THRONG_PORTS.len(),
            "{value}"
        );
        assert!(reserved(9090) && reserved(38677) && reserved(29501));
        assert!(!reserved(40000));
    }
}
