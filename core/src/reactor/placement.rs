//! Where a reactor thread runs and which reactor a connection lands on: the
//! kernel's knobs for reactor-per-core servers, each off unless the config
//! turns it on (`[reactor.placement]`), because on this 2-core machine
//! shared with its load clients none of them paid (bench/RESULTS.md,
//! "Placement"). On a dedicated many-core host with a multi-queue NIC the
//! trade changes, so they stay available:
//!
//! - `pin_threads`: reactor *i* runs only on the *i*-th CPU this process
//!   may use (`sched_setaffinity`), keeping its cache and its sockets' warm
//!   state in one place.
//! - `steer_by_cpu`: each reactor's listener carries `SO_INCOMING_CPU` =
//!   its CPU, and the kernel (6.1 and later) hands a new connection to the
//!   listener of the CPU that received it, so accept and every later
//!   packet of the connection stay on one CPU. Only meaningful pinned.
//! - `quickack`: `TCP_QUICKACK` on accepted sockets (ACK at once instead
//!   of waiting to piggyback on an answer).
//! - `busy_poll_us`: `SO_BUSY_POLL` on accepted sockets: a read with
//!   nothing queued spins on the device queue this long first (NAPI
//!   devices only; loopback has none).

use serde::{Deserialize, Serialize};

/// The `[reactor.placement]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Placement {
    pub pin_threads: bool,
    pub steer_by_cpu: bool,
    pub quickack: bool,
    pub busy_poll_us: u32,
}

impl Placement {
    /// The CPU reactor `index` belongs to when pinning or steering: the
    /// `index`-th of the CPUs this process may run on, round robin.
    pub fn cpu_of(&self, index: usize) -> Option<usize> {
        if !self.pin_threads && !self.steer_by_cpu {
            return None;
        }
        let cpus = core_affinity::get_core_ids()?;
        cpus.get(index % cpus.len().max(1)).map(|c| c.id)
    }

    /// Pins the calling thread (reactor `index`) to its CPU if asked.
    pub fn pin_current(&self, index: usize) {
        if !self.pin_threads {
            return;
        }
        match self.cpu_of(index) {
            Some(id) if core_affinity::set_for_current(core_affinity::CoreId { id }) => {
                log::info!("reactor {index} pinned to CPU {id}");
            }
            _ => log::warn!("reactor {index}: pinning asked for but not possible here"),
        }
    }

    /// The `SO_INCOMING_CPU` a listener of reactor `index` carries.
    pub fn listener_cpu(&self, index: usize) -> Option<usize> {
        if self.steer_by_cpu {
            self.cpu_of(index)
        } else {
            None
        }
    }

    /// What an accepted socket gets.
    pub fn tune_accepted(&self, stream: &mio::net::TcpStream) {
        if !self.quickack && self.busy_poll_us == 0 {
            return;
        }
        let socket = socket2::SockRef::from(stream);
        if self.quickack {
            let _ = socket.set_tcp_quickack(true);
        }
        if self.busy_poll_us > 0 {
            let _ = socket.set_busy_poll(self.busy_poll_us);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_no_cpu_without_pinning_or_steering() {
        let p = Placement::default();
        assert_eq!(p.cpu_of(0), None);
        assert_eq!(p.listener_cpu(0), None);
    }

    #[test]
    fn reactors_get_the_allowed_cpus_round_robin() {
        let p = Placement {
            pin_threads: true,
            steer_by_cpu: true,
            ..Placement::default()
        };
        let cpus: Vec<usize> = core_affinity::get_core_ids()
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        for i in 0..cpus.len() * 2 {
            assert_eq!(p.cpu_of(i), Some(cpus[i % cpus.len()]));
        }
        assert_eq!(p.listener_cpu(1), Some(cpus[1 % cpus.len()]));
    }

    #[test]
    fn a_pinned_thread_runs_on_its_cpu_only() {
        let p = Placement {
            pin_threads: true,
            ..Placement::default()
        };
        let want = p.cpu_of(1).unwrap();
        std::thread::spawn(move || {
            p.pin_current(1);
            // The thread's allowed CPUs, as the kernel reports them.
            let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
            let line = status
                .lines()
                .find(|l| l.starts_with("Cpus_allowed_list:"))
                .unwrap();
            assert_eq!(
                line.split_whitespace().nth(1),
                Some(want.to_string().as_str())
            );
        })
        .join()
        .unwrap();
    }
}
