//! A markdown report of a run: for a PR comment, a README or a published page.

use crate::format::{format_bytes, format_ns, format_time, TimeUnit};
use crate::results::{Mode, ResultFile};
use std::fmt::Write;

/// Renders the report; the tables' times in `unit`, or each in the unit that suits it.
pub fn render(results: &ResultFile, unit: Option<TimeUnit>) -> String {
    let mut out = String::new();
    let p = &results.parameters;
    let h = &results.host;
    let _ = writeln!(out, "# coldstart results\n");
    let _ = writeln!(
        out,
        "{} {} · run `{}` · seed {} · started {} · status {}\n",
        results.tool.name,
        results.tool.version,
        results.run_id,
        results.seed,
        results.started_at,
        serde_json::to_value(results.status)
            .expect("status serializes")
            .as_str()
            .unwrap_or("unknown")
    );
    let _ = writeln!(
        out,
        "Host: {} · {} · {} logical CPUs · {} · {} ({})\n",
        h.cpu_model,
        h.arch,
        h.logical_cpus,
        format_bytes(h.memory_bytes),
        h.os,
        h.kernel
    );
    let _ = writeln!(
        out,
        "Probe: init {} KiB + {} hash rounds, {} rounds per invocation · {} cold and {} warm samples per variant after {} warm-up · timeout {}\n",
        p.init_kib,
        p.init_iters,
        p.invoke_iters,
        p.cold_samples,
        p.warm_samples,
        p.warmup,
        format_ns(p.timeout_ns as f64)
    );
    let mut order = format!("Order: {}", p.order.name());
    if let Some(b) = p.block_size {
        let _ = write!(order, " of {b} items (the first of each unrecorded)");
    }
    if p.order != crate::results::Order::Interleave {
        let _ = write!(
            order,
            " · settle {} after each block that tore instances down",
            format_ns(p.settle_ns as f64)
        );
        if let Some(s) = &results.settles {
            let _ = write!(
                order,
                " and a quiet host ({} settles, {} in all, {} at the 1 s cap, {} without the host's CPU time)",
                s.count,
                format_ns(s.waited_ns as f64),
                s.not_quiet,
                s.unreadable
            );
        }
    }
    let _ = match p.max_consecutive_failures {
        0 => write!(order, " · no circuit breaker"),
        n => write!(
            order,
            " · a variant is abandoned after {n} failed cold starts in a row"
        ),
    };
    if let (Some(a), Some(b)) = (h.load_average_start, h.load_average_end) {
        let _ = write!(order, " · load average {:.2} → {:.2}", a[0], b[0]);
    }
    let _ = writeln!(out, "{order}\n");
    let _ = writeln!(
        out,
        "| runtime | variant | language | mode | valid | invalid | failed | p50 | p90 | p99 | max | mean ± stdev | artifact |"
    );
    let _ = writeln!(out, "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for r in &results.runtimes {
        if r.skipped_reason.is_some() {
            continue; // one row per runtime and reason, below
        }
        for mode in [Mode::Cold, Mode::Warm] {
            let m = r.modes.get(mode);
            if m.taken() == 0 && (mode == Mode::Warm || m.skipped == 0) {
                continue; // a variant that takes no samples of this mode
            }
            let artifact = r.artifact_bytes.map(format_bytes).unwrap_or_default();
            let with_unrecorded = crate::format::with_unrecorded;
            let invalid = with_unrecorded(m.invalid, m.unrecorded_invalid);
            let failed = with_unrecorded(m.failed, m.unrecorded_failed);
            match m.phases.get(crate::phase::TOTAL) {
                Some(s) => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ± {} | {} |",
                        r.runtime,
                        r.variant,
                        r.language,
                        mode.name(),
                        m.ok,
                        invalid,
                        failed,
                        format_time(s.p50_ns as f64, unit),
                        format_time(s.p90_ns as f64, unit),
                        format_time(s.p99_ns as f64, unit),
                        format_time(s.max_ns as f64, unit),
                        format_time(s.mean_ns, unit),
                        format_time(s.stdev_ns, unit),
                        artifact
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | {} | {} | no valid sample | | | | | {} |",
                        r.runtime,
                        r.variant,
                        r.language,
                        mode.name(),
                        m.ok,
                        invalid,
                        failed,
                        artifact
                    );
                }
            }
        }
    }
    for group in super::skipped_groups(&results.runtimes) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | — | — | — | — | skipped: {} | | | | | |",
            group.runtime,
            group.variant_list,
            group.language,
            group.reason.replace('|', "\\|")
        );
    }
    let _ = writeln!(out, "\n## Cold start phases (p50)\n");
    for r in results.runtimes.iter().filter(|r| r.available) {
        let phases: Vec<String> = r
            .phase_order
            .iter()
            .filter_map(|name| {
                r.modes
                    .cold
                    .phases
                    .get(name)
                    .map(|s| format!("{name} {}", format_time(s.p50_ns as f64, unit)))
            })
            .collect();
        if !phases.is_empty() {
            let _ = writeln!(out, "- **{}**: {}", r.label(), phases.join(" · "));
        }
    }
    reported(&mut out, results, unit);
    if let Some(t) = super::tables::languages(results) {
        let _ = writeln!(
            out,
            "\n## Languages: cold p50 / warm p50 per compute model\n\n{}\n\n{}",
            super::tables::LANGUAGE_NOTE,
            t.markdown()
        );
    }
    if let Some(t) = super::tables::density(results) {
        let _ = writeln!(
            out,
            "\n## Density: memory per live instance\n\n{}\n\n{}",
            super::tables::DENSITY_NOTE,
            t.markdown()
        );
    }
    if let Some(t) = super::tables::bursts(results) {
        let _ = writeln!(
            out,
            "\n## Bursts: cold starts launched at once\n\n{}\n\n{}",
            super::tables::BURST_NOTE,
            t.markdown()
        );
    }
    for r in results.runtimes.iter().filter(|r| r.available) {
        if let Some(reason) = &r.abandoned {
            let _ = writeln!(out, "\n**{}** {reason}.", r.label());
        }
        if !r.teardown_errors.is_empty() {
            let _ = writeln!(
                out,
                "\n**{}**: {} teardown errors:\n",
                r.label(),
                r.teardown_errors.len()
            );
            for e in r.teardown_errors.iter().take(10) {
                let _ = writeln!(out, "- {e}");
            }
        }
    }
    let problems: Vec<_> = results.samples.iter().filter(|s| !s.ok).collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\n## Samples not counted ({})\n", problems.len());
        for s in problems.iter().take(20) {
            let _ = writeln!(
                out,
                "- #{} {} {}: {:?}: {}",
                s.seq,
                s.key(),
                s.mode.name(),
                s.outcome,
                s.error.as_deref().unwrap_or("")
            );
        }
        if problems.len() > 20 {
            let _ = writeln!(out, "- … {} more in the JSON", problems.len() - 20);
        }
    }
    out
}

/// What platforms reported about themselves, and network baselines: apart from our
/// stopwatch's figures, labelled with their source.
fn reported(out: &mut String, results: &ResultFile, unit: Option<TimeUnit>) {
    let rows = super::reported_rows(results);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n## {}\n\n{}\n",
        super::REPORTED_TITLE,
        super::REPORTED_NOTE
    );
    let _ = writeln!(out, "| variant | mode | figure | n | p50 | p99 | source |");
    let _ = writeln!(out, "|---|---|---|--:|--:|--:|---|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.variant,
            r.mode,
            r.figure,
            r.n,
            format_time(r.p50_ns as f64, unit),
            format_time(r.p99_ns as f64, unit),
            r.source
        );
    }
}
