//! The history of published runs: for every group (runtime, variant, mode; phase
//! `total`), its p50 and p99 in each result file under a directory, oldest first, as
//! markdown tables or an HTML page with a trend plot per mode (log time axis).
//! Files that are not result files (reports, `latest.json` duplicates aside) are
//! passed over with a note; `latest.json` is left out since it repeats a dated file.

use super::load;
use crate::export::format_ns;
use crate::results::{Mode, ResultFile};
use crate::UsageError;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One point of a trend: a run's p50 and p99 and its sample count.
#[derive(Debug, Clone)]
pub struct Point {
    pub started_at: String,
    pub run_id: String,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub count: u64,
}

/// Group name (`runtime:variant mode`) -> its points, oldest first.
pub type Trends = BTreeMap<(Mode, String), Vec<Point>>;

/// The result files under `dir` (recursively). Symbolic links are not followed out
/// of `root`: a linked file is read only when it resolves inside `root` (and is not
/// read twice), a linked directory never (no loops, no walks outside); each passed
/// over link gets a note.
fn result_files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<PathBuf>,
    notes: &mut Vec<String>,
) -> std::io::Result<()> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type()?;
        let wanted = path.extension().is_some_and(|e| e == "json")
            && path
                .file_name()
                .is_some_and(|n| n != "latest.json" && n != "schema.json");
        if kind.is_dir() {
            result_files(root, &path, out, notes)?;
        } else if kind.is_symlink() && (wanted || path.is_dir()) {
            match std::fs::canonicalize(&path) {
                Ok(target) if target.is_file() && target.starts_with(root) => out.push(path),
                Ok(target) if target.is_dir() => notes.push(format!(
                    "passed over {}: a link to a directory is not followed",
                    path.display()
                )),
                _ => notes.push(format!(
                    "passed over {}: a link out of {}",
                    path.display(),
                    root.display()
                )),
            }
        } else if kind.is_file() && wanted {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads every result file under `dir`; returns the runs (oldest first) and notes.
pub fn load_runs(dir: &Path) -> Result<(Vec<ResultFile>, Vec<String>), UsageError> {
    let mut paths = Vec::new();
    let mut notes = Vec::new();
    let cannot = |e: std::io::Error| UsageError(format!("cannot read {}: {e}", dir.display()));
    let root = std::fs::canonicalize(dir).map_err(cannot)?;
    result_files(&root, dir, &mut paths, &mut notes).map_err(cannot)?;
    // A file and a link to it inside the directory are one run.
    let mut seen = std::collections::HashSet::new();
    paths.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    let mut runs = Vec::new();
    for path in paths {
        match load::load(&path) {
            Ok(run) => runs.push(run),
            Err(e) => notes.push(format!("passed over {e}")),
        }
    }
    if runs.is_empty() {
        return Err(UsageError(format!(
            "no coldstart result file under {}: publish one with scripts/ci-bench.sh",
            dir.display()
        )));
    }
    runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    Ok((runs, notes))
}

/// The trend of every group across the runs.
pub fn trends(runs: &[ResultFile]) -> Trends {
    let mut trends = Trends::new();
    for run in runs {
        for r in run.runtimes.iter().filter(|r| r.available) {
            for mode in [Mode::Cold, Mode::Warm] {
                if let Some(s) = r.modes.get(mode).phases.get(crate::phase::TOTAL) {
                    trends
                        .entry((mode, format!("{}:{}", r.runtime, r.variant)))
                        .or_default()
                        .push(Point {
                            started_at: run.started_at.clone(),
                            run_id: run.run_id.clone(),
                            p50_ns: s.p50_ns,
                            p99_ns: s.p99_ns,
                            count: s.count,
                        });
                }
            }
        }
    }
    trends
}

/// Markdown: one table per group.
pub fn markdown(runs: &[ResultFile], trends: &Trends) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# coldstart history\n");
    let _ = writeln!(
        out,
        "{} runs from {} to {}; p50 and p99 of each group's total time.\n",
        runs.len(),
        runs[0].started_at,
        runs[runs.len() - 1].started_at
    );
    for ((mode, name), points) in trends {
        let _ = writeln!(out, "## {name} {}\n", mode.name());
        let _ = writeln!(out, "| run started | run | p50 | p99 | samples |");
        let _ = writeln!(out, "|---|---|--:|--:|--:|");
        for p in points {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} |",
                p.started_at,
                p.run_id,
                format_ns(p.p50_ns as f64),
                format_ns(p.p99_ns as f64),
                p.count
            );
        }
        let _ = writeln!(out);
    }
    out
}

fn plot(runs: &[ResultFile], trends: &Trends, mode: Mode) -> Result<String, String> {
    let err = |e: &dyn std::fmt::Display| format!("drawing the history: {e}");
    let index: BTreeMap<&str, usize> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.run_id.as_str(), i))
        .collect();
    let lines: Vec<(&String, &Vec<Point>)> = trends
        .iter()
        .filter(|((m, _), _)| *m == mode)
        .map(|((_, name), points)| (name, points))
        .collect();
    let values = lines
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.p50_ns.max(1)));
    let (lo, hi) = values.fold((u64::MAX, 1), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lines.is_empty() {
        return Ok(format!("<p>No {} samples.</p>", mode.name()));
    }
    let labels: Vec<String> = runs
        .iter()
        .map(|r| r.started_at.chars().take(10).collect())
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{} p50 per run", mode.name()), ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(
                -0.5f64..(runs.len() as f64 - 0.5).max(0.5),
                (lo as f64 / 1.5..hi as f64 * 1.5).log_scale(),
            )
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_labels(runs.len().min(12))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format_ns(*v))
            .y_desc("p50 (log scale)")
            .draw()
            .map_err(|e| err(&e))?;
        for (k, (name, points)) in lines.iter().enumerate() {
            let color = Palette99::pick(k).mix(0.9);
            let xy: Vec<(f64, f64)> = points
                .iter()
                .filter_map(|p| {
                    Some((
                        *index.get(p.run_id.as_str())? as f64,
                        p.p50_ns.max(1) as f64,
                    ))
                })
                .collect();
            chart
                .draw_series(LineSeries::new(xy.clone(), color.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            chart
                .draw_series(xy.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                .map_err(|e| err(&e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}

/// HTML: a trend plot per mode, then the tables.
pub fn html(runs: &[ResultFile], trends: &Trends) -> Result<String, String> {
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>coldstart history</title>\
         <style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:3px 8px}</style></head><body>\n<h1>coldstart history</h1>\n",
    );
    for mode in [Mode::Cold, Mode::Warm] {
        let _ = writeln!(
            out,
            "<h2>{}</h2><figure>{}</figure>",
            mode.name(),
            plot(runs, trends, mode)?
        );
    }
    let tables = markdown(runs, trends);
    let _ = writeln!(
        out,
        "<h2>Figures</h2><pre>{}</pre></body></html>",
        tables.replace('&', "&amp;").replace('<', "&lt;")
    );
    Ok(out)
}
