//! What a test reads of a daemon process from `/proc` (through the
//! `procfs` crate): its CPU time, to show it does not spin, and its
//! resident memory, to show a flood does not grow it.

/// User plus system CPU time of process `pid`, in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = procfs::process::Process::new(pid_t(pid))
        .and_then(|p| p.stat())
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/stat: {e}"));
    stat.utime + stat.stime
}

/// Clock ticks per second (what [`cpu_ticks`] counts in).
pub fn ticks_per_second() -> u64 {
    procfs::ticks_per_second()
}

/// Resident memory of process `pid`, in bytes.
pub fn rss_bytes(pid: u32) -> u64 {
    let status = procfs::process::Process::new(pid_t(pid))
        .and_then(|p| p.status())
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/status: {e}"));
    status.vmrss.expect("VmRSS in /proc/<pid>/status") * 1024
}

fn pid_t(pid: u32) -> i32 {
    i32::try_from(pid).expect("a pid fits an i32")
}
