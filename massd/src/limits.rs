//! Does a process's share of connections fit its open-file limit? Each
//! server and client process asks before it starts and refuses with a
//! message naming the fix, instead of failing obscurely at the 20,000th
//! `accept` or `connect`.

use throng_core::rlimit::NofileLimit;
use throng_core::selfcheck::FD_RESERVE;

/// Why a share does not fit.
#[derive(Debug, thiserror::Error)]
#[error(
    "{role} process needs about {needed} file descriptors for its share of {share} connections, \
     but RLIMIT_NOFILE is {soft} (hard {hard}); {fix}, or apply the tuning profile \
     (`tune apply --profile mass`) where the hard limit can be raised"
)]
pub struct ShareTooLarge {
    pub role: &'static str,
    pub share: u64,
    pub needed: u64,
    pub soft: u64,
    pub hard: u64,
    pub fix: String,
}

/// Descriptors a process needs for `share` sockets.
pub fn needed(share: u64) -> u64 {
    share + FD_RESERVE
}

/// Checks a share against the limit; `processes_for` names how many
/// processes the same load would need at this limit.
pub fn check(
    role: &'static str,
    share: u64,
    limit: NofileLimit,
    knob: &str,
    total: u64,
) -> Result<(), ShareTooLarge> {
    let needed = needed(share);
    if needed <= limit.soft {
        return Ok(());
    }
    let per_process = limit.hard.max(limit.soft).saturating_sub(FD_RESERVE).max(1);
    let processes = total.div_ceil(per_process);
    Err(ShareTooLarge {
        role,
        share,
        needed,
        soft: limit.soft,
        hard: limit.hard,
        fix: format!(
            "set {knob} to at least {processes} so each process holds at most {per_process}"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_over_the_limit_names_the_processes_needed() {
        let limit = NofileLimit {
            soft: 20_000,
            hard: 20_000,
        };
        assert!(check("server", 19_000, limit, "server.processes_per_port", 19_000).is_ok());
        let e = check("client", 100_000, limit, "client.processes", 200_000).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("RLIMIT_NOFILE is 20000"), "{text}");
        assert!(text.contains("client.processes to at least 11"), "{text}");
        assert!(text.contains("tune apply --profile mass"), "{text}");
    }
}
