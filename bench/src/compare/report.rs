//! `bench compare`'s written part: the section of `bench/RESULTS.md` it
//! owns (between two markers, so the hand-written analysis around it
//! stays), and the table it prints.

use super::{CompareOptions, Pair};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

const BEGIN: &str =
    "<!-- bench compare: begin (generated; `bench compare` rewrites this section) -->";
const END: &str = "<!-- bench compare: end -->";

/// The machine the figures come from.
pub struct Machine {
    pub cores: usize,
    pub memory_gib: u64,
    pub kernel: String,
    pub redis: String,
    pub nginx: String,
}

impl Machine {
    pub fn here(redis: &str, nginx: &str) -> Machine {
        let memory_kib: u64 = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0);
        let kernel = Command::new("uname")
            .arg("-sr")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Machine {
            cores: throng_core::cores::available(),
            memory_gib: memory_kib.div_ceil(1024 * 1024),
            kernel,
            redis: redis.to_owned(),
            nginx: nginx.to_owned(),
        }
    }
}

fn ratio(p: &Pair) -> String {
    if p.anchor.throughput > 0.0 {
        format!("{:.2}×", p.ours.throughput / p.anchor.throughput)
    } else {
        "–".into()
    }
}

fn p99(v: f64) -> String {
    if v > 0.0 {
        format!("{v:.3}")
    } else {
        "–".into()
    }
}

/// The markdown section.
pub fn markdown(
    pairs: &[Pair],
    m: &Machine,
    options: &CompareOptions,
    charts: &[(String, String)],
    when: &str,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}\n");
    let _ = writeln!(out, "## Side by side: `bench compare` ({when})\n");
    let _ = writeln!(
        out,
        "Machine: {} cores, {} GiB, {}; {}; {}. The load client shares the cores with the \
         server under test. Each figure is the median of {} runs of {} s, ours and the anchor \
         alternating, all in one run of:\n",
        m.cores, m.memory_gib, m.kernel, m.redis, m.nginx, options.repeats, options.duration
    );
    let _ = writeln!(
        out,
        "```sh\nmake up                       # webd, authd, the stores (the tool starts the anchors)\n\
         target/release/bench seed --users 1000\n\
         target/release/bench compare --duration {} --repeats {}\n```\n",
        options.duration, options.repeats
    );
    let mut names: Vec<&str> = Vec::new();
    for p in pairs {
        if !names.contains(&p.comparison) {
            names.push(p.comparison);
        }
    }
    for name in names {
        let rows: Vec<&Pair> = pairs.iter().filter(|p| p.comparison == name).collect();
        let (ours, anchor) = (&rows[0].ours.label, &rows[0].anchor.label);
        let _ = writeln!(out, "### {name}\n");
        let _ = writeln!(
            out,
            "| connections | pipeline | {ours} ops/s | {anchor} ops/s | ratio | {ours} p99 ms | {anchor} p99 ms | errors |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for p in &rows {
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.0} | {} | {} | {} | {} / {} |",
                p.connections,
                p.pipeline,
                p.ours.throughput,
                p.anchor.throughput,
                ratio(p),
                p99(p.ours.p99_ms),
                p99(p.anchor.p99_ms),
                p.ours.errors,
                p.anchor.errors
            );
        }
        let _ = writeln!(out);
        for (chart_name, file) in charts.iter().filter(|(n, _)| n == name) {
            let _ = writeln!(out, "![{chart_name}]({file})");
        }
        let _ = writeln!(
            out,
            "\nCommands (at each row's connections and pipeline):\n"
        );
        let _ = writeln!(out, "- ours: `{}`", rows[0].ours.command);
        let _ = writeln!(out, "- anchor: `{}`\n", rows[0].anchor.command);
    }
    let _ = writeln!(out, "{END}");
    out
}

/// Puts `section` between the markers of `path` (or at its end).
pub fn write_section(path: &Path, section: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if b < e => format!(
            "{}{}{}",
            &text[..b],
            section.trim_end(),
            &text[e + END.len()..]
        ),
        _ => format!("{}\n{}", text.trim_end(), section),
    };
    std::fs::write(path, new).map_err(|e| format!("{}: {e}", path.display()))
}

/// The console table.
pub fn table(pairs: &[Pair]) -> String {
    let mut out = String::new();
    for p in pairs {
        let _ = writeln!(
            out,
            "{:<42} c={:<6} d={:<3} ours {:>10.0}  anchor {:>10.0}  {}",
            p.comparison,
            p.connections,
            p.pipeline,
            p.ours.throughput,
            p.anchor.throughput,
            ratio(p)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_replaces_its_previous_self_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("RESULTS.md");
        std::fs::write(&file, "# Results\n\nhand-written\n").unwrap();
        write_section(&file, &format!("{BEGIN}\nfirst\n{END}\n")).unwrap();
        std::fs::write(&file, std::fs::read_to_string(&file).unwrap() + "\nafter\n").unwrap();
        write_section(&file, &format!("{BEGIN}\nsecond\n{END}\n")).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("# Results\n\nhand-written\n"));
        assert!(text.contains("second") && !text.contains("first"));
        assert!(text.trim_end().ends_with("after"));
    }
}
