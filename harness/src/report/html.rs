//! The HTML report: one self-contained file (no script, no external resource) with
//! the claims, the run's table and inline SVG plots drawn by plotters' SVG backend:
//! the latency CDF of every runtime variant for cold and for warm on a log time
//! axis, and the cold phases of each variant as a stacked bar.

use super::provenance;
use crate::analysis::claims::Verdict;
use crate::export::tables::LanguageRow;
use crate::format::format_ns;
use crate::results::{Mode, ResultFile};
use plotters::prelude::*;
use std::fmt::Write;

/// Most points drawn per CDF line (the rest are evenly thinned out).
const MAX_POINTS: usize = 1500;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn plot_error<E: std::fmt::Display>(e: E) -> String {
    format!("drawing a plot: {e}")
}

/// The CDF of the total time of every measured variant in `mode`.
fn cdf(results: &ResultFile, mode: Mode) -> Result<String, String> {
    let mut series: Vec<(String, Vec<u64>)> = results
        .runtimes
        .iter()
        .filter(|r| r.available)
        .map(|r| {
            let mut v = results.group_values(&r.key(), mode, crate::phase::TOTAL);
            v.sort_unstable();
            (r.label(), v)
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if series.is_empty() {
        return Ok(format!("<p>No valid {} samples.</p>", mode.name()));
    }
    series.sort_by_key(|(_, v)| v[v.len() / 2]);
    let lo = series.iter().map(|(_, v)| v[0]).min().unwrap_or(1).max(1) as f64;
    let hi = series
        .iter()
        .map(|(_, v)| v[v.len() - 1])
        .max()
        .unwrap_or(1)
        .max(2) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{} latency CDF (total)", mode.name()),
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d((lo / 1.3..hi * 1.3).log_scale(), 0f64..100f64)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("time (log scale)")
            .y_desc("% of samples at or below")
            .x_label_formatter(&|v| format_ns(*v))
            .draw()
            .map_err(plot_error)?;
        for (i, (name, values)) in series.iter().enumerate() {
            let color = Palette99::pick(i).mix(0.9);
            let n = values.len();
            let step = n.div_ceil(MAX_POINTS).max(1);
            let points: Vec<(f64, f64)> = (0..n)
                .step_by(step)
                .chain(std::iter::once(n - 1))
                .map(|k| (values[k] as f64, (k + 1) as f64 * 100.0 / n as f64))
                .collect();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(plot_error)?
                .label(format!("{name} (p50 {})", format_ns(values[n / 2] as f64)))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// The language table with each cell shaded by its cold p50 on a log scale across
/// the table: light for the fastest, dark for the slowest.
fn language_heat_map(rows: &[LanguageRow]) -> String {
    let colds: Vec<f64> = (rows.iter().flat_map(|r| &r.cells))
        .filter_map(|c| c.p50_ns(Mode::Cold))
        .map(|v| (v.max(1) as f64).ln())
        .collect();
    let lo = colds.iter().copied().fold(f64::MAX, f64::min);
    let hi = colds.iter().copied().fold(f64::MIN, f64::max);
    let mut out = String::from("<table><tr><th>compute model</th>");
    for c in rows.first().map(|r| r.cells.as_slice()).unwrap_or_default() {
        let _ = write!(out, "<th>{}</th>", esc(c.language.name()));
    }
    out.push_str("</tr>\n");
    for row in rows {
        let _ = write!(out, "<tr><td>{}</td>", esc(&row.model));
        for cell in &row.cells {
            let style = match cell.p50_ns(Mode::Cold) {
                Some(v) => {
                    let share = if hi > lo {
                        ((v.max(1) as f64).ln() - lo) / (hi - lo)
                    } else {
                        0.0
                    };
                    // From a pale to a deep orange; text turns white on the dark end.
                    let light = 92.0 - 52.0 * share;
                    let ink = if share > 0.6 { "#fff" } else { "#000" };
                    format!(" style=\"background:hsl(28,90%,{light:.0}%);color:{ink}\"")
                }
                None => String::new(),
            };
            let _ = write!(out, "<td{style}>{}</td>", esc(&cell.text()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// Cold p50 per compute model, one bar per language, on a log axis.
fn language_bars(rows: &[LanguageRow]) -> Result<String, String> {
    let languages: Vec<_> = (rows.first().map(|r| r.cells.as_slice()).unwrap_or_default())
        .iter()
        .map(|c| c.language)
        .collect();
    let values = || (rows.iter().flat_map(|r| &r.cells)).filter_map(|c| c.p50_ns(Mode::Cold));
    let Some(lo) = values().min() else {
        return Ok("<p>No valid cold samples.</p>".into());
    };
    let lo = (lo.max(1) as f64) / 2.0;
    let hi = (values().max().unwrap_or(1) as f64 * 2.0).max(lo * 4.0);
    let width = languages.len() as f64 + 1.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let models: Vec<String> = rows.iter().map(|r| r.model.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Cold start p50 by language, per compute model",
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..rows.len() as f64 * width, (lo..hi).log_scale())
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(rows.len() * 2 + 1)
            .x_label_formatter(&|x| {
                let slot = (x / width).floor() as usize;
                let centre = slot as f64 * width + width / 2.0;
                match models.get(slot) {
                    Some(m) if (x - centre).abs() < width / 4.0 => m.clone(),
                    _ => String::new(),
                }
            })
            .y_desc("cold total p50")
            .y_label_formatter(&|v| format_ns(*v))
            .draw()
            .map_err(plot_error)?;
        for (i, language) in languages.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            let bars = rows.iter().enumerate().filter_map(|(slot, row)| {
                let v = row.cells[i].p50_ns(Mode::Cold)? as f64;
                let x = slot as f64 * width + 0.5 + i as f64;
                Some(Rectangle::new([(x, lo), (x + 0.9, v)], colour.filled()))
            });
            chart
                .draw_series(bars)
                .map_err(plot_error)?
                .label(language.name())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// p50 (solid) and p99 (dashed) of each variant's burst total against the
/// concurrency, both axes on a log scale.
fn burst_plot(results: &ResultFile) -> Result<String, String> {
    // Per variant: (concurrency, p50 ns, p99 ns) of each level.
    type Points = Vec<(f64, f64, f64)>;
    let series: Vec<(String, Points)> = results
        .runtimes
        .iter()
        .filter(|r| !r.bursts.is_empty())
        .map(|r| {
            let points = r
                .bursts
                .iter()
                .filter_map(|b| {
                    let s = b.phases.get(crate::phase::TOTAL)?;
                    Some((b.concurrency as f64, s.p50_ns as f64, s.p99_ns as f64))
                })
                .collect();
            (r.label(), points)
        })
        .filter(|(_, p): &(String, Points)| !p.is_empty())
        .collect();
    if series.is_empty() {
        return Ok("<p>No valid burst samples.</p>".into());
    }
    let all = || series.iter().flat_map(|(_, p)| p.iter());
    let max_c = all().map(|p| p.0).fold(1.0, f64::max);
    let lo = all().map(|p| p.1).fold(f64::MAX, f64::min).max(1.0);
    let hi = all().map(|p| p.2).fold(1.0, f64::max).max(lo * 2.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Burst cold starts: p50 (solid) and p99 (dashed) against concurrency",
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(
                (0.8..max_c * 1.25).log_scale(),
                (lo / 1.5..hi * 1.5).log_scale(),
            )
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("cold starts launched at once (log scale)")
            .y_desc("launch → verified answer (log scale)")
            .y_label_formatter(&|v| format_ns(*v))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(plot_error)?;
        for (i, (name, points)) in series.iter().enumerate() {
            let color = Palette99::pick(i).mix(0.9);
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.0, p.1)),
                    color.stroke_width(2),
                ))
                .map_err(plot_error)?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            chart
                .draw_series(DashedLineSeries::new(
                    points.iter().map(|p| (p.0, p.2)),
                    6,
                    4,
                    color.stroke_width(1),
                ))
                .map_err(plot_error)?;
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|p| Circle::new((p.0, p.1), 3, color.filled())),
                )
                .map_err(plot_error)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// One bar: a variant's name, its cold total p50, and its phases' p50s in order.
type Bar = (String, u64, Vec<(String, u64)>);

/// The cold phases of each variant: each phase's median as a share of their sum.
fn phases(results: &ResultFile) -> Result<String, String> {
    let rows: Vec<Bar> = results
        .runtimes
        .iter()
        .filter(|r| r.available)
        .filter_map(|r| {
            let total = r.modes.cold.phases.get(crate::phase::TOTAL)?.p50_ns;
            let parts: Vec<(String, u64)> = r
                .phase_order
                .iter()
                .filter(|p| *p != crate::phase::TOTAL)
                .filter_map(|p| Some((p.clone(), r.modes.cold.phases.get(p)?.p50_ns)))
                .collect();
            Some((r.label(), total, parts))
        })
        .collect();
    if rows.is_empty() {
        return Ok("<p>No valid cold samples.</p>".into());
    }
    let mut names: Vec<String> = Vec::new();
    for (_, _, parts) in &rows {
        for (p, _) in parts {
            if !names.contains(p) {
                names.push(p.clone());
            }
        }
    }
    let mut svg = String::new();
    {
        let height = 120 + 44 * rows.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (960, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let labels: Vec<String> = rows
            .iter()
            .map(|(name, total, _)| format!("{name} ({})", format_ns(*total as f64)))
            .collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "cold start phases (share of the phase medians)",
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(250)
            // Bars end at 100%; the space beyond holds the legend.
            .build_cartesian_2d(0f64..145f64, 0f64..rows.len() as f64)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows.len() * 2 + 1)
            .y_label_formatter(&|y| {
                let i = y.floor() as usize;
                if (y - i as f64 - 0.5).abs() < 0.01 {
                    labels.get(i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc("% of the cold start")
            .x_label_formatter(&|x| {
                if *x <= 100.0 {
                    format!("{x:.0}")
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(plot_error)?;
        for (k, phase) in names.iter().enumerate() {
            let color = Palette99::pick(k + 3).mix(0.85);
            let mut bars = Vec::new();
            for (i, (_, _, parts)) in rows.iter().enumerate() {
                let sum: u64 = parts.iter().map(|(_, v)| v).sum::<u64>().max(1);
                let mut x = 0.0;
                for (p, v) in parts {
                    let w = *v as f64 * 100.0 / sum as f64;
                    if p == phase {
                        bars.push(Rectangle::new(
                            [(x, i as f64 + 0.15), (x + w, i as f64 + 0.85)],
                            color.filled(),
                        ));
                    }
                    x += w;
                }
            }
            chart
                .draw_series(bars)
                .map_err(plot_error)?
                .label(phase.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// The whole page.
pub fn render(results: &ResultFile, verdicts: &[Verdict]) -> Result<String, String> {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>coldstart report {}</title>\n\
         <style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0;font-size:14px}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}\
         th{{background:#f3f3f3}}.prov{{color:#555;font-size:14px}}figure{{margin:1.5em 0}}</style></head><body>\n",
        esc(&results.run_id)
    );
    let _ = writeln!(out, "<h1>coldstart: the article's claims, measured</h1>");
    for line in provenance(results) {
        let _ = writeln!(out, "<p class=\"prov\">{}</p>", esc(&line));
    }
    let _ = writeln!(
        out,
        "<h2>Claims</h2><p>Verdicts are read off the p50 and its 95% CI: {}. Ratios are between runtimes of this one run. {}</p>",
        esc(super::VERDICT_RULE),
        esc(&super::runs_caveat(results))
    );
    let _ = writeln!(out, "<table><tr><th>claim</th><th>the article says</th><th>measured on</th><th>claimed</th><th>measured</th><th>verdict</th></tr>");
    for v in verdicts {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>“{}” (l. {}){}</td><td>{}</td><td>{}</td><td>{}</td><td><b>{}</b></td></tr>",
            esc(&v.claim.id),
            esc(&v.claim.quote),
            v.claim.line,
            v.claim.note.as_ref().map(|n| format!("<br><i>{}</i>", esc(n))).unwrap_or_default(),
            esc(&v.on),
            esc(&v.claimed()),
            esc(&v.measured()),
            esc(&v.words())
        );
    }
    let _ = writeln!(out, "</table>");
    for (title, svg) in [
        ("Cold starts", cdf(results, Mode::Cold)?),
        ("Warm invocations", cdf(results, Mode::Warm)?),
        ("Where a cold start goes", phases(results)?),
    ] {
        let _ = writeln!(out, "<h2>{title}</h2><figure>{svg}</figure>");
    }
    let _ = writeln!(out, "<h2>The run</h2><table><tr><th>runtime:variant</th><th>mode</th><th>valid</th><th>invalid</th><th>failed</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>");
    for r in &results.runtimes {
        if let Some(reason) = &r.skipped_reason {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td colspan=\"8\">skipped: {}</td></tr>",
                esc(&r.label()),
                esc(reason)
            );
            continue;
        }
        for mode in [Mode::Cold, Mode::Warm] {
            let m = r.modes.get(mode);
            if m.taken() == 0 && (mode == Mode::Warm || m.skipped == 0) {
                continue;
            }
            let cell = |f: fn(&crate::stats::Summary) -> u64| {
                m.phases
                    .get(crate::phase::TOTAL)
                    .map(|s| format_ns(f(s) as f64))
                    .unwrap_or_else(|| "-".into())
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.label()), mode.name(), m.ok,
                crate::format::with_unrecorded(m.invalid, m.unrecorded_invalid),
                crate::format::with_unrecorded(m.failed, m.unrecorded_failed),
                cell(|s| s.p50_ns), cell(|s| s.p90_ns), cell(|s| s.p99_ns), cell(|s| s.max_ns)
            );
        }
    }
    let _ = writeln!(out, "</table>");
    let language_rows = crate::export::tables::language_rows(results);
    if !language_rows.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Languages: cold p50 / warm p50 per compute model</h2><p>{}</p>{}<figure>{}</figure>",
            esc(crate::export::tables::LANGUAGE_NOTE),
            language_heat_map(&language_rows),
            language_bars(&language_rows)?
        );
    }
    if let Some(t) = crate::export::tables::density(results) {
        let _ = writeln!(
            out,
            "<h2>Density: memory per live instance</h2><p>{}</p>{}",
            esc(crate::export::tables::DENSITY_NOTE),
            t.html(esc)
        );
    }
    if let Some(t) = crate::export::tables::bursts(results) {
        let _ = writeln!(
            out,
            "<h2>Bursts: cold starts launched at once</h2><p>{}</p>{}<figure>{}</figure>",
            esc(crate::export::tables::BURST_NOTE),
            t.html(esc),
            burst_plot(results)?
        );
    }
    let reported = crate::export::reported_rows(results);
    if !reported.is_empty() {
        let _ = writeln!(
            out,
            "<h2>{}</h2><p>{}</p><table><tr><th>variant</th><th>mode</th><th>figure</th><th>n</th><th>p50</th><th>p99</th><th>source</th></tr>",
            crate::export::REPORTED_TITLE,
            crate::export::REPORTED_NOTE
        );
        for r in reported {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.variant),
                esc(&r.mode),
                esc(&r.figure),
                r.n,
                format_ns(r.p50_ns as f64),
                format_ns(r.p99_ns as f64),
                esc(&r.source)
            );
        }
        let _ = writeln!(out, "</table>");
    }
    let _ = writeln!(out, "</body></html>");
    Ok(out)
}
