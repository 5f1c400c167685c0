//! Counters, gauges and latency histograms that a daemon exposes (as
//! Prometheus text on webd's `/metrics`, through the `stats` opcode of the
//! binary protocol, and in the log at shutdown).
//!
//! Counters and gauges are relaxed atomics. Histograms are `hdrhistogram`s
//! recorded into a thread-local [`LocalHistogram`] and merged into the shared
//! one about once a second, so the hot path never takes a lock.

use crossbeam_utils::CachePadded;
use hdrhistogram::Histogram as Hdr;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Shards per counter: enough that the reactor threads of one daemon each
/// get their own cache line.
const SHARDS: usize = 16;

thread_local! {
    static SHARD: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS
    };
}

/// A monotonically increasing count. Each thread adds to its own
/// cache-padded shard, so counting on every request of every reactor never
/// bounces a cache line between cores; reading sums the shards.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<[CachePadded<AtomicU64>; SHARDS]>);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }
    pub fn add(&self, n: u64) {
        let shard = SHARD.with(|s| *s);
        self.0[shard].fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.iter().map(|s| s.load(Ordering::Relaxed)).sum()
    }
}

/// A value that goes up and down (open connections, queue depth).
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Highest value a histogram tracks: one hour in microseconds.
const HIST_MAX: u64 = 3_600_000_000;

fn new_hdr() -> Hdr<u64> {
    Hdr::new_with_bounds(1, HIST_MAX, 3).expect("static histogram bounds are valid")
}

/// A shared latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct Histogram(Arc<Mutex<Hdr<u64>>>);

impl Histogram {
    /// A recorder for one thread; merge happens on [`LocalHistogram::flush`].
    pub fn local(&self) -> LocalHistogram {
        LocalHistogram {
            local: new_hdr(),
            shared: self.clone(),
            last_flush: Instant::now(),
        }
    }

    /// A copy of the merged data so far.
    pub fn snapshot(&self) -> Hdr<u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The thread-local side of a [`Histogram`].
#[derive(Debug)]
pub struct LocalHistogram {
    local: Hdr<u64>,
    shared: Histogram,
    last_flush: Instant,
}

impl LocalHistogram {
    pub fn record(&mut self, elapsed: Duration) {
        self.local
            .saturating_record(elapsed.as_micros().min(u128::from(HIST_MAX)) as u64);
    }

    /// When samples recorded here are due to be merged (a second after the
    /// last merge); `None` when there are none.
    pub fn next_flush(&self) -> Option<Instant> {
        (!self.local.is_empty()).then(|| self.last_flush + Duration::from_secs(1))
    }

    /// Merges into the shared histogram if a second has passed.
    pub fn maybe_flush(&mut self, now: Instant) {
        if now.duration_since(self.last_flush) >= Duration::from_secs(1) {
            self.flush();
            self.last_flush = now;
        }
    }

    pub fn flush(&mut self) {
        if self.local.is_empty() {
            return;
        }
        let mut shared = self.shared.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Both histograms share bounds, so adding cannot fail.
        let _ = shared.add(&self.local);
        self.local.reset();
    }
}

impl Drop for LocalHistogram {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A value read when the metrics are rendered (figures a daemon already
/// keeps elsewhere, summed over its threads).
pub type Reading = Arc<dyn Fn() -> u64 + Send + Sync>;

#[derive(Clone)]
enum Kind {
    Counter(Counter),
    Gauge(Gauge),
    Histogram(Histogram),
    CounterFn(Reading),
    GaugeFn(Reading),
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Counter(c) => c.fmt(f),
            Kind::Gauge(g) => g.fmt(f),
            Kind::Histogram(h) => h.fmt(f),
            Kind::CounterFn(_) | Kind::GaugeFn(_) => f.write_str("reading"),
        }
    }
}

#[derive(Debug)]
struct Entry {
    name: String,
    help: String,
    kind: Kind,
}

/// The registry of one daemon's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    entries: Mutex<Vec<Entry>>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Metrics::default())
    }

    fn register(&self, name: &str, help: &str, make: impl FnOnce() -> Kind) -> Kind {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = entries.iter().find(|e| e.name == name) {
            return e.kind.clone();
        }
        let kind = make();
        entries.push(Entry {
            name: name.to_owned(),
            help: help.to_owned(),
            kind: kind.clone(),
        });
        kind
    }

    /// The counter of this name, created on first use.
    pub fn counter(&self, name: &str, help: &str) -> Counter {
        match self.register(name, help, || Kind::Counter(Counter::default())) {
            Kind::Counter(c) => c,
            _ => panic!("metric {name} registered twice with different kinds"),
        }
    }

    /// The gauge of this name, created on first use.
    pub fn gauge(&self, name: &str, help: &str) -> Gauge {
        match self.register(name, help, || Kind::Gauge(Gauge::default())) {
            Kind::Gauge(g) => g,
            _ => panic!("metric {name} registered twice with different kinds"),
        }
    }

    /// A counter whose value `read` gives when rendered.
    pub fn counter_fn(&self, name: &str, help: &str, read: Reading) {
        self.register(name, help, || Kind::CounterFn(read));
    }

    /// A gauge whose value `read` gives when rendered.
    pub fn gauge_fn(&self, name: &str, help: &str, read: Reading) {
        self.register(name, help, || Kind::GaugeFn(read));
    }

    /// The latency histogram (microseconds) of this name.
    pub fn histogram(&self, name: &str, help: &str) -> Histogram {
        match self.register(name, help, || {
            Kind::Histogram(Histogram(Arc::new(Mutex::new(new_hdr()))))
        }) {
            Kind::Histogram(h) => h,
            _ => panic!("metric {name} registered twice with different kinds"),
        }
    }

    /// Every metric in the Prometheus text exposition format. A name may
    /// carry labels (`family{route="/login",status="200"}`): the samples of
    /// one family are grouped under one `HELP`/`TYPE`. Latencies appear as
    /// Prometheus histograms in seconds (cumulative `_bucket`s at
    /// [`BUCKETS`], `_sum`, `_count`), so the histograms of several daemons
    /// add up in a query (`histogram_quantile` over `sum by (le)`), which
    /// per-process quantiles never could.
    pub fn render(&self) -> String {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut order: Vec<&Entry> = entries.iter().collect();
        order.sort_by(|a, b| family(&a.name).0.cmp(family(&b.name).0));
        let mut out = String::new();
        let mut last_family = "";
        for e in order {
            let (fam, labels) = family(&e.name);
            if fam != last_family {
                let kind = match e.kind {
                    Kind::Counter(_) | Kind::CounterFn(_) => "counter",
                    Kind::Gauge(_) | Kind::GaugeFn(_) => "gauge",
                    Kind::Histogram(_) => "histogram",
                };
                let _ = writeln!(out, "# HELP {fam} {}\n# TYPE {fam} {kind}", e.help);
                last_family = fam;
            }
            match &e.kind {
                Kind::Counter(c) => {
                    let _ = writeln!(out, "{} {}", e.name, c.get());
                }
                Kind::Gauge(g) => {
                    let _ = writeln!(out, "{} {}", e.name, g.get());
                }
                Kind::CounterFn(read) | Kind::GaugeFn(read) => {
                    let _ = writeln!(out, "{} {}", e.name, read());
                }
                Kind::Histogram(h) => {
                    let h = h.snapshot();
                    let prefix = labels.map_or(String::new(), |l| format!("{l},"));
                    for bound in BUCKETS {
                        let micros = (bound * 1e6) as u64;
                        let _ = writeln!(
                            out,
                            "{fam}_bucket{{{prefix}le=\"{bound}\"}} {}",
                            h.count_between(0, micros)
                        );
                    }
                    let _ = writeln!(out, "{fam}_bucket{{{prefix}le=\"+Inf\"}} {}", h.len());
                    let braced = labels.map_or(String::new(), |l| format!("{{{l}}}"));
                    // hdrhistogram keeps values to 3 significant digits,
                    // not their exact sum: mean × count is as exact.
                    let sum = h.mean() * h.len() as f64 / 1e6;
                    let _ = writeln!(out, "{fam}_sum{braced} {sum}");
                    let _ = writeln!(out, "{fam}_count{braced} {}", h.len());
                }
            }
        }
        out
    }
}

/// Upper bounds (seconds) of the histogram buckets: 100 µs to 10 s, the
/// span from a cached lookup to a request that timed out.
pub const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// `family{labels}` → (family, Some(labels)); a bare name → (name, None).
fn family(name: &str) -> (&str, Option<&str>) {
    match name.split_once('{') {
        Some((fam, rest)) => (fam, Some(rest.trim_end_matches('}'))),
        None => (name, None),
    }
}

/// The metrics every reactor keeps, shared by all reactors of a daemon.
#[derive(Debug, Clone)]
pub struct ReactorMetrics {
    pub accepted: Counter,
    pub refused: Counter,
    pub closed: Counter,
    pub timed_out: Counter,
    pub panics: Counter,
    pub open: Gauge,
}

impl ReactorMetrics {
    pub fn new(metrics: &Metrics) -> Self {
        ReactorMetrics {
            accepted: metrics.counter("throng_connections_accepted_total", "Connections accepted."),
            refused: metrics.counter(
                "throng_connections_refused_total",
                "Connections refused: max_connections or max_connections_per_ip reached, \
                 or no descriptor was left.",
            ),
            closed: metrics.counter("throng_connections_closed_total", "Connections closed."),
            timed_out: metrics.counter(
                "throng_connections_timed_out_total",
                "Connections whose idle or service deadline passed.",
            ),
            panics: metrics.counter(
                "throng_panics_total",
                "Service callbacks that panicked (each closed its connection).",
            ),
            open: metrics.gauge("throng_connections_open", "Connections open now."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_every_kind() {
        let m = Metrics::new();
        m.counter("a_total", "A.").add(3);
        m.gauge("b", "B.").set(-2);
        let h = m.histogram("c_seconds", "C.");
        let mut local = h.local();
        local.record(Duration::from_millis(2));
        local.flush();
        let text = m.render();
        assert!(text.contains("a_total 3"), "{text}");
        assert!(text.contains("b -2"), "{text}");
        m.gauge_fn("read_now", "R.", Arc::new(|| 41 + 1));
        assert!(m.render().contains("# TYPE read_now gauge\nread_now 42"));
        assert!(text.contains("# TYPE c_seconds histogram"), "{text}");
        assert!(text.contains("c_seconds_count 1"), "{text}");
        assert!(text.contains("c_seconds_bucket{le=\"0.001\"} 0"), "{text}");
        assert!(text.contains("c_seconds_bucket{le=\"0.0025\"} 1"), "{text}");
        assert!(text.contains("c_seconds_bucket{le=\"+Inf\"} 1"), "{text}");
        assert!(text.contains("c_seconds_sum 0.002"), "{text}");
        let labelled = m.histogram("d_seconds{op=\"x\"}", "D.");
        let mut local = labelled.local();
        local.record(Duration::from_micros(300));
        local.flush();
        let text = m.render();
        assert!(
            text.contains("d_seconds_bucket{op=\"x\",le=\"0.0005\"} 1"),
            "{text}"
        );
        assert!(text.contains("d_seconds_count{op=\"x\"} 1"), "{text}");
        m.counter("req_total{route=\"/a\"}", "R.").inc();
        m.gauge("zz", "Z.").set(1);
        m.counter("req_total{route=\"/b\"}", "R.").add(2);
        let text = m.render();
        assert_eq!(
            text.matches("# TYPE req_total counter").count(),
            1,
            "{text}"
        );
        let a = text.find("req_total{route=\"/a\"} 1").unwrap();
        let b = text.find("req_total{route=\"/b\"} 2").unwrap();
        assert!(
            text[a..b].lines().count() == 1,
            "a family's samples stay together: {text}"
        );
    }

    #[test]
    fn the_same_name_returns_the_same_metric() {
        let m = Metrics::new();
        m.counter("x", "X.").inc();
        assert_eq!(m.counter("x", "X.").get(), 1);
    }
}
