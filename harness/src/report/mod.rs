//! Reports on result files: the article's claims judged against a run, with the run's
//! tables, as text, markdown or a self-contained HTML page with plots. Any valid
//! result file works, whatever runtimes it holds; what it lacks is `not measured`.
//! [`compare`] writes out an A/B comparison of two sides of runs.

pub mod compare;
pub mod history;
pub mod html;

use crate::analysis::claims::Verdict;
use crate::export;
use crate::export::tables::Table;
use crate::format::{self, format_bytes, TimeUnit};
use crate::results::ResultFile;
use std::collections::BTreeMap;
use std::fmt::Write;

/// How a verdict is decided, in one sentence for every report.
pub const VERDICT_RULE: &str = "holds only when the whole interval lies inside the claimed range, \
inconclusive when it straddles a bound, not enough samples below each claim's minimum (30 by default); \
figures a platform reports about itself never enter a verdict";

/// What a verdict's interval can see: resampled blocks of one run, or runs too.
pub fn runs_caveat(results: &ResultFile) -> String {
    let runs = results.merged_from.as_ref().map_or(1, Vec::len);
    if runs > 1 {
        format!(
            "Each interval resamples this file's {runs} runs, then the harness's blocks \
             within each (a block bootstrap), so it includes the variation between runs."
        )
    } else {
        "Each interval resamples the harness's blocks of this one run (a block bootstrap), \
         so it cannot see the variation between runs: a verdict on a claimed band narrower \
         than that variation is not decided by one run. `coldstart merge` several runs to \
         include it."
            .into()
    }
}

/// What every report states: where, with what, from how many samples.
pub fn provenance(results: &ResultFile) -> Vec<String> {
    let h = &results.host;
    let mut versions: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &results.runtimes {
        for (k, v) in &r.versions {
            versions.insert(k, v);
        }
    }
    let versions: Vec<String> = versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let mut counts = Vec::new();
    for r in results.runtimes.iter().filter(|r| r.available) {
        let (c, w) = (&r.modes.cold, &r.modes.warm);
        counts.push(format!("{} {}+{}", r.label(), c.ok, w.ok));
    }
    vec![
        format!(
            "Run {} by {} {} · seed {} · started {} · {}",
            results.run_id,
            results.tool.name,
            results.tool.version,
            results.seed,
            results.started_at,
            serde_json::to_value(results.status)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        ),
        format!(
            "Host: {} · {} logical CPUs · {} · {} · kernel {}",
            h.cpu_model,
            h.logical_cpus,
            format_bytes(h.memory_bytes),
            h.os,
            h.kernel
        ),
        format!(
            "Versions: {}",
            if versions.is_empty() {
                "-".into()
            } else {
                versions.join(", ")
            }
        ),
        format!(
            "Valid samples (cold+warm): {} · {} samples in all",
            if counts.is_empty() {
                "none".into()
            } else {
                counts.join(", ")
            },
            results.samples.len()
        ),
    ]
}

/// The claims as a plain-text table, then the run's summary and what platforms
/// reported about themselves; the run's times in `unit` when given.
pub fn text(results: &ResultFile, verdicts: &[Verdict], unit: Option<TimeUnit>) -> String {
    let mut out = String::new();
    for line in provenance(results) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "\nThe article's claims, judged on this run (on the p50 and its 95% CI: {}). {}\n",
        VERDICT_RULE,
        runs_caveat(results)
    );
    let claims = Table {
        header: ["claim", "measured on", "claimed", "measured", "verdict"]
            .map(String::from)
            .to_vec(),
        rows: verdicts
            .iter()
            .map(|v| {
                vec![
                    v.claim.id.clone(),
                    v.on.clone(),
                    v.claimed(),
                    v.measured(),
                    v.words(),
                ]
            })
            .collect(),
        right_from: usize::MAX,
    };
    out.push_str(&claims.text());
    let _ = writeln!(out, "\nQuotes:");
    let mut seen = Vec::new();
    for v in verdicts {
        if !seen.contains(&v.claim.id) {
            seen.push(v.claim.id.clone());
            let _ = writeln!(
                out,
                "  {} (line {}): \"{}\"",
                v.claim.id, v.claim.line, v.claim.quote
            );
            // What was tested, where it is not the claim's own subject (local
            // wasmtime for Workers, local figures kept out of FaaS claims).
            if let Some(note) = &v.claim.note {
                let _ = writeln!(out, "      note: {note}");
            }
        }
    }
    let _ = writeln!(out, "\n{}", export::terminal::render(results, unit));
    let reported = export::reported_rows(results);
    if !reported.is_empty() {
        let _ = writeln!(
            out,
            "{}. {}\n",
            export::REPORTED_TITLE,
            export::REPORTED_NOTE
        );
        let table = Table {
            header: ["variant", "mode", "figure", "n", "p50", "p99", "source"]
                .map(String::from)
                .to_vec(),
            rows: reported
                .iter()
                .map(|r| {
                    vec![
                        r.variant.clone(),
                        r.mode.clone(),
                        r.figure.clone(),
                        r.n.to_string(),
                        format::format_time(r.p50_ns as f64, unit),
                        format::format_time(r.p99_ns as f64, unit),
                        r.source.clone(),
                    ]
                })
                .collect(),
            right_from: usize::MAX,
        };
        out.push_str(&table.text());
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The claims as a markdown table (for a PR comment or a README), then the run.
pub fn markdown(results: &ResultFile, verdicts: &[Verdict], unit: Option<TimeUnit>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# The article's claims, measured\n");
    for line in provenance(results) {
        let _ = writeln!(out, "{line}  ");
    }
    let _ = writeln!(
        out,
        "\nVerdicts are read off the p50 and its 95% CI: {VERDICT_RULE}. Ratios are between runtimes of this one run. {}\n",
        runs_caveat(results)
    );
    let _ = writeln!(
        out,
        "| claim | the article says | measured on | claimed | measured | verdict |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for v in verdicts {
        let mut quote = format!("“{}” (l. {})", v.claim.quote, v.claim.line);
        if let Some(note) = &v.claim.note {
            quote.push_str(&format!(" — {note}"));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | **{}** |",
            v.claim.id,
            md_escape(&quote),
            md_escape(if v.on.is_empty() { "—" } else { &v.on }),
            v.claimed(),
            v.measured(),
            md_escape(&v.words())
        );
    }
    let _ = writeln!(out);
    out.push_str(&export::markdown::render(results, unit).replacen(
        "# coldstart results",
        "## The run",
        1,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lambda's REPORT figures (another clock than ours) get their own table with
    /// their source in every format, and enter no verdict.
    #[test]
    fn platform_reported_figures_get_their_own_labelled_table_everywhere() {
        let text = include_str!("../../../fixtures/results-small.json");
        let mut results = crate::results::load::parse(text).unwrap();
        let r = &mut results.runtimes[0];
        r.reported_source = Some("Lambda's REPORT log line (the platform's clock)".into());
        let init = crate::stats::summarize(&crate::stats::record(vec![18_000_000; 5])).unwrap();
        r.modes
            .cold
            .reported
            .insert("init_duration_ns".into(), init);
        let claims = crate::analysis::claims::parse(crate::analysis::claims::BUILTIN).unwrap();
        let verdicts = crate::analysis::claims::evaluate(&claims, &results);
        let html = html::render(&results, &verdicts).unwrap();
        for out in [
            text_report(&results, &verdicts),
            markdown(&results, &verdicts, None),
            html,
        ] {
            assert!(out.contains(export::REPORTED_TITLE), "{out}");
            assert!(out.contains("init_duration_ns"), "{out}");
            assert!(out.contains("Lambda's REPORT log line"), "{out}");
            assert!(out.contains("18.0 ms"), "{out}");
        }
        assert!(verdicts.iter().all(|v| !v.measured().contains("18.0 ms")));
    }

    fn text_report(results: &ResultFile, verdicts: &[Verdict]) -> String {
        text(results, verdicts, None)
    }
}
