//! `tune plan`: works out every knob of a role's profile from its target
//! (connections, memory, connect rate) and renders the three files — the
//! sysctl.d file, the limits.d file and the systemd drop-in — with what each
//! knob does, why this value, the arithmetic, and where the kernel documents
//! it. The shipped profiles under `tuning/profiles/` are exactly this output
//! for each role's default target (a test keeps them so).

use crate::ports;
use crate::profile::{Knob, Profile};
use crate::role::{Role, Target};
use crate::rule::Rule;

const PAGE: u64 = 4096;
/// Descriptors a process needs beyond its connections.
const FD_RESERVE: u64 = 1024;
/// The kernel's default ceiling for nofile (`fs.nr_open`).
const NR_OPEN_DEFAULT: u64 = 1 << 20;
/// Ephemeral ports per (source address, destination) pair in 1024–65535.
const PORTS_PER_PAIR: u64 = 65_535 - 1024 + 1;
/// How long an accept loop may stall before the backlog must absorb a burst.
const ACCEPT_STALL_MS: u64 = 100;
/// Seconds a closed connection stays in TIME_WAIT (fixed in Linux).
const TIME_WAIT_SECS: u64 = 60;
/// The kernel's bounds for `tcp_child_ehash_entries` (0 = share the
/// initial namespace's table; otherwise a power of two up to 16 Mi).
const EHASH_MIN: u64 = 1 << 17;
const EHASH_MAX: u64 = 1 << 24;
/// Source addresses the massd client fleet spreads over by default when its
/// servers are on loopback (127.0.0.1–16).
const LOOPBACK_SOURCES: u64 = 16;

fn round_up(v: u64, to: u64) -> u64 {
    v.div_ceil(to) * to
}

fn fmt_num(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The command line that reproduces a plan.
pub fn command(role: Role, t: &Target) -> String {
    let memory = if t.memory % (1 << 30) == 0 {
        format!("{}G", t.memory >> 30)
    } else {
        format!("{}M", t.memory >> 20)
    };
    format!(
        "tune plan --role {} --connections {} --memory {memory} --connect-rate {} --server-ports {}{}",
        role,
        t.connections,
        t.connect_rate,
        t.server_ports,
        match (t.clients_on_host, role.default_target().clients_on_host) {
            (true, _) => " --clients-on-host",
            (false, true) => " --clients-on-host false",
            (false, false) => "",
        }
    )
}

/// Computes the profile of `role` for target `t`.
pub fn plan(role: Role, t: &Target) -> Profile {
    let s = t.connections;
    let sockets = t.sockets();
    let both_ends = if t.clients_on_host {
        format!(
            "{} connections with their clients on this host = {} sockets",
            fmt_num(s),
            fmt_num(sockets)
        )
    } else {
        format!("{} connections", fmt_num(s))
    };
    let nofile = (s + FD_RESERVE).next_power_of_two();
    let file_max = round_up(sockets + 65_536, 65_536);
    let burst = t.connect_rate * ACCEPT_STALL_MS / 1000 * 4;
    let backlog = burst.next_power_of_two().clamp(4096, 65_535);
    let tw_buckets = (t.connect_rate * TIME_WAIT_SECS)
        .next_power_of_two()
        .max(131_072);
    let in_flight = role.bytes_in_flight();
    let low = (sockets * in_flight).div_ceil(PAGE);
    let cap = t.memory / 4 / PAGE;
    // The hard limit is twice the data in flight, capped; pressure and the
    // comfortable level follow it at 3/4 and 1/2, so a cap keeps the three
    // apart instead of collapsing them into one.
    let mem_high = (low * 2).min(cap);
    let (mem_low, mem_pressure) = (mem_high / 2, mem_high * 3 / 4);
    let conntrack = round_up(s + s / 4, 65_536);
    let orphans = sockets.next_power_of_two().max(131_072);
    let ehash = sockets.next_power_of_two().clamp(EHASH_MIN, EHASH_MAX);
    // Reserved ports are not handed out as source ports: each pair has
    // that many fewer.
    let reserved = ports::count();
    let per_pair = PORTS_PER_PAIR - reserved;
    let sources = s.div_ceil(per_pair * t.server_ports.max(1));
    let per_loopback_pair = s.div_ceil(LOOPBACK_SOURCES * t.server_ports.max(1));

    let mut knobs = vec![
        Knob::new(
            "fs.nr_open",
            nofile.max(NR_OPEN_DEFAULT).to_string(),
            Rule::AtLeast,
            "Ceiling for any process's open-file limit; setrlimit(RLIMIT_NOFILE) above it fails.",
            format!(
                "Must be >= nofile = {} (limits.d and LimitNOFILE); the kernel default {} is kept when larger.",
                fmt_num(nofile),
                fmt_num(NR_OPEN_DEFAULT)
            ),
            "Documentation/admin-guide/sysctl/fs.rst (nr_open)",
        ),
        Knob::new(
            "fs.file-max",
            file_max.to_string(),
            Rule::AtLeast,
            "System-wide limit on open files; every socket is one.",
            format!(
                "{both_ends} + 65,536 for everything else, rounded up to 65,536 = {}.",
                fmt_num(file_max)
            ),
            "Documentation/admin-guide/sysctl/fs.rst (file-max)",
        ),
        Knob::new(
            "net.core.somaxconn",
            backlog.to_string(),
            Rule::AtLeast,
            "Upper bound of every listen() backlog; a full accept queue drops new connections.",
            format!(
                "{} connects/s x {} ms accept stall x 4 headroom = {}, next power of two, at least 4,096 = {}.",
                fmt_num(t.connect_rate),
                ACCEPT_STALL_MS,
                fmt_num(burst),
                fmt_num(backlog)
            ),
            "Documentation/networking/ip-sysctl.rst (somaxconn)",
        ),
        Knob::new(
            "net.ipv4.tcp_max_syn_backlog",
            backlog.to_string(),
            Rule::AtLeast,
            "Half-open connections remembered per listener before SYN cookies take over.",
            "Sized like somaxconn: the same burst arrives as SYNs first.".into(),
            "Documentation/networking/ip-sysctl.rst (tcp_max_syn_backlog)",
        ),
        Knob::new(
            "net.ipv4.tcp_syncookies",
            "1".into(),
            Rule::Exact,
            "SYN cookies answer a SYN flood without keeping state. Never 0: that removes \
             SYN-flood protection; the backlogs above are sized instead.",
            "1 = cookies only when the SYN queue overflows.".into(),
            "Documentation/networking/ip-sysctl.rst (tcp_syncookies)",
        ),
        Knob::new(
            "net.core.netdev_max_backlog",
            backlog.to_string(),
            Rule::AtLeast,
            "Per-CPU queue of received packets not yet processed; loopback traffic passes through it.",
            "Sized like somaxconn so a connect burst is queued, not dropped.".into(),
            "Documentation/admin-guide/sysctl/net.rst (netdev_max_backlog)",
        ),
        Knob::new(
            "net.ipv4.ip_local_reserved_ports",
            ports::sysctl_value(),
            Rule::Includes,
            "Ports never handed out as ephemeral source ports. The range below covers every \
             port a Throng process listens on; without this a client socket (or its TIME_WAIT) \
             holding one as its source keeps the daemon from binding it at its next start. \
             Set before the range is widened.",
            format!(
                "Throng's listening ports, {} in {} blocks (tuning/src/ports.rs): {}.",
                fmt_num(reserved),
                ports::THRONG_PORTS.len(),
                ports::THRONG_PORTS
                    .iter()
                    .map(|b| b.what)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            "Documentation/networking/ip-sysctl.rst (ip_local_reserved_ports)",
        ),
        Knob::new(
            "net.ipv4.ip_local_port_range",
            "1024 65535".into(),
            Rule::Range,
            "Ephemeral ports for outgoing connections; each (source address, destination) pair \
             can use each port once.",
            format!(
                "{} ports less the {} reserved = {} per pair; {} client connections over {} server \
                 port(s) need {} source address(es). The massd fleet spreads over 127.0.0.1-{} \
                 when its servers are on loopback: {} connections per pair, {:.0} % of a pair's ports.",
                fmt_num(PORTS_PER_PAIR),
                fmt_num(reserved),
                fmt_num(per_pair),
                fmt_num(s),
                t.server_ports,
                sources,
                LOOPBACK_SOURCES,
                fmt_num(per_loopback_pair),
                100.0 * per_loopback_pair as f64 / per_pair as f64
            ),
            "Documentation/networking/ip-sysctl.rst (ip_local_port_range)",
        ),
        Knob::new(
            "net.ipv4.tcp_tw_reuse",
            "1".into(),
            Rule::Exact,
            "Lets new outgoing connections reuse TIME_WAIT ports when timestamps prove it safe \
             (the default 2 allows it on loopback only). The removed tcp_tw_recycle is not used: \
             it broke clients behind NAT and is gone since Linux 4.12.",
            "1 = on for all outgoing connections (clients, and daemons reconnecting to stores).".into(),
            "Documentation/networking/ip-sysctl.rst (tcp_tw_reuse)",
        ),
        Knob::new(
            "net.ipv4.tcp_max_tw_buckets",
            tw_buckets.to_string(),
            Rule::AtLeast,
            "TIME_WAIT sockets kept at once; beyond it they are destroyed early with a warning.",
            format!(
                "{} closes/s x {} s in TIME_WAIT = {}, next power of two, at least 131,072 = {}.",
                fmt_num(t.connect_rate),
                TIME_WAIT_SECS,
                fmt_num(t.connect_rate * TIME_WAIT_SECS),
                fmt_num(tw_buckets)
            ),
            "Documentation/networking/ip-sysctl.rst (tcp_max_tw_buckets)",
        ),
        Knob::new(
            "net.ipv4.tcp_mem",
            format!("{mem_low} {mem_pressure} {mem_high}"),
            Rule::AtLeast,
            "Pages all TCP sockets may use for queued data: below the first no pressure, \
             above the second the stack economises, the third is the hard limit. Idle \
             sockets queue nothing, so only data in flight counts.",
            format!(
                "{} sockets x {} bytes in flight / {} bytes per page = {} pages; the limit is twice \
                 that, capped at a quarter of {} MiB ({} pages); pressure at 3/4 of the limit, \
                 the first at 1/2.",
                fmt_num(sockets),
                fmt_num(in_flight),
                PAGE,
                fmt_num(low),
                fmt_num(t.memory >> 20),
                fmt_num(cap)
            ),
            "Documentation/networking/ip-sysctl.rst (tcp_mem)",
        ),
        Knob::new(
            "net.ipv4.tcp_max_orphans",
            orphans.to_string(),
            Rule::AtLeast,
            "Closed sockets still finishing their FIN exchange, system-wide; beyond it the kernel \
             resets them at once and logs \"too many orphaned sockets\".",
            format!(
                "At `massd stop` every socket of the host may close at once: {} sockets, next power \
                 of two, at least 131,072 = {}.",
                fmt_num(sockets),
                fmt_num(orphans)
            ),
            "Documentation/networking/ip-sysctl.rst (tcp_max_orphans)",
        ),
        Knob::new(
            "net.netfilter.nf_conntrack_max",
            conntrack.to_string(),
            Rule::AtLeast,
            "Connections the firewall tracks; when full, new connections are dropped. Only \
             present when nf_conntrack is loaded (tune reports it absent otherwise).",
            format!(
                "{} connections (one entry each, both ends in one) x 1.25, rounded up to 65,536 = {}.",
                fmt_num(s),
                fmt_num(conntrack)
            ),
            "Documentation/networking/nf_conntrack-sysctl.rst (nf_conntrack_max)",
        ),
    ];
    // Only where one host holds millions of sockets: elsewhere a child
    // namespace is better off sharing the initial table (the kernel's 0).
    if role == Role::Mass {
        let at = knobs
            .iter()
            .position(|k| k.name == "net.ipv4.tcp_max_orphans")
            .unwrap_or(knobs.len());
        knobs.insert(
            at,
        Knob::new(
                "net.ipv4.tcp_child_ehash_entries",
                ehash.to_string(),
                Rule::AtLeast,
                "Size of the established-connection hash table of network namespaces created after \
                 it is set. The initial namespace's table is sized at boot (the thash_entries= \
                 kernel parameter; 262,144 on a 24 GiB host) and cannot change at run time: with \
                 2 M sockets its chains average 8 and the lookup of every packet's socket \
                 (__inet_lookup_established) took 13 % of all CPU in a C1M run. bench/c1m.sh runs \
                 its fleet in a namespace of its own for this.",
                format!(
                    "{} sockets, next power of two, within 131,072-16,777,216 = {}; {} MiB of table.",
                    fmt_num(sockets),
                    fmt_num(ehash),
                    (ehash * 8) >> 20
                ),
                "Documentation/networking/ip-sysctl.rst (tcp_child_ehash_entries)",
            )
        );
    }
    Profile {
        role: Some(role),
        source: command(role, t),
        knobs,
        nofile: Some(nofile),
        nofile_note: format!(
            "{} connections + {} descriptors for listeners, stores, logs, rounded up to a power of two = {}.",
            fmt_num(s),
            fmt_num(FD_RESERVE),
            fmt_num(nofile)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_arithmetic() {
        let p = plan(Role::Mass, &Role::Mass.default_target());
        let v = |n: &str| p.knobs.iter().find(|k| k.name == n).unwrap().value.clone();
        // 1,000,000 connections with their clients on a 24 GiB host.
        assert_eq!(p.nofile, Some(1_048_576));
        assert_eq!(v("fs.nr_open"), "1048576");
        // Two sockets a connection, + 65,536, to a multiple of 65,536.
        assert_eq!(v("fs.file-max"), "2097152");
        // 53,000 connects/s x 0.1 s x 4 = 21,200 -> 32,768.
        assert_eq!(v("net.core.somaxconn"), "32768");
        // 2 M sockets x 4 KiB = 2 M pages; x2 capped at 24 GiB / 4 = 1,572,864.
        assert_eq!(v("net.ipv4.tcp_mem"), "786432 1179648 1572864");
        assert_eq!(v("net.netfilter.nf_conntrack_max"), "1310720");
        assert_eq!(v("net.ipv4.tcp_max_orphans"), "2097152");
        assert_eq!(v("net.ipv4.tcp_child_ehash_entries"), "2097152");
        assert_eq!(v("net.ipv4.ip_local_reserved_ports"), ports::sysctl_value());
    }

    #[test]
    fn a_host_that_only_serves_counts_one_socket_per_connection() {
        let t = Target {
            clients_on_host: false,
            ..Role::Mass.default_target()
        };
        let p = plan(Role::Mass, &t);
        let v = |n: &str| p.knobs.iter().find(|k| k.name == n).unwrap().value.clone();
        assert_eq!(v("fs.file-max"), "1114112");
        assert!(
            p.source.ends_with("--clients-on-host false"),
            "{}",
            p.source
        );
        assert!(command(Role::Mass, &Role::Mass.default_target()).ends_with(" --clients-on-host"));
    }

    #[test]
    fn the_reserved_ports_are_set_before_the_range_is_widened() {
        let p = plan(Role::Mass, &Role::Mass.default_target());
        let at = |n: &str| p.knobs.iter().position(|k| k.name == n).unwrap();
        assert!(at("net.ipv4.ip_local_reserved_ports") < at("net.ipv4.ip_local_port_range"));
    }

    #[test]
    fn nr_open_follows_a_nofile_above_the_default() {
        let t = Target {
            connections: 2_000_000,
            ..Role::Mass.default_target()
        };
        let p = plan(Role::Mass, &t);
        let nr_open: u64 = p
            .knobs
            .iter()
            .find(|k| k.name == "fs.nr_open")
            .unwrap()
            .value
            .parse()
            .unwrap();
        assert!(nr_open >= p.nofile.unwrap());
        assert_eq!(p.nofile, Some(2_097_152));
    }
}
