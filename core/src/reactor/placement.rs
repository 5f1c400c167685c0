//! Where a reactor thread runs and which reactor a connection lands on:
//! the kernel's placement knobs for reactor-per-core servers, off unless
//! the config turns them on (`[reactor.placement]`), because on this 2-core
//! machine shared with its load clients neither paid reliably
//! (bench/RESULTS.md, "Placement"). On a dedicated many-core host with a
//! multi-queue NIC the trade changes, so they stay available:
//!
//! - `pin_threads`: reactor *i* runs only on one CPU of those this process
//!   may use (`sched_setaffinity`), keeping its cache and its sockets' warm
//!   state in one place. The *i*-th allowed CPU, counted from `cpu_offset`:
//!   a fleet of one-reactor processes gives each process its own offset
//!   (massd's servers use their fleet index), or they would all share the
//!   first CPU.
//! - `steer_by_cpu`: each reactor's listener carries `SO_INCOMING_CPU` =
//!   that reactor's CPU, and the kernel (6.1 and later) hands a new
//!   connection to the listener of the CPU that received it, so accept and
//!   every later packet of the connection stay on one CPU. It implies
//!   pinning: a steered listener on an unpinned reactor steers nothing.
//!
//! The allowed CPUs are listed once (the calling thread's affinity mask,
//! which every reactor inherits); an allowed CPU may be an SMT sibling of
//! another.
//!
//! Tried and dropped (RESULTS): `TCP_QUICKACK` set at accept (one-shot: the
//! kernel returns to delayed ACKs after the first exchanges, and re-arming
//! it costs a `setsockopt` per read), and `SO_BUSY_POLL` (a non-blocking
//! socket polls the device once and does not spin; epoll-level busy polling
//! is `net.core.busy_poll`, a host setting, and loopback has no device
//! queue to poll).

use serde::{Deserialize, Serialize};

/// The `[reactor.placement]` table, and the same as command-line flags
/// (`bench serve-ping --pin-threads --steer-by-cpu`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct Placement {
    /// Pin reactor i to the i-th allowed CPU (from cpu_offset).
    #[arg(long)]
    pub pin_threads: bool,
    /// Each reactor's listener carries SO_INCOMING_CPU = its CPU (pins too).
    #[arg(long)]
    pub steer_by_cpu: bool,
    /// Added to the reactor's index before choosing its CPU.
    #[arg(long, default_value_t = 0)]
    pub cpu_offset: usize,
}

impl Placement {
    /// Whether reactors are pinned (steering pins them too).
    fn pins(&self) -> bool {
        self.pin_threads || self.steer_by_cpu
    }
}

/// The CPU of reactor `index` among `allowed`: round robin from `offset`.
fn nth_allowed(allowed: &[usize], offset: usize, index: usize) -> Option<usize> {
    if allowed.is_empty() {
        return None;
    }
    allowed
        .get(offset.wrapping_add(index) % allowed.len())
        .copied()
}

/// Each reactor's CPU, worked out once for a server's reactors.
#[derive(Debug, Clone, Default)]
pub struct CpuPlan {
    placement: Placement,
    allowed: Vec<usize>,
}

impl CpuPlan {
    /// Reads the allowed CPUs only when pinning or steering is asked for.
    pub fn new(placement: &Placement) -> Self {
        let allowed = if placement.pins() {
            core_affinity::get_core_ids()
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.id)
                .collect()
        } else {
            Vec::new()
        };
        if placement.steer_by_cpu && !placement.pin_threads {
            log::warn!("reactor.placement: steer_by_cpu pins the reactors too");
        }
        CpuPlan {
            placement: placement.clone(),
            allowed,
        }
    }

    /// The CPU reactor `index` runs on, when pinned.
    pub fn cpu_of(&self, index: usize) -> Option<usize> {
        if !self.placement.pins() {
            return None;
        }
        nth_allowed(&self.allowed, self.placement.cpu_offset, index)
    }

    /// The `SO_INCOMING_CPU` a listener of reactor `index` carries.
    pub fn listener_cpu(&self, index: usize) -> Option<usize> {
        if self.placement.steer_by_cpu {
            self.cpu_of(index)
        } else {
            None
        }
    }

    /// Pins the calling thread (reactor `index`) to its CPU if asked;
    /// whether it is pinned.
    pub fn pin_current(&self, index: usize) -> bool {
        let Some(id) = self.cpu_of(index) else {
            if self.placement.pins() {
                log::warn!("reactor {index}: pinning asked for, but no allowed CPU is known");
            }
            return false;
        };
        if core_affinity::set_for_current(core_affinity::CoreId { id }) {
            log::info!("reactor {index} pinned to CPU {id}");
            true
        } else {
            log::warn!("reactor {index}: pinning to CPU {id} refused");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactors_take_the_allowed_cpus_round_robin_from_the_offset() {
        let allowed = [2, 5, 7];
        let picked: Vec<_> = (0..4).map(|i| nth_allowed(&allowed, 0, i)).collect();
        assert_eq!(picked, [Some(2), Some(5), Some(7), Some(2)]);
        // A fleet's third process with one reactor.
        assert_eq!(nth_allowed(&allowed, 2, 0), Some(7));
        assert_eq!(nth_allowed(&allowed, 4, 0), Some(5));
        assert_eq!(nth_allowed(&[], 0, 0), None);
    }

    #[test]
    fn nothing_is_placed_by_default() {
        let plan = CpuPlan::new(&Placement::default());
        assert_eq!(plan.cpu_of(0), None);
        assert_eq!(plan.listener_cpu(0), None);
        assert!(!plan.pin_current(0));
    }

    #[test]
    fn steering_implies_pinning() {
        let plan = CpuPlan::new(&Placement {
            steer_by_cpu: true,
            ..Placement::default()
        });
        assert_eq!(plan.listener_cpu(0), plan.cpu_of(0));
        assert!(plan.cpu_of(0).is_some());
    }

    #[test]
    fn a_pinned_thread_runs_on_its_cpu_only() {
        let plan = CpuPlan::new(&Placement {
            pin_threads: true,
            ..Placement::default()
        });
        let want = plan.cpu_of(1).expect("some CPU is allowed");
        std::thread::spawn(move || {
            if !plan.pin_current(1) {
                return; // refused here (a restricted sandbox): nothing to check
            }
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
