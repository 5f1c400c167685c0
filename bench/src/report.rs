//! The result of a run as a person reads it (a table) and as tools read it
//! (one JSON object, the last line printed with `--json`). The JSON field
//! names are a contract: `scenario`, `connections`, `duration_s`, `ops`,
//! `throughput`, `errors` and `latency_ms` {`p50`, `p90`, `p99`, `p999`,
//! `max`} are always there.

use crate::load::Outcome;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    /// Percentiles of a histogram recorded in microseconds.
    pub fn from_micros(h: &Histogram<u64>) -> Self {
        let ms = |v: u64| v as f64 / 1000.0;
        Latency {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// One run's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub scenario: String,
    pub target: String,
    pub connections: usize,
    pub connections_up: usize,
    pub threads: usize,
    pub pipeline: usize,
    pub duration_s: f64,
    pub ops: u64,
    /// Successful operations per second.
    pub throughput: f64,
    /// Failed answers plus connections lost or never opened.
    pub errors: u64,
    pub latency_ms: Latency,
    /// Open loop: the requests per second asked for (latency counts from
    /// when each request was due); absent for a closed loop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

impl Report {
    pub fn new(
        scenario: &str,
        target: &str,
        threads: usize,
        pipeline: usize,
        connections: usize,
        o: &Outcome,
    ) -> Self {
        let secs = o.elapsed.as_secs_f64();
        Report {
            scenario: scenario.to_owned(),
            target: target.to_owned(),
            connections,
            connections_up: o.connections_up,
            threads,
            pipeline,
            duration_s: secs,
            ops: o.ops,
            throughput: if secs > 0.0 { o.ops as f64 / secs } else { 0.0 },
            errors: o.errors + o.connect_errors,
            latency_ms: Latency::from_micros(&o.histogram),
            rate: None,
        }
    }

    /// The human table.
    pub fn table(&self) -> String {
        let l = &self.latency_ms;
        let mode = match self.rate {
            Some(rate) => format!("open loop at {rate:.0} requests/s (latency from when due)"),
            None => "closed loop".to_owned(),
        };
        format!("mode         {mode}\n{}", self.table_body(l))
    }

    fn table_body(&self, l: &Latency) -> String {
        format!(
            "scenario     {}\ntarget       {}\nconnections  {} ({} up), {} threads, pipeline {}\n\
             duration     {:.1} s\nops          {}\nthroughput   {:.0} ops/s\nerrors       {}\n\
             latency ms   p50 {:.3}  p90 {:.3}  p99 {:.3}  p999 {:.3}  max {:.3}\n",
            self.scenario,
            self.target,
            self.connections,
            self.connections_up,
            self.threads,
            self.pipeline,
            self.duration_s,
            self.ops,
            self.throughput,
            self.errors,
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max
        )
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).expect("a report always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn percentiles_come_from_the_histogram_in_milliseconds() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 10).unwrap(); // 10 µs .. 10 ms
        }
        let l = Latency::from_micros(&h);
        assert!((l.p50 - 5.0).abs() < 0.01, "{l:?}");
        assert!((l.p99 - 9.9).abs() < 0.02, "{l:?}");
        assert!((l.max - 10.0).abs() < 0.01, "{l:?}");
    }

    #[test]
    fn json_has_the_contract_fields() {
        let o = Outcome {
            ops: 500,
            errors: 1,
            connect_errors: 2,
            connections_up: 8,
            elapsed: Duration::from_secs(2),
            histogram: Histogram::new_with_bounds(1, 600_000_000, 3).unwrap(),
            per_second: vec![250, 250],
        };
        let r = Report::new("ping", "127.0.0.1:7070", 2, 1, 10, &o);
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        for key in [
            "scenario",
            "connections",
            "duration_s",
            "ops",
            "throughput",
            "errors",
            "latency_ms",
        ] {
            assert!(v.get(key).is_some(), "{key} missing");
        }
        for key in ["p50", "p90", "p99", "p999", "max"] {
            assert!(v["latency_ms"].get(key).is_some(), "{key} missing");
        }
        assert_eq!(v["throughput"], 250.0);
        assert_eq!(v["errors"], 3);
    }
}
