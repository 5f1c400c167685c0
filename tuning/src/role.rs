//! The three roles a Throng host can have, the daemon each runs, and the
//! target each role's shipped profile is planned for.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Web,
    Auth,
    Mass,
}

/// What a profile is planned for (the inputs of `tune plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// TCP connections this host must hold at once.
    pub connections: u64,
    /// Memory of the host, bytes.
    pub memory: u64,
    /// New connections per second at the peak.
    pub connect_rate: u64,
    /// Server ports a client spreads over (mass), for the source-address sum.
    pub server_ports: u64,
    /// Whether the clients of those connections run on this host too (a
    /// capacity run on one machine): then every connection is two sockets
    /// here, and the ephemeral ports are this host's to plan.
    pub clients_on_host: bool,
}

impl Target {
    /// Sockets this host holds for the connections.
    pub fn sockets(&self) -> u64 {
        if self.clients_on_host {
            self.connections.saturating_mul(2)
        } else {
            self.connections
        }
    }
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Web, Role::Auth, Role::Mass];

    pub fn name(self) -> &'static str {
        match self {
            Role::Web => "web",
            Role::Auth => "auth",
            Role::Mass => "mass",
        }
    }

    /// The daemon whose unit gets this role's systemd drop-in.
    pub fn daemon(self) -> &'static str {
        match self {
            Role::Web => "webd",
            Role::Auth => "authd",
            Role::Mass => "massd",
        }
    }

    /// The target the shipped profile is planned for.
    pub fn default_target(self) -> Target {
        const GIB: u64 = 1 << 30;
        match self {
            // 10,000 keep-alive clients held by one webd plus headroom for
            // bursts (webd's max_connections in deploy/config), wrk -c 1000
            // opening its connections in one burst.
            Role::Web => Target {
                connections: 15_000,
                memory: 16 * GIB,
                connect_rate: 1_000,
                server_ports: 1,
                clients_on_host: false,
            },
            // Connections from several webd processes and pools to the stores.
            Role::Auth => Target {
                connections: 4_096,
                memory: 16 * GIB,
                connect_rate: 1_000,
                server_ports: 1,
                clients_on_host: false,
            },
            // C1M (bench/mass/c1m.toml): a million connections with their
            // client fleet on the same 24 GiB host, over 6 server ports,
            // opened by 53 client processes at up to 1,000 connects/s each.
            Role::Mass => Target {
                connections: 1_000_000,
                memory: 24 * GIB,
                connect_rate: 53_000,
                server_ports: 6,
                clients_on_host: true,
            },
        }
    }

    /// Bytes of socket buffer memory one connection of this role has in
    /// flight at a time (the basis of `tcp_mem`).
    pub fn bytes_in_flight(self) -> u64 {
        match self {
            // A 13-byte update and its answer; 4 KiB covers a queued burst.
            Role::Mass => 4096,
            // A page or a JSON answer of a few KiB each way.
            Role::Web | Role::Auth => 16_384,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown role {s:?}: web, auth or mass"))
    }
}
