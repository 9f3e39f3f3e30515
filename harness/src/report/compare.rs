//! The A/B comparison written out: a text table for a terminal, a markdown table
//! for a PR comment, or JSON for a script. How the comparison decides is in
//! [`crate::analysis::compare`]; this only shows what it found.

use crate::analysis::compare::{Change, CompareResult};
use crate::format::format_ns;
use serde::Serialize;
use std::fmt::Write;

fn change_words(c: Change) -> &'static str {
    match c {
        Change::Regression => "REGRESSION",
        Change::Improvement => "improvement",
        Change::NoChange => "no change",
        Change::NotGated => "shown only",
    }
}

/// How the comparison is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// The comparison as text, markdown (for a PR comment) or JSON.
pub fn render(result: &CompareResult, baseline: &str, candidate: &str, format: Format) -> String {
    if format == Format::Json {
        #[derive(Serialize)]
        struct Doc<'a> {
            baseline: &'a str,
            candidate: &'a str,
            #[serde(flatten)]
            result: &'a CompareResult,
            regressions: usize,
        }
        let doc = Doc {
            baseline,
            candidate,
            result,
            regressions: result.regressions(),
        };
        return serde_json::to_string_pretty(&doc).expect("a comparison serializes") + "\n";
    }
    let markdown = format == Format::Markdown;
    let mut out = String::new();
    let rule = format!(
        "{} baseline run(s), {} candidate run(s). A group is flagged when its Holm-corrected \
         p < {} and its whole 95% CI lies beyond the threshold ({:.0}%, or the group's noise \
         floor where larger); gated: {}.",
        result.baseline_runs,
        result.candidate_runs,
        result.alpha,
        result.threshold * 100.0,
        if result.phases_gated {
            "every phase"
        } else {
            "the total of each mode"
        }
    );
    if markdown {
        let _ = writeln!(
            out,
            "### coldstart compare\n\nBaseline `{baseline}`, candidate `{candidate}`. {rule}\n"
        );
        let _ = writeln!(
            out,
            "| group | baseline p50 | candidate p50 | ratio | 95% CI | p | p (Holm) | threshold | n | result |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    } else {
        let _ = writeln!(out, "baseline {baseline}\ncandidate {candidate}\n{rule}\n");
    }
    for c in &result.compared {
        let threshold = match c.noise_floor {
            Some(noise) if noise > result.threshold => {
                format!("{:.0}% (noise)", c.threshold * 100.0)
            }
            _ => format!("{:.0}%", c.threshold * 100.0),
        };
        let cells = [
            c.group.to_string(),
            format_ns(c.baseline_median_ns),
            format_ns(c.candidate_median_ns),
            format!("{:.3}", c.ratio),
            format!("{:.3}–{:.3}", c.ci_low, c.ci_high),
            format!("{:.4}", c.p_value),
            c.p_corrected
                .map(|p| format!("{p:.4}"))
                .unwrap_or_else(|| "—".into()),
            threshold,
            format!("{}/{}", c.baseline_n, c.candidate_n),
            change_words(c.change).to_string(),
        ];
        if markdown {
            let mut cells = cells;
            if c.change == Change::Regression {
                cells[9] = format!("**{}**", cells[9]);
            }
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        } else {
            let _ =
                writeln!(
                out,
                "{:<40} {:>9} -> {:>9}  ×{:<6} CI {:<13} p {:<6} holm {:<6} thr {:<11} n {:<10} {}",
                cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6], cells[7],
                cells[8], cells[9]
            );
        }
    }
    for (label, groups) in [
        ("only in the baseline", &result.only_baseline),
        ("only in the candidate", &result.only_candidate),
    ] {
        if !groups.is_empty() {
            let names: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
            let _ = writeln!(out, "\n{label} (not compared): {}", names.join(", "));
        }
    }
    for note in &result.notes {
        let _ = writeln!(out, "\nNote: {note}.");
    }
    let _ = writeln!(
        out,
        "\n{} groups compared, {} gated, {} regressions.",
        result.compared.len(),
        result
            .compared
            .iter()
            .filter(|c| c.p_corrected.is_some())
            .count(),
        result.regressions()
    );
    out
}
