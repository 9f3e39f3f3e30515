//! The history of published runs as markdown tables, or an HTML page with a trend
//! plot per mode (log time axis). The trends are [`crate::analysis::history`]'s.

use crate::analysis::history::{Point, Trends};
use crate::format::format_ns;
use crate::results::{Mode, ResultFile};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write;

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
