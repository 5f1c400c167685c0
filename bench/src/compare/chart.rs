//! SVG charts of `bench compare` with plotters: for every comparison
//! measured at several connection counts, throughput and p99 against
//! connections (log scale), ours and the anchor, one line per pipeline
//! depth. Text is laid out with DejaVu Sans (Debian's fonts-dejavu-core).

use super::Pair;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::path::Path;
use std::sync::Once;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

fn register() -> Result<(), String> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = std::fs::read(FONT)
            .map_err(|e| format!("{FONT}: {e} (install fonts-dejavu-core: deploy/deps.sh bench)"))
            .and_then(|bytes| {
                // plotters keeps registered fonts for the process's life.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                register_font("sans-serif", FontStyle::Normal, bytes)
                    .map_err(|_| format!("{FONT} is not a usable font"))
            });
    });
    result
}

/// 1.5M, 120k, 950, 2.5: short axis labels.
fn human(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Draws every chart; returns (comparison, file relative to RESULTS.md).
pub fn draw_all(pairs: &[Pair], dir: &Path) -> Result<Vec<(String, String)>, String> {
    register()?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut names: Vec<&str> = Vec::new();
    for p in pairs {
        if !names.contains(&p.comparison) {
            names.push(p.comparison);
        }
    }
    let mut out = Vec::new();
    for name in names {
        let rows: Vec<&Pair> = pairs.iter().filter(|p| p.comparison == name).collect();
        let mut conns: Vec<usize> = rows.iter().map(|p| p.connections).collect();
        conns.sort_unstable();
        conns.dedup();
        if conns.len() < 2 {
            continue;
        }
        for (what, pick) in [
            (
                "throughput",
                (|s: &super::Side| s.throughput) as fn(&super::Side) -> f64,
            ),
            ("p99", |s: &super::Side| s.p99_ms),
        ] {
            let file = format!("{}-{what}.svg", slug(name));
            draw(&rows, name, what, pick, &dir.join(&file))?;
            out.push((name.to_owned(), format!("charts/{file}")));
        }
    }
    Ok(out)
}

fn draw(
    rows: &[&Pair],
    name: &str,
    what: &str,
    pick: fn(&super::Side) -> f64,
    file: &Path,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", file.display());
    let min_c = rows.iter().map(|p| p.connections).min().unwrap_or(1) as f64;
    let max_c = rows.iter().map(|p| p.connections).max().unwrap_or(1) as f64;
    let max_y = rows
        .iter()
        .flat_map(|p| [pick(&p.ours), pick(&p.anchor)])
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.15;
    let root = SVGBackend::new(file, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (y_label, title) = match what {
        "throughput" => ("operations per second", format!("{name}: throughput")),
        _ => ("p99 latency, ms", format!("{name}: p99 latency")),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d((min_c * 0.8..max_c * 1.25).log_scale(), 0f64..max_y)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("connections")
        .y_desc(y_label)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| human(*y))
        .light_line_style(WHITE)
        .draw()
        .map_err(|e| err(&e))?;
    let mut depths: Vec<usize> = rows.iter().map(|p| p.pipeline).collect();
    depths.sort_unstable();
    depths.dedup();
    let palette = [BLUE, RED, GREEN, MAGENTA];
    let mut colour = 0;
    for depth in depths {
        for (ours, label) in [(true, &rows[0].ours.label), (false, &rows[0].anchor.label)] {
            let mut points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|p| p.pipeline == depth)
                .map(|p| {
                    let side = if ours { &p.ours } else { &p.anchor };
                    (p.connections as f64, pick(side))
                })
                .filter(|(_, y)| *y > 0.0)
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            if points.is_empty() {
                continue;
            }
            let style = palette[colour % palette.len()];
            colour += 1;
            let series = if depth > 1 {
                format!("{label}, pipeline {depth}")
            } else {
                label.to_string()
            };
            chart
                .draw_series(LineSeries::new(points.clone(), style.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(series)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 4, style.filled())),
                )
                .map_err(|e| err(&e))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
