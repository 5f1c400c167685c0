//! `bench summarize`: reads the JSON reports of repeated runs (one per
//! line, as `bench run --json` prints them last) and prints the median of
//! each (scenario, connections, pipeline) group as a markdown table, so a
//! noisy machine is quoted by medians rather than by its best run.

use crate::report::Report;

/// Medians of one group of runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub scenario: String,
    pub connections: usize,
    pub pipeline: usize,
    pub runs: usize,
    pub throughput: f64,
    pub p50: f64,
    pub p99: f64,
    pub errors: u64,
}

/// The median of a non-empty list (mean of the middle two when even).
pub fn median(values: &mut [f64]) -> f64 {
    assert!(!values.is_empty(), "median of nothing");
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Parses report lines (other lines are skipped) and groups them, keeping
/// the order in which groups first appear.
pub fn rows(text: &str) -> Vec<Row> {
    let reports: Vec<Report> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Report>(line.trim()).ok())
        .collect();
    let mut keys: Vec<(String, usize, usize)> = Vec::new();
    for r in &reports {
        let key = (r.scenario.clone(), r.connections, r.pipeline);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(scenario, connections, pipeline)| {
            let group: Vec<&Report> = reports
                .iter()
                .filter(|r| {
                    r.scenario == scenario && r.connections == connections && r.pipeline == pipeline
                })
                .collect();
            let pick =
                |f: fn(&Report) -> f64| median(&mut group.iter().map(|r| f(r)).collect::<Vec<_>>());
            Row {
                runs: group.len(),
                throughput: pick(|r| r.throughput),
                p50: pick(|r| r.latency_ms.p50),
                p99: pick(|r| r.latency_ms.p99),
                errors: group.iter().map(|r| r.errors).sum(),
                scenario,
                connections,
                pipeline,
            }
        })
        .collect()
}

/// The markdown table of `rows`.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | connections | pipeline | runs | median ops/s | median p50 ms | median p99 ms | errors |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.0} | {:.3} | {:.3} | {} |\n",
            r.scenario, r.connections, r.pipeline, r.runs, r.throughput, r.p50, r.p99, r.errors
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn groups_runs_and_takes_medians() {
        let line = |s: &str, c: usize, t: f64| {
            format!(
                r#"{{"scenario":"{s}","target":"x","connections":{c},"connections_up":{c},"threads":2,"pipeline":1,"duration_s":1.0,"ops":1,"throughput":{t},"errors":0,"latency_ms":{{"p50":1.0,"p90":1.0,"p99":2.0,"p999":3.0,"max":4.0}}}}"#
            )
        };
        let text = [
            line("ping", 100, 10.0),
            "noise".into(),
            line("resp-ping", 100, 7.0),
            line("ping", 100, 30.0),
            line("ping", 100, 20.0),
        ]
        .join("\n");
        let rows = rows(&text);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].scenario.as_str(), rows[0].runs, rows[0].throughput),
            ("ping", 3, 20.0)
        );
        assert!(markdown(&rows).contains("| ping | 100 | 1 | 3 | 20 |"));
    }
}
