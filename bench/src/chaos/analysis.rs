//! What the chaos run measures: the stores' timeline (watched every
//! 100 ms while the run lasts) and, per kill, the figures of the report.

use super::cluster::{Cluster, GALERA, REDIS};
use super::user::Sample;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A thread that notes every change of the stores' state.
pub struct Timeline {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<(u32, String)>>,
}

impl Timeline {
    pub fn watch(cluster: Arc<Cluster>, started: Instant) -> Timeline {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut changes = Vec::new();
            let mut last = String::new();
            while !flag.load(Ordering::Acquire) {
                let sizes = cluster.galera_sizes();
                let roles = cluster.redis_roles();
                let galera: Vec<String> = GALERA
                    .iter()
                    .zip(&sizes)
                    .map(|(n, s)| format!("{n}={}", s.map_or("down".into(), |s| s.to_string())))
                    .collect();
                let redis: Vec<String> = REDIS
                    .iter()
                    .zip(&roles)
                    .map(|(n, r)| format!("{n}={r}"))
                    .collect();
                let now = format!("galera {} | redis {}", galera.join(" "), redis.join(" "));
                if now != last {
                    let at = started.elapsed().as_millis() as u32;
                    changes.push((at, now.clone()));
                    last = now;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            changes
        });
        Timeline { stop, thread }
    }

    pub fn stop(self) -> Vec<(u32, String)> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap_or_default()
    }
}

#[derive(Debug, Serialize)]
pub struct EventReport {
    pub kind: String,
    pub target: String,
    pub killed_at_ms: u32,
    pub restarted_at_ms: u32,
    /// Requests that failed from the kill to the next kill.
    pub failed: usize,
    /// The failures by kind of request.
    pub failed_by_op: std::collections::BTreeMap<String, usize>,
    /// The failures by the HTTP status they ended with (0: none came).
    pub failed_by_code: std::collections::BTreeMap<u16, usize>,
    /// Failures per 250 ms from the kill (where in the event they fell).
    pub failures_per_250ms: Vec<usize>,
    /// First to last failed request, ms (`None`: none failed).
    pub error_window_ms: Option<u32>,
    /// From the kill until the successful rate over a second is back to
    /// 90 % of the second before it, ms (`None`: never within the event).
    pub recovered_ms: Option<u32>,
    /// The stores' state changes during the event, with their offset
    /// from the kill.
    pub stores: Vec<String>,
}

/// In a timeline line (`+Nms galera … | redis redis-1=down redis-4=primary
/// …`), the offset at which a replica stands as primary while `killed` is
/// down: the failover.
pub fn promotion_ms(line: &str, killed: &str) -> Option<u32> {
    let (offset, state) = line.split_once(' ')?;
    let ms: u32 = offset.strip_prefix('+')?.strip_suffix("ms")?.parse().ok()?;
    let redis = state.split_once("| redis ")?.1;
    let dead = redis.split(' ').any(|n| n == format!("{killed}=down"));
    let primaries = redis.split(' ').filter(|n| n.ends_with("=primary")).count();
    (dead && primaries == 3).then_some(ms)
}

/// Successful requests in `[from, to)` ms.
fn ok_between(samples: &[Sample], from: u32, to: u32) -> usize {
    let start = samples.partition_point(|s| s.at < from);
    samples[start..]
        .iter()
        .take_while(|s| s.at < to)
        .filter(|s| s.ok)
        .count()
}

/// The figures of one kill at `at`, looking at samples until `until`.
pub fn event(
    kind: &str,
    target: &str,
    at: u32,
    restarted: u32,
    until: u32,
    samples: &[Sample],
    timeline: &[(u32, String)],
) -> EventReport {
    let failed: Vec<&Sample> = samples
        .iter()
        .filter(|s| !s.ok && s.at >= at && s.at < until)
        .collect();
    let failures: Vec<u32> = failed.iter().map(|s| s.at).collect();
    let mut failed_by_op = std::collections::BTreeMap::new();
    let mut failed_by_code = std::collections::BTreeMap::new();
    let mut failures_per_250ms = vec![0; ((until - at) / 250 + 1) as usize];
    for s in &failed {
        let name = serde_json::to_value(s.op)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        *failed_by_op.entry(name).or_insert(0) += 1;
        *failed_by_code.entry(s.code).or_insert(0) += 1;
        failures_per_250ms[((s.at - at) / 250) as usize] += 1;
    }
    while failures_per_250ms.last() == Some(&0) {
        failures_per_250ms.pop();
    }
    let error_window_ms = match (failures.first(), failures.last()) {
        (Some(first), Some(last)) => Some(last - first),
        _ => None,
    };
    let before = ok_between(samples, at.saturating_sub(1000), at) as f64;
    let mut recovered_ms = None;
    let mut t = at;
    while t + 1000 <= until {
        // The first second, from a point after the kill, whose successes
        // reach 90 % of the second before the kill, after a dip: if there
        // was none, the kill cost nothing.
        if ok_between(samples, t, t + 1000) as f64 >= 0.9 * before {
            recovered_ms = Some(t - at);
            break;
        }
        t += 100;
    }
    let stores = timeline
        .iter()
        .filter(|(t, _)| *t >= at && *t < until)
        .map(|(t, s)| format!("+{}ms {s}", t - at))
        .collect();
    EventReport {
        kind: kind.to_owned(),
        target: target.to_owned(),
        killed_at_ms: at,
        restarted_at_ms: restarted,
        failed: failures.len(),
        failed_by_op,
        failed_by_code,
        failures_per_250ms,
        error_window_ms,
        recovered_ms,
        stores,
    }
}

#[cfg(test)]
mod tests {
    use super::super::user::Op;
    use super::*;

    fn s(at: u32, ok: bool) -> Sample {
        Sample {
            at,
            op: Op::Home,
            ok,
            code: if ok { 200 } else { 0 },
        }
    }

    #[test]
    fn a_failover_is_read_from_the_timeline() {
        let before =
            "+166ms galera g | redis redis-1=down redis-2=primary redis-3=primary redis-4=replica";
        let after =
            "+2431ms galera g | redis redis-1=down redis-2=primary redis-3=primary redis-4=primary";
        assert_eq!(promotion_ms(before, "redis-1"), None);
        assert_eq!(promotion_ms(after, "redis-1"), Some(2431));
        assert_eq!(promotion_ms(after, "redis-2"), None);
    }

    #[test]
    fn an_event_measures_its_failures_and_its_recovery() {
        // 10 successes per 100 ms, then 500 ms of failures, then successes.
        let mut samples = Vec::new();
        for t in (0..5000).step_by(10) {
            let down = (2000..2500).contains(&t);
            samples.push(s(t, !down));
        }
        let e = event("authd", "authd-2", 2000, 2100, 5000, &samples, &[]);
        assert_eq!(e.failed, 50);
        assert_eq!(e.error_window_ms, Some(490));
        // 90 % of 100 successes a second: from 2400 on (10 % lost).
        assert_eq!(e.recovered_ms, Some(400));
        let calm = event("webd", "webd-2", 4000, 4100, 5000, &samples, &[]);
        assert_eq!(
            (calm.failed, calm.error_window_ms, calm.recovered_ms),
            (0, None, Some(0))
        );
    }
}
