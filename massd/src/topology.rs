//! The fleet's topology, one place for the server, the launcher and the
//! console: which addresses a process serves, its node id, its admin
//! endpoint, and the launcher's record of what runs (`state.json`). Each of
//! them reads it here instead of from the others, so none imports another.

use crate::config::Config;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;

/// Which part of the fleet this process serves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Placement {
    /// Only this port (the launcher starts one process per port); `None`:
    /// every port of the list.
    pub port: Option<u16>,
    /// This process's number among the fleet's server processes; its admin
    /// endpoint listens on `admin.listen` port + index.
    pub index: u16,
}

/// Whether `ip` is an address of this host (it can be bound).
pub fn is_local(ip: IpAddr) -> bool {
    TcpListener::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// The addresses this process listens on.
pub fn listen_addrs(config: &Config, port: Option<u16>) -> Vec<SocketAddr> {
    if !config.reactor.listen.is_empty() {
        return config.reactor.listen.clone();
    }
    let ports = match port {
        Some(p) => vec![p],
        None => config.server_port_list.clone(),
    };
    let mut out = Vec::new();
    for ip in config.server_ip_list.iter().filter(|ip| is_local(**ip)) {
        for p in &ports {
            out.push(SocketAddr::new(*ip, *p));
        }
    }
    out
}

/// The node id: configured, or `<host>-<port>[-<index>]` with the dots of
/// an address made underscores (token fields are dot-separated).
pub fn node_id(config: &Config, host: &str, port: u16, index: u16) -> String {
    let base = if config.server.node_id.is_empty() {
        format!("{}-{port}", host.replace(['.', ':'], "_"))
    } else {
        config.server.node_id.clone()
    };
    if config.server.processes_per_port > 1 {
        format!(
            "{base}-{}",
            u32::from(index) % config.server.processes_per_port
        )
    } else {
        base
    }
}

/// Process `index`'s admin endpoint: `admin.listen` port + index.
pub fn admin_addr(config: &Config, index: u16) -> io::Result<SocketAddr> {
    let mut addr = config.admin.listen;
    let port = addr.port().checked_add(index).filter(|_| addr.port() != 0);
    let port = port.ok_or_else(|| {
        io::Error::other(format!(
            "admin.listen {addr}: process {index}'s admin port (port + {index}) must be a fixed port below 65536"
        ))
    })?;
    addr.set_port(port);
    Ok(addr)
}

/// One process the launcher started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Launched {
    pub role: String,
    pub name: String,
    pub pid: u32,
    pub admin: Option<SocketAddr>,
    pub log: PathBuf,
}

/// What is running, as `<run_dir>/state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub processes: Vec<Launched>,
}

impl State {
    pub fn path(config: &Config) -> PathBuf {
        config.run_dir.join("state.json")
    }

    pub fn load(config: &Config) -> io::Result<Option<State>> {
        match fs::read_to_string(Self::path(config)) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(io::Error::other),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn save(&self, config: &Config) -> io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        fs::write(Self::path(config), text)
    }

    pub fn admin_endpoints(&self) -> Vec<SocketAddr> {
        self.processes.iter().filter_map(|p| p.admin).collect()
    }
}
