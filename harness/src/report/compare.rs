//! The A/B comparison written out: a text table for a terminal, a markdown table
//! for a PR comment, or JSON for a script. How the comparison decides is in
//! [`crate::analysis::compare`]; this only shows what it found.

use crate::analysis::compare::{Basis, Change, CompareResult};
use crate::format::format_ns;
use serde::Serialize;
use std::fmt::Write;

fn change_words(c: Change) -> &'static str {
    match c {
        Change::Regression => "REGRESSION",
        Change::Improvement => "improvement",
        Change::NoChange => "no change",
        Change::Advisory => "advisory",
        Change::NotGated => "shown only",
    }
}

/// What a group's interval and p rest on, in a few words.
fn basis_words(b: Basis) -> String {
    match b {
        Basis::BetweenRuns { df } => format!("runs, df {df:.1}"),
        Basis::History { runs, df, .. } => format!("history of {runs}, df {df:.0}"),
        Basis::WithinRun => "within run".into(),
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
        "{} baseline and {} candidate file(s); threshold {}%, --alpha {}, {} gated group(s) \
         tested. Rule: {}.",
        result.baseline_runs,
        result.candidate_runs,
        format_percent(result.threshold),
        result.alpha,
        result.tested,
        result.rule
    );
    if markdown {
        let _ = writeln!(
            out,
            "### coldstart compare\n\nBaseline `{baseline}`, candidate `{candidate}`. {rule}\n"
        );
        let _ = writeln!(
            out,
            "| group | runs | baseline p50 | candidate p50 | ratio | CI | level | p↑ (Holm) | p↓ (Holm) | basis | result |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|");
    } else {
        let _ = writeln!(out, "baseline {baseline}\ncandidate {candidate}\n{rule}\n");
    }
    let p = |raw: Option<f64>, holm: Option<f64>| match (raw, holm) {
        (Some(_), Some(h)) => format!("{h:.2e}"),
        (Some(r), None) => format!("{r:.2e} raw"),
        _ => "—".into(),
    };
    for c in &result.compared {
        let cells = [
            c.group.to_string(),
            format!(
                "{}/{}{}",
                c.baseline_runs,
                c.candidate_runs,
                if c.partial { "*" } else { "" }
            ),
            format_ns(c.baseline_median_ns),
            format_ns(c.candidate_median_ns),
            format!("{:.3}", c.ratio),
            format!("{:.3}–{:.3}", c.ci_low, c.ci_high),
            format!("{}%", format_percent(c.ci_level)),
            p(c.p_regression, c.p_regression_holm),
            p(c.p_improvement, c.p_improvement_holm),
            basis_words(c.basis),
            change_words(c.change).to_string(),
        ];
        if markdown {
            let mut cells = cells;
            if c.change == Change::Regression {
                cells[10] = format!("**{}**", cells[10]);
            }
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        } else {
            let _ = writeln!(
                out,
                "{:<36} runs {:<6} {:>9} -> {:>9}  ×{:<6} CI {:<13} ({:<5}) p↑ {:<9} p↓ {:<9} {:<16} {}",
                cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6], cells[7],
                cells[8], cells[9], cells[10]
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
        "\n{} groups compared, {} tested for the gate, {} advisory, {} regressions.",
        result.compared.len(),
        result.tested,
        result
            .compared
            .iter()
            .filter(|c| c.change == Change::Advisory)
            .count(),
        result.regressions()
    );
    out
}

/// A fraction as a percentage with no trailing zeros (0.1 → "10", 0.9917 → "99.17").
fn format_percent(f: f64) -> String {
    let text = format!("{:.2}", f * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
