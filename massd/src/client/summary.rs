//! The fleet's per-second progress line and its final summary. The summary
//! carries its latency histogram (HDR V2, hex) so summaries of several
//! client processes merge into exact fleet-wide percentiles.

use super::tally::{new_histogram, Tally, Totals};
use crate::config::Wire;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

/// What a client process (or a merged fleet) did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub wire: Wire,
    pub servers: usize,
    /// Connections planned.
    pub connections: u64,
    /// Most connections up at once.
    pub peak_up: u64,
    /// Seconds from the start to the first per-second sample with every
    /// connection up (the ramp-up); `None` when that never happened.
    #[serde(default)]
    pub ramp_s: Option<f64>,
    /// The fewest connections up in any per-second sample after the ramp:
    /// equal to `connections` when all were held the whole time. Merged
    /// over processes it is the sum of each one's fewest, a lower bound.
    #[serde(default)]
    pub held_min: Option<u64>,
    /// Seconds from the start until this process saw the whole fleet up
    /// (every process's connections; see `fleet_sync`). Without a fleet to
    /// wait for, the same as `ramp_s`. Merged: the latest.
    #[serde(default)]
    pub fleet_up_s: Option<f64>,
    /// Seconds from then to the end of the run: how long every connection
    /// of the fleet was up together (when `held_min` is all of them).
    /// Merged: the shortest, since the fleet is whole only until its first
    /// process ends.
    #[serde(default)]
    pub held_together_s: Option<f64>,
    pub duration_s: f64,
    /// Over the whole run, ramp-up included.
    pub updates_per_sec: f64,
    /// Median of the per-second rates once the fleet was up (or of all
    /// seconds when that never happened).
    pub steady_updates_per_sec: f64,
    pub latency_us: Percentiles,
    /// Updates, lost and doubled ones, reconnects, errors… (flattened into
    /// the JSON object).
    #[serde(flatten)]
    pub totals: Totals,
    /// The latency histogram, HDR V2 encoded, hex.
    pub histogram: String,
}

/// The per-second sampler that becomes the summary.
pub struct Progress {
    target: u64,
    started: Instant,
    next_at: Instant,
    prev_updates: u64,
    prev_at: Instant,
    peak_up: u64,
    all_up_at: Option<Instant>,
    ramp_s: Option<f64>,
    held_min: Option<u64>,
    fleet_up_at: Option<Instant>,
    total: Histogram<u64>,
    /// (the fleet was up, rate) per second.
    rates: Vec<(bool, f64)>,
}

impl Progress {
    pub fn new(target: u64, started: Instant) -> Self {
        Progress {
            target,
            started,
            next_at: started + Duration::from_secs(1),
            prev_updates: 0,
            prev_at: started,
            peak_up: 0,
            all_up_at: None,
            ramp_s: None,
            held_min: None,
            fleet_up_at: None,
            total: new_histogram(),
            rates: Vec::new(),
        }
    }

    /// The sample that first saw every connection up, if one has.
    pub fn all_up_at(&self) -> Option<Instant> {
        self.all_up_at
    }

    /// The moment the whole fleet was seen up; the steady state and the
    /// hold count from here.
    pub fn fleet_up(&mut self, at: Instant) {
        self.fleet_up_at.get_or_insert(at);
    }

    pub fn fleet_up_at(&self) -> Option<Instant> {
        self.fleet_up_at
    }

    pub fn until_next(&self) -> Duration {
        self.next_at.saturating_duration_since(Instant::now())
    }

    pub fn due(&self) -> bool {
        Instant::now() >= self.next_at
    }

    /// One second's line.
    pub fn sample(&mut self, tally: &Tally) -> String {
        let now = Instant::now();
        self.next_at += Duration::from_secs(1);
        let t = tally.sum();
        let second = tally.take_latency();
        let _ = self.total.add(&second);
        let rate = (t.updates - self.prev_updates) as f64
            / now.duration_since(self.prev_at).as_secs_f64().max(1e-9);
        self.prev_updates = t.updates;
        self.prev_at = now;
        self.peak_up = self.peak_up.max(t.up);
        if self.ramp_s.is_some() {
            self.held_min = Some(self.held_min.map_or(t.up, |m| m.min(t.up)));
        } else if t.up >= self.target {
            self.ramp_s = Some(now.duration_since(self.started).as_secs_f64());
            self.all_up_at = Some(now);
            self.held_min = Some(t.up);
        }
        self.rates.push((self.fleet_up_at.is_some(), rate));
        let p = Percentiles::of(&second);
        format!(
            "[{:>4}s] up {}/{}  updates/s {:.0}  p50 {}  p99 {}  p999 {}  lost {}  doubled {}  reconnects {}  errors {}",
            now.duration_since(self.started).as_secs(),
            t.up,
            self.target,
            rate,
            ms(p.p50),
            ms(p.p99),
            ms(p.p999),
            t.lost,
            t.doubled,
            t.reconnects,
            t.errors + t.connect_failures,
        )
    }

    pub fn finish(mut self, tally: &Tally, wire: Wire, servers: usize) -> Summary {
        let t: Totals = tally.sum();
        let _ = self.total.add(tally.take_latency());
        let elapsed = self.started.elapsed().as_secs_f64();
        let steady: Vec<f64> = if self.rates.iter().any(|(fleet_up, _)| *fleet_up) {
            self.rates
                .iter()
                .filter(|(u, _)| *u)
                .map(|(_, r)| *r)
                .collect()
        } else {
            self.rates.iter().map(|(_, r)| *r).collect()
        };
        Summary {
            wire,
            servers,
            connections: self.target,
            peak_up: self.peak_up.max(t.up),
            ramp_s: self.ramp_s,
            held_min: self.held_min,
            fleet_up_s: self
                .fleet_up_at
                .map(|at| at.duration_since(self.started).as_secs_f64()),
            // To the last sample, taken when the run was told to stop (the
            // drain after it is not holding).
            held_together_s: self
                .fleet_up_at
                .map(|at| self.prev_at.saturating_duration_since(at).as_secs_f64()),
            duration_s: elapsed,
            updates_per_sec: t.updates as f64 / elapsed.max(1e-9),
            steady_updates_per_sec: median(steady),
            latency_us: Percentiles::of(&self.total),
            totals: t,
            histogram: encode(&self.total),
        }
    }
}

fn ms(us: u64) -> String {
    format!("{:.2}ms", us as f64 / 1000.0)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    match V2Serializer::new().serialize(h, &mut bytes) {
        Ok(_) => hex::encode(bytes),
        Err(_) => String::new(),
    }
}

fn decode(text: &str) -> Option<Histogram<u64>> {
    let bytes = hex::decode(text).ok()?;
    Deserializer::new().deserialize(&mut bytes.as_slice()).ok()
}

impl Summary {
    /// Several client processes' summaries as one fleet: counts add up,
    /// rates add up, percentiles come from the merged histograms.
    pub fn merge(parts: &[Summary]) -> Option<Summary> {
        let first = parts.first()?;
        let mut hist = new_histogram();
        for p in parts {
            if let Some(h) = decode(&p.histogram) {
                let _ = hist.add(h);
            }
        }
        let sum = |f: fn(&Summary) -> u64| parts.iter().map(f).sum::<u64>();
        let mut totals = Totals::default();
        for p in parts {
            totals.add(&p.totals);
        }
        let fsum = |f: fn(&Summary) -> f64| parts.iter().map(f).sum::<f64>();
        Some(Summary {
            wire: first.wire,
            servers: first.servers,
            connections: sum(|p| p.connections),
            peak_up: sum(|p| p.peak_up),
            // The fleet is up when its slowest process is.
            ramp_s: parts
                .iter()
                .map(|p| p.ramp_s)
                .try_fold(0.0, |acc: f64, r| r.map(|r| acc.max(r))),
            held_min: parts.iter().map(|p| p.held_min).sum(),
            fleet_up_s: parts
                .iter()
                .map(|p| p.fleet_up_s)
                .try_fold(0.0, |acc: f64, r| r.map(|r| acc.max(r))),
            held_together_s: parts
                .iter()
                .map(|p| p.held_together_s)
                .try_fold(f64::INFINITY, |acc: f64, r| r.map(|r| acc.min(r))),
            duration_s: parts.iter().map(|p| p.duration_s).fold(0.0, f64::max),
            updates_per_sec: fsum(|p| p.updates_per_sec),
            steady_updates_per_sec: fsum(|p| p.steady_updates_per_sec),
            latency_us: Percentiles::of(&hist),
            totals,
            histogram: encode(&hist),
        })
    }

    /// The human summary.
    pub fn table(&self) -> String {
        let (p, t) = (&self.latency_us, &self.totals);
        format!(
            "connections {} (peak up {}, all up after {}, fewest held after that {}, the fleet up together for {}) to {} servers over {:?}, {:.1} s\n\
             updates     {} ({:.0}/s overall, {:.0}/s steady)\n\
             latency     p50 {}  p90 {}  p99 {}  p999 {}  max {}\n\
             checks      lost {}  doubled {}  errors {}  unanswered {}\n\
             connections reconnects {}  disconnects {}  connect failures {}  late {}\n",
            self.connections,
            self.peak_up,
            self.ramp_s
                .map_or_else(|| "never".to_owned(), |r| format!("{r:.0} s")),
            self.held_min
                .map_or_else(|| "-".to_owned(), |h| h.to_string()),
            self.held_together_s
                .map_or_else(|| "-".to_owned(), |s| format!("{s:.0} s")),
            self.servers,
            self.wire,
            self.duration_s,
            t.updates,
            self.updates_per_sec,
            self.steady_updates_per_sec,
            ms(p.p50),
            ms(p.p90),
            ms(p.p99),
            ms(p.p999),
            ms(p.max),
            t.lost,
            t.doubled,
            t.errors,
            t.unanswered,
            t.reconnects,
            t.disconnects,
            t.connect_failures,
            t.late,
        )
    }
}
