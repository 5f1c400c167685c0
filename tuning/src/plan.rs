//! `tune plan`: works out every knob of a role's profile from its target
//! (connections, memory, connect rate) and renders the three files — the
//! sysctl.d file, the limits.d file and the systemd drop-in — with what each
//! knob does, why this value, the arithmetic, and where the kernel documents
//! it. The shipped profiles under `tuning/profiles/` are exactly this output
//! for each role's default target (a test keeps them so).

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
        "tune plan --role {} --connections {} --memory {memory} --connect-rate {} --server-ports {}",
        role, t.connections, t.connect_rate, t.server_ports
    )
}

/// Computes the profile of `role` for target `t`.
pub fn plan(role: Role, t: &Target) -> Profile {
    let s = t.connections;
    let nofile = (s + FD_RESERVE).next_power_of_two();
    let file_max = round_up(s + 65_536, 65_536);
    let burst = t.connect_rate * ACCEPT_STALL_MS / 1000 * 4;
    let backlog = burst.next_power_of_two().clamp(4096, 65_535);
    let tw_buckets = (t.connect_rate * TIME_WAIT_SECS)
        .next_power_of_two()
        .max(131_072);
    let in_flight = role.bytes_in_flight();
    let low = (s * in_flight).div_ceil(PAGE);
    let cap = t.memory / 4 / PAGE;
    let (mem_low, mem_pressure, mem_high) =
        (low.min(cap), (low * 3 / 2).min(cap), (low * 2).min(cap));
    let conntrack = round_up(s + s / 4, 65_536);
    let sources = s.div_ceil(PORTS_PER_PAIR * t.server_ports.max(1));

    let knobs = vec![
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
                "{} connections + 65,536 for everything else, rounded up to 65,536 = {}.",
                fmt_num(s),
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
            "net.ipv4.ip_local_port_range",
            "1024 65535".into(),
            Rule::Range,
            "Ephemeral ports for outgoing connections; each (source address, destination) pair \
             can use each port once.",
            format!(
                "{} ports per pair; {} client connections over {} server port(s) need {} source address(es) \
                 (spread over 127.0.0.x or the host's addresses).",
                fmt_num(PORTS_PER_PAIR),
                fmt_num(s),
                t.server_ports,
                sources
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
                "{} connections x {} bytes in flight / {} bytes per page = {} pages; pressure x1.5, \
                 limit x2, each capped at a quarter of {} MiB ({} pages).",
                fmt_num(s),
                fmt_num(in_flight),
                PAGE,
                fmt_num(low),
                fmt_num(t.memory >> 20),
                fmt_num(cap)
            ),
            "Documentation/networking/ip-sysctl.rst (tcp_mem)",
        ),
        Knob::new(
            "net.netfilter.nf_conntrack_max",
            conntrack.to_string(),
            Rule::AtLeast,
            "Connections the firewall tracks; when full, new connections are dropped. Only \
             present when nf_conntrack is loaded (tune reports it absent otherwise).",
            format!(
                "{} connections x 1.25, rounded up to 65,536 = {}.",
                fmt_num(s),
                fmt_num(conntrack)
            ),
            "Documentation/networking/nf_conntrack-sysctl.rst (nf_conntrack_max)",
        ),
    ];
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
        assert_eq!(p.nofile, Some(524_288));
        assert_eq!(v("fs.nr_open"), "1048576");
        assert_eq!(v("net.core.somaxconn"), "8192");
        assert_eq!(v("net.ipv4.tcp_mem"), "500000 750000 1000000");
        assert_eq!(v("net.netfilter.nf_conntrack_max"), "655360");
        assert_eq!(v("fs.file-max"), "589824");
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
