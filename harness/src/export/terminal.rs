//! The summary printed at the end of `coldstart run`.

use crate::format::{format_bytes, format_time, TimeUnit};
use crate::results::{Mode, ResultFile};
use std::fmt::Write;

/// A plain-text table: one row per runtime variant and mode; times in `unit`, or
/// each in the unit that suits it.
pub fn render(results: &ResultFile, unit: Option<TimeUnit>) -> String {
    let mut rows: Vec<[String; 9]> = vec![[
        "runtime:variant".into(),
        "mode".into(),
        "valid".into(),
        "bad".into(),
        "p50".into(),
        "p90".into(),
        "p99".into(),
        "max".into(),
        "artifact".into(),
    ]];
    let mut skipped = Vec::new();
    for r in &results.runtimes {
        let name = r.label();
        if r.skipped_reason.is_some() {
            continue; // said once per reason, below
        }
        if let Some(reason) = &r.abandoned {
            let n = r.modes.cold.skipped + r.modes.warm.skipped;
            skipped.push(format!("{name} {reason}; {n} items skipped"));
        }
        if !r.teardown_errors.is_empty() {
            skipped.push(format!(
                "{name}: {} teardown errors, the first: {}",
                r.teardown_errors.len(),
                r.teardown_errors[0]
            ));
        }
        for mode in [Mode::Cold, Mode::Warm] {
            let m = r.modes.get(mode);
            if m.unrecorded_problems() > 0 {
                skipped.push(format!(
                    "{name} {}: of the blocks' unrecorded first items, {} did not verify \
                     and {} failed (not in the counts above)",
                    mode.name(),
                    m.unrecorded_invalid,
                    m.unrecorded_failed
                ));
            }
            if m.taken() == 0 && (mode == Mode::Warm || m.skipped == 0) {
                continue; // a variant that takes no samples of this mode
            }
            let stat = |f: fn(&crate::stats::Summary) -> u64| {
                m.phases
                    .get(crate::phase::TOTAL)
                    .map(|s| format_time(f(s) as f64, unit))
                    .unwrap_or_else(|| "-".into())
            };
            rows.push([
                name.clone(),
                mode.name().into(),
                m.ok.to_string(),
                (m.invalid + m.failed).to_string(),
                stat(|s| s.p50_ns),
                stat(|s| s.p90_ns),
                stat(|s| s.p99_ns),
                stat(|s| s.max_ns),
                r.artifact_bytes.map(format_bytes).unwrap_or_default(),
            ]);
        }
    }
    let mut rows = rows.into_iter().map(Vec::from);
    let header = rows.next().expect("the header row");
    let mut out = super::tables::Table {
        header,
        rows: rows.collect(),
        right_from: 2,
    }
    .text();
    for super::SkippedGroup {
        variants: names,
        reason,
        ..
    } in super::skipped_groups(&results.runtimes)
    {
        let _ = writeln!(out, "{names} skipped: {reason}");
    }
    for line in skipped {
        let _ = writeln!(out, "{line}");
    }
    if let Some(t) = super::tables::languages(results) {
        let _ = writeln!(
            out,
            "\nLanguages: cold p50 / warm p50 per compute model\n{}",
            t.text()
        );
    }
    if let Some(t) = super::tables::density(results) {
        let _ = writeln!(out, "\nDensity: memory per live instance\n{}", t.text());
    }
    if let Some(t) = super::tables::bursts(results) {
        let _ = writeln!(out, "\nBursts: cold starts launched at once\n{}", t.text());
    }
    out
}
