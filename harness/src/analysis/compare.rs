//! A/B comparison for CI gates, built not to cry wolf.
//!
//! Each side is one result file or a directory of them, one run each (e.g. five
//! back-to-back runs of the same build). Groups (runtime, variant, mode, phase)
//! present on both sides are compared:
//!
//! * **Between runs, not only within.** A run has a state of its own (the core the
//!   probe landed on, the page cache, the CPU frequency), and that varies more from
//!   run to run than samples do within one run: process warm round trips were
//!   12.8 µs in one run and 34.8 µs in the next. So each run is summarised by its
//!   median, and the change is estimated across runs: the ratio of the geometric
//!   means of the per-run medians (candidate / baseline), with a 95% confidence
//!   interval and a two-sided p-value from a **hierarchical bootstrap** (resample
//!   runs with replacement, then samples within each resampled run, take each
//!   run's median; 2000 resamples, seeded), as Firecracker's A/B tooling compares
//!   repeated runs. With one run on a side it still works, resampling samples only,
//!   and says that it cannot see between-run variance.
//! * **Multiple comparisons controlled** by Holm's step-down correction over the
//!   gated groups: it bounds the chance of *any* false flag in a comparison (the
//!   family-wise rate), which is what a CI gate that fails a build needs; a
//!   false-discovery bound (Benjamini–Hochberg) would let a gate fail on noise in a
//!   fixed share of its comparisons. By default the gate is the `total` of each mode
//!   (what users gate on); phases are shown and gated only with `--phases`.
//! * **One decision rule**: a group is flagged only when its Holm-corrected p is
//!   below alpha *and* its whole confidence interval lies beyond the threshold
//!   (a regression: CI above 1 + threshold; an improvement: below 1 / (1 +
//!   threshold)). A flag never disagrees with its own interval.
//! * **A noise floor from history** (`--noise-from DIR`): each group's run-to-run
//!   spread in earlier runs, two standard deviations of the log per-run medians,
//!   raises that group's threshold where the group is noisier than the threshold.

use crate::format::format_ns;
use crate::report::group_values;
use crate::results::{Mode, ResultFile};
use crate::stats::median;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Bootstrap resamples for the interval and the p-value.
use crate::stats::BOOTSTRAP;
/// Largest sample set used per run (larger ones are thinned evenly, in order).
const MAX_VALUES: usize = 2000;
/// Runs of history needed before a group's noise floor is estimated.
const MIN_HISTORY: usize = 3;

/// A group of samples that both sides can have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Group {
    pub runtime: String,
    pub variant: String,
    pub mode: Mode,
    pub phase: String,
}

impl std::fmt::Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{} {} {}",
            self.runtime,
            self.variant,
            self.mode.name(),
            self.phase
        )
    }
}

/// What the comparison says of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Regression,
    Improvement,
    NoChange,
    /// Shown, not gated (a phase without `--phases`).
    NotGated,
}

/// One compared group.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub group: Group,
    /// Runs on each side that have this group.
    pub baseline_runs: usize,
    pub candidate_runs: usize,
    /// Valid samples on each side, over all runs.
    pub baseline_n: usize,
    pub candidate_n: usize,
    /// Geometric mean of the per-run medians, ns.
    pub baseline_median_ns: f64,
    pub candidate_median_ns: f64,
    /// candidate / baseline
    pub ratio: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided bootstrap p-value of "no change".
    pub p_value: f64,
    /// Holm-corrected over the gated groups; `None` for a group not gated.
    pub p_corrected: Option<f64>,
    /// The smallest change that counts for this group: the threshold, or the noise
    /// floor from history where that is larger.
    pub threshold: f64,
    /// This group's run-to-run noise in the history, when asked for and known.
    pub noise_floor: Option<f64>,
    pub change: Change,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub compared: Vec<Comparison>,
    pub only_baseline: Vec<Group>,
    pub only_candidate: Vec<Group>,
    pub baseline_runs: usize,
    pub candidate_runs: usize,
    pub threshold: f64,
    pub alpha: f64,
    /// Whether phases are gated too (otherwise only `total`).
    pub phases_gated: bool,
    /// Notes for the reader (e.g. one run per side).
    pub notes: Vec<String>,
}

impl Report {
    pub fn regressions(&self) -> usize {
        self.compared
            .iter()
            .filter(|c| c.change == Change::Regression)
            .count()
    }
}

/// How `compare` decides.
#[derive(Debug, Clone)]
pub struct Settings {
    pub threshold: f64,
    pub alpha: f64,
    /// Gate on every phase, not only `total`.
    pub phases: bool,
    /// Earlier runs to take each group's noise floor from.
    pub history: Option<Vec<ResultFile>>,
}

fn groups(runs: &[ResultFile]) -> Vec<Group> {
    let mut out = Vec::new();
    for results in runs {
        for r in results.runtimes.iter().filter(|r| r.available) {
            for mode in [Mode::Cold, Mode::Warm] {
                for phase in r.modes.get(mode).phases.keys() {
                    out.push(Group {
                        runtime: r.runtime.clone(),
                        variant: r.variant.clone(),
                        mode,
                        phase: phase.clone(),
                    });
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The group's valid values of each run that has any (thinned to MAX_VALUES).
/// Also says whether any run was thinned.
fn run_values(runs: &[ResultFile], g: &Group) -> (Vec<Vec<f64>>, bool) {
    let mut thinned = false;
    let values = runs
        .iter()
        .map(|results| {
            let mut v = group_values(results, &g.runtime, &g.variant, g.mode, &g.phase);
            v.sort_unstable();
            let step = v.len().div_ceil(MAX_VALUES).max(1);
            thinned |= step > 1;
            v.into_iter().step_by(step).map(|x| x as f64).collect()
        })
        .filter(|v: &Vec<f64>| !v.is_empty())
        .collect();
    (values, thinned)
}

/// The log of each run's median.
fn log_medians(runs: &[Vec<f64>]) -> Vec<f64> {
    runs.iter()
        .map(|r| median(&mut r.clone()).max(1.0).ln())
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// One hierarchical resample: runs with replacement, then samples within each.
fn resampled_center(rng: &mut impl Rng, runs: &[Vec<f64>], scratch: &mut Vec<f64>) -> f64 {
    let mut logs = 0.0;
    for _ in 0..runs.len() {
        let run = &runs[rng.random_range(0..runs.len())];
        scratch.clear();
        scratch.extend((0..run.len()).map(|_| run[rng.random_range(0..run.len())]));
        logs += median(scratch).max(1.0).ln();
    }
    logs / runs.len() as f64
}

/// What one group's runs say, side against side.
struct Estimate {
    /// Geometric means of the per-run medians, ns.
    base_center: f64,
    cand_center: f64,
    ratio: f64,
    ci_low: f64,
    ci_high: f64,
    p: f64,
}

/// Ratio of the geometric means of the per-run medians, its 95% CI and a
/// two-sided p, from the hierarchical bootstrap.
fn estimate(base: &[Vec<f64>], cand: &[Vec<f64>], rng: &mut impl Rng) -> Estimate {
    let (b, c) = (mean(&log_medians(base)), mean(&log_medians(cand)));
    let mut scratch = Vec::new();
    let mut diffs: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            resampled_center(rng, cand, &mut scratch) - resampled_center(rng, base, &mut scratch)
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    let below = diffs.iter().filter(|d| **d <= 0.0).count();
    let above = diffs.iter().filter(|d| **d >= 0.0).count();
    Estimate {
        base_center: b.exp(),
        cand_center: c.exp(),
        ratio: (c - b).exp(),
        ci_low: diffs[BOOTSTRAP * 25 / 1000].exp(),
        ci_high: diffs[BOOTSTRAP * 975 / 1000 - 1].exp(),
        p: (2.0 * (below.min(above) + 1) as f64 / (BOOTSTRAP + 1) as f64).min(1.0),
    }
}

/// Holm's step-down adjustment of `p` (in any order); returns them in that order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p[*a].total_cmp(&p[*b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Each group's run-to-run noise in `history`: two standard deviations of the log
/// per-run medians, as a relative change (e^{2σ} − 1). Groups with fewer than
/// [`MIN_HISTORY`] runs get none.
pub fn noise_floors(history: &[ResultFile]) -> BTreeMap<Group, f64> {
    let mut floors = BTreeMap::new();
    for g in groups(history) {
        let (runs, _) = run_values(history, &g);
        if runs.len() < MIN_HISTORY {
            continue;
        }
        let logs = log_medians(&runs);
        let center = mean(&logs);
        let var = logs.iter().map(|l| (l - center).powi(2)).sum::<f64>() / (logs.len() - 1) as f64;
        floors.insert(g, (2.0 * var.sqrt()).exp() - 1.0);
    }
    floors
}

/// What differs between the runs of a comparison, beyond the build under test.
#[derive(Debug, Default, PartialEq)]
pub struct Differences {
    /// Differences that make the figures of different workloads: a refusal unless
    /// the user forces the comparison.
    pub refuse: Vec<String>,
    /// Differences a reader should know of (host, order, component versions).
    pub warn: Vec<String>,
}

/// Checks that every run of both sides measured the same thing as the first
/// baseline run: the same probe workload (else `refuse`), and the same order, host
/// and component versions (else `warn`, each difference said once).
pub fn differences(baseline: &[ResultFile], candidate: &[ResultFile]) -> Differences {
    let mut d = Differences::default();
    let Some(first) = baseline.first() else {
        return d;
    };
    let add = |list: &mut Vec<String>, text: String| {
        if !list.contains(&text) {
            list.push(text);
        }
    };
    let workload = |r: &ResultFile| {
        let p = &r.parameters;
        format!(
            "init {} KiB + {} rounds, {} rounds per invocation",
            p.init_kib, p.init_iters, p.invoke_iters
        )
    };
    for (side, runs) in [("baseline", baseline), ("candidate", candidate)] {
        for run in runs {
            let id = format!("{side} run {}", run.run_id);
            if workload(run) != workload(first) {
                add(
                    &mut d.refuse,
                    format!(
                        "probe parameters differ: {} vs {} ({id})",
                        workload(first),
                        workload(run)
                    ),
                );
            }
            if run.parameters.order != first.parameters.order {
                add(
                    &mut d.warn,
                    format!(
                        "order differs: {} vs {} ({id})",
                        first.parameters.order.name(),
                        run.parameters.order.name()
                    ),
                );
            }
            if run.host.identity() != first.host.identity() {
                add(
                    &mut d.warn,
                    format!(
                        "host differs: {} vs {} ({id})",
                        first.host.identity(),
                        run.host.identity()
                    ),
                );
            }
            for r in run.runtimes.iter().filter(|r| r.available) {
                let Some(f) = first
                    .runtimes
                    .iter()
                    .find(|f| f.available && f.runtime == r.runtime && f.variant == r.variant)
                else {
                    continue;
                };
                for (component, version) in &r.versions {
                    match f.versions.get(component) {
                        Some(v) if v != version => add(
                            &mut d.warn,
                            format!(
                                "{}:{} {component} differs: {v} vs {version} ({id})",
                                r.runtime, r.variant
                            ),
                        ),
                        _ => {}
                    }
                }
            }
        }
    }
    d
}

/// Compares every group both sides share.
pub fn compare(baseline: &[ResultFile], candidate: &[ResultFile], settings: &Settings) -> Report {
    let (gb, gc) = (groups(baseline), groups(candidate));
    let floors = settings.history.as_deref().map(noise_floors);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut compared = Vec::new();
    let mut thinned = false;
    for g in gb.iter().filter(|g| gc.contains(g)) {
        let ((b, thinned_b), (c, thinned_c)) = (run_values(baseline, g), run_values(candidate, g));
        thinned |= thinned_b || thinned_c;
        if b.is_empty() || c.is_empty() {
            continue;
        }
        let e = estimate(&b, &c, &mut rng);
        let noise_floor = floors.as_ref().and_then(|f| f.get(g).copied());
        compared.push(Comparison {
            group: g.clone(),
            baseline_runs: b.len(),
            candidate_runs: c.len(),
            baseline_n: b.iter().map(Vec::len).sum(),
            candidate_n: c.iter().map(Vec::len).sum(),
            baseline_median_ns: e.base_center,
            candidate_median_ns: e.cand_center,
            ratio: e.ratio,
            ci_low: e.ci_low,
            ci_high: e.ci_high,
            p_value: e.p,
            p_corrected: None,
            threshold: settings.threshold.max(noise_floor.unwrap_or(0.0)),
            noise_floor,
            change: Change::NotGated,
        });
    }
    let gated: Vec<usize> = (0..compared.len())
        .filter(|i| settings.phases || compared[*i].group.phase == crate::phase::TOTAL)
        .collect();
    let corrected = holm(
        &gated
            .iter()
            .map(|i| compared[*i].p_value)
            .collect::<Vec<_>>(),
    );
    for (i, p) in gated.into_iter().zip(corrected) {
        let c = &mut compared[i];
        c.p_corrected = Some(p);
        let significant = p < settings.alpha;
        c.change = if significant && c.ci_low > 1.0 + c.threshold {
            Change::Regression
        } else if significant && c.ci_high < 1.0 / (1.0 + c.threshold) {
            Change::Improvement
        } else {
            Change::NoChange
        };
    }
    let mut notes = Vec::new();
    if baseline.len() < 2 || candidate.len() < 2 {
        notes.push(format!(
            "{} baseline and {} candidate run(s): with one run on a side, only the variation \
             within that run is seen, not the larger variation between runs; compare \
             directories of several runs per side for a gate that does not cry wolf",
            baseline.len(),
            candidate.len()
        ));
    }
    if thinned {
        notes.push(format!(
            "n is the samples used: a run with more than {MAX_VALUES} valid values in a group \
             is thinned evenly to {MAX_VALUES} of them (its sorted values, every k-th)"
        ));
    }
    if settings.history.is_some() && floors.as_ref().is_some_and(BTreeMap::is_empty) {
        notes.push(format!(
            "the history holds fewer than {MIN_HISTORY} runs of every group: no noise floor"
        ));
    }
    Report {
        compared,
        only_baseline: gb.iter().filter(|g| !gc.contains(g)).cloned().collect(),
        only_candidate: gc.iter().filter(|g| !gb.contains(g)).cloned().collect(),
        baseline_runs: baseline.len(),
        candidate_runs: candidate.len(),
        threshold: settings.threshold,
        alpha: settings.alpha,
        phases_gated: settings.phases,
        notes,
    }
}

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
pub fn render(report: &Report, baseline: &str, candidate: &str, format: Format) -> String {
    if format == Format::Json {
        #[derive(Serialize)]
        struct Doc<'a> {
            baseline: &'a str,
            candidate: &'a str,
            #[serde(flatten)]
            report: &'a Report,
            regressions: usize,
        }
        let doc = Doc {
            baseline,
            candidate,
            report,
            regressions: report.regressions(),
        };
        return serde_json::to_string_pretty(&doc).expect("a report serializes") + "\n";
    }
    let markdown = format == Format::Markdown;
    let mut out = String::new();
    let rule = format!(
        "{} baseline run(s), {} candidate run(s). A group is flagged when its Holm-corrected \
         p < {} and its whole 95% CI lies beyond the threshold ({:.0}%, or the group's noise \
         floor where larger); gated: {}.",
        report.baseline_runs,
        report.candidate_runs,
        report.alpha,
        report.threshold * 100.0,
        if report.phases_gated {
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
    for c in &report.compared {
        let threshold = match c.noise_floor {
            Some(noise) if noise > report.threshold => {
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
        ("only in the baseline", &report.only_baseline),
        ("only in the candidate", &report.only_candidate),
    ] {
        if !groups.is_empty() {
            let names: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
            let _ = writeln!(out, "\n{label} (not compared): {}", names.join(", "));
        }
    }
    for note in &report.notes {
        let _ = writeln!(out, "\nNote: {note}.");
    }
    let _ = writeln!(
        out,
        "\n{} groups compared, {} gated, {} regressions.",
        report.compared.len(),
        report
            .compared
            .iter()
            .filter(|c| c.p_corrected.is_some())
            .count(),
        report.regressions()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(center: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| center * (0.9 + 0.2 * rng.random::<f64>()))
            .collect()
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn holm_steps_down_and_stays_monotone() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.5]);
        // Sorted: 0.01×4, 0.03×3, 0.04×2, 0.5×1 -> 0.04, 0.09, 0.09 (monotone), 0.5.
        let expected = [0.04, 0.09, 0.09, 0.5];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{adjusted:?}");
        }
        assert_eq!(holm(&[0.6, 0.6]), [1.0, 1.0]);
    }

    #[test]
    fn within_one_run_a_real_shift_is_significant_and_noise_is_not() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let Estimate {
            ratio,
            ci_low: lo,
            ci_high: hi,
            p,
            ..
        } = estimate(&[noisy(100.0, 200, 1)], &[noisy(150.0, 200, 2)], &mut rng);
        assert!((ratio - 1.5).abs() < 0.05, "{ratio}");
        assert!(lo < ratio && ratio < hi && lo > 1.3, "{lo} {hi}");
        assert!(p < 0.01, "{p}");
        let Estimate {
            ratio,
            ci_low: lo,
            ci_high: hi,
            p,
            ..
        } = estimate(&[noisy(100.0, 200, 3)], &[noisy(100.0, 200, 4)], &mut rng);
        assert!(
            (ratio - 1.0).abs() < 0.05 && lo < 1.0 && hi > 1.0,
            "{ratio} {lo} {hi}"
        );
        assert!(p > 0.05, "{p}");
    }

    #[test]
    fn between_run_variance_widens_the_interval() {
        // Five runs a side whose medians wander by ±30% from run to run, the same
        // on both sides: within-run resampling alone would call the first run of each
        // side different; across runs, the interval includes 1.
        let centers = [70.0, 130.0, 100.0, 85.0, 115.0];
        let base: Vec<Vec<f64>> = centers
            .iter()
            .enumerate()
            .map(|(i, c)| noisy(*c, 200, i as u64))
            .collect();
        let cand: Vec<Vec<f64>> = centers
            .iter()
            .rev()
            .enumerate()
            .map(|(i, c)| noisy(*c, 200, 10 + i as u64))
            .collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let Estimate {
            ci_low: lo,
            ci_high: hi,
            p,
            ..
        } = estimate(&base[..1], &cand[..1], &mut rng);
        assert!(p < 0.01 && lo > 1.3, "one run a side: {lo} {hi} {p}");
        let Estimate {
            ratio,
            ci_low: lo,
            ci_high: hi,
            p,
            ..
        } = estimate(&base, &cand, &mut rng);
        assert!(lo < 1.0 && hi > 1.0 && p > 0.05, "{ratio} {lo} {hi} {p}");
        assert!(hi / lo > 1.3, "the spread between runs shows: {lo} {hi}");
    }
}
