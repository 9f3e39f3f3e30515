//! How `compare` decides whether a build got slower, built not to cry wolf.
//!
//! [`RULE`] says it in one sentence (the README and `--help` repeat it). In parts:
//!
//! * **The unit is a run.** A run has a state of its own (the core, the page cache,
//!   the CPU frequency) that varies far more from run to run than samples do within
//!   one, so each group (runtime, variant, mode, phase) of each run is summarised by
//!   its log median, and the change is the difference of the sides' means of those:
//!   the ratio of geometric means of per-run medians, candidate / baseline.
//! * **One test at one level.** Each gated group (the `total` of each mode; every
//!   phase with `--phases`) gets a one-sided Welch t-test of "ratio ≤ 1 + threshold"
//!   ([`crate::stats::t_test`], an analytic p: no resampling floor), and the p-values
//!   of all gated groups are corrected together by Holm ([`crate::stats::holm`]), so
//!   the chance that an unchanged build fails the gate is at most `--alpha`.
//!   Improvements are the mirror test on the log scale ("ratio ≥ 1 / (1 +
//!   threshold)": about 1 − threshold for a small threshold, and defined for any),
//!   corrected in their own family; they are reported and never fail the gate.
//! * **A flag and its interval agree.** Each bound of a gated group's interval is
//!   the one-sided bound at the level where Holm stopped in that bound's family:
//!   1 − α/k with k gated groups and nothing flagged, 1 − α/(k − f) after f flags
//!   (1 − α when all k are).
//!   A group is flagged exactly when its lower bound lies above 1 + threshold.
//! * **Between-run variance is required to gate.** With fewer than [`MIN_RUNS`] runs
//!   on a side a group is `advisory`: its ratio and a within-run 95% interval (the
//!   block bootstrap, [`crate::stats::block_bootstrap`]) are shown, nothing is
//!   tested, and the exit code stays 0 — unless `--gate-single-run` takes each
//!   group's run-to-run spread from earlier runs (`--noise-from`): then the test
//!   uses that spread with the history's degrees of freedom, a prediction bound for
//!   a new run.
//!
//! [`differences`] says beforehand whether the two sides measured the same
//! workload. The result is written out by [`crate::report::compare`].

use crate::probes::Language;
use crate::results::{Mode, ResultFile, RunnerKey};
use crate::stats::block_bootstrap::{self, RunBlocks};
use crate::stats::holm::holm;
use crate::stats::mean;
use crate::stats::t_test::{spread, Spread, TDifference};
use serde::Serialize;
use std::collections::BTreeMap;

/// Runs a side needs for its between-run variance to gate.
pub const MIN_RUNS: usize = 3;

/// The decision rule in one sentence.
pub const RULE: &str = "a gated group (the total of each mode; every phase with --phases) is a \
regression when a one-sided Welch t-test on the per-run log medians puts candidate/baseline above \
1 + threshold at the family-wise level --alpha (Holm over the gated groups), which is exactly when \
the lower bound of its interval lies above 1 + threshold (an improvement is the mirror test \
against 1 / (1 + threshold) and never fails the gate); with fewer than 3 runs on a side a group is \
advisory and does not gate, unless --gate-single-run takes its run-to-run spread from --noise-from";

/// Confidence of the intervals of groups that are not gated (phases, advisory groups).
const SHOWN_LEVEL: f64 = 0.95;

/// A group of samples that both sides can have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Group {
    pub runtime: String,
    pub variant: String,
    /// The probe's language; absent for Rust.
    #[serde(skip_serializing_if = "Language::is_rust")]
    pub language: Language,
    pub mode: Mode,
    pub phase: String,
}

impl Group {
    /// The row the group's samples are of.
    pub fn row(&self) -> RunnerKey {
        RunnerKey {
            runtime: self.runtime.clone(),
            variant: self.variant.clone(),
            language: self.language,
        }
    }
}

impl std::fmt::Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.row(), self.mode.name(), self.phase)
    }
}

/// What the comparison says of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Regression,
    Improvement,
    NoChange,
    /// Gated, but too few runs on a side to see between-run variance: shown only.
    Advisory,
    /// Shown, not gated (a phase without `--phases`).
    NotGated,
}

/// Where a group's uncertainty comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Basis {
    /// Welch's t on both sides' per-run log medians, with its degrees of freedom.
    BetweenRuns { df: f64 },
    /// The spread (SD of log per-run medians) of earlier runs: `--gate-single-run`.
    History { runs: usize, sd_log: f64, df: f64 },
    /// Fewer than [`MIN_RUNS`] runs on a side: a within-run block-bootstrap interval.
    WithinRun,
}

/// One compared group.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub group: Group,
    /// Runs of the baseline that have this group (a merged file gives its runs).
    pub baseline_runs: usize,
    /// Runs of the candidate that have this group.
    pub candidate_runs: usize,
    /// Some file of a side has no valid value of this group.
    pub partial: bool,
    /// Valid samples of the baseline, over all its runs.
    pub baseline_n: usize,
    /// Valid samples of the candidate.
    pub candidate_n: usize,
    /// Geometric mean of the baseline's per-run medians, ns.
    pub baseline_median_ns: f64,
    /// Geometric mean of the candidate's per-run medians, ns.
    pub candidate_median_ns: f64,
    /// candidate / baseline
    pub ratio: f64,
    /// The interval of the ratio: for a tested gated group, each bound one-sided at
    /// the level of Holm's last step in its direction (1 − α/(k − flagged)); for
    /// other groups, 95% two-sided.
    pub ci_low: f64,
    pub ci_high: f64,
    /// The nominal two-sided level those bounds were computed at (1 minus both
    /// bounds' one-sided misses). For a gated group it follows from how many were
    /// flagged, so it is a level per group, not a simultaneous coverage of all.
    pub ci_level: f64,
    pub basis: Basis,
    /// One-sided p of "ratio ≤ 1 + threshold"; `None` for a within-run basis.
    pub p_regression: Option<f64>,
    /// One-sided p of "ratio ≥ 1 / (1 + threshold)".
    pub p_improvement: Option<f64>,
    /// `p_regression` Holm-corrected over the gated groups; `None` for a group not
    /// tested.
    pub p_regression_holm: Option<f64>,
    /// `p_improvement` Holm-corrected over the gated groups (their own family).
    pub p_improvement_holm: Option<f64>,
    /// The smallest change that counts.
    pub threshold: f64,
    pub change: Change,
}

/// The whole comparison: every compared group, what only one side has, and how
/// it was decided.
#[derive(Debug, Clone, Serialize)]
pub struct CompareResult {
    pub compared: Vec<Comparison>,
    pub only_baseline: Vec<Group>,
    pub only_candidate: Vec<Group>,
    /// Result files of the baseline.
    pub baseline_runs: usize,
    /// Result files of the candidate.
    pub candidate_runs: usize,
    pub threshold: f64,
    pub alpha: f64,
    /// Whether phases are gated too (otherwise only `total`).
    pub phases_gated: bool,
    /// Gated groups that were tested (Holm's k).
    pub tested: usize,
    /// The rule the decisions follow ([`RULE`]).
    pub rule: &'static str,
    /// Notes for the reader (e.g. groups advisory for too few runs).
    pub notes: Vec<String>,
}

impl CompareResult {
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
    /// Earlier runs to take each group's run-to-run spread from.
    pub history: Option<Vec<ResultFile>>,
    /// Gate a side of fewer than [`MIN_RUNS`] runs on the history's spread.
    pub gate_single_run: bool,
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
                        language: r.language,
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

/// A side's runs of a group (a merged file gives its runs), and how many of the
/// side's files have none.
fn side_runs(files: &[ResultFile], g: &Group) -> (Vec<RunBlocks>, usize) {
    let mut runs = Vec::new();
    let mut missing = 0;
    for file in files {
        let of_file = file.group_runs(&g.row(), g.mode, &g.phase);
        missing += usize::from(of_file.is_empty());
        runs.extend(of_file);
    }
    (runs, missing)
}

/// The log of each run's median (of at least 1 ns).
fn log_medians(runs: &[RunBlocks]) -> Vec<f64> {
    runs.iter().map(RunBlocks::log_median).collect()
}

/// A group's run-to-run spread in earlier runs.
#[derive(Debug, Clone, Copy)]
pub struct HistorySpread {
    /// Runs of the history that have the group.
    pub runs: usize,
    /// The standard deviation of their log medians, with its degrees of freedom.
    pub spread: Spread,
}

/// Each group's run-to-run spread in `history`; groups with fewer than
/// [`MIN_RUNS`] runs get none.
pub fn history_spreads(history: &[ResultFile]) -> BTreeMap<Group, HistorySpread> {
    let mut out = BTreeMap::new();
    for g in groups(history) {
        let (runs, _) = side_runs(history, &g);
        if runs.len() < MIN_RUNS {
            continue;
        }
        if let Some(spread) = spread(&log_medians(&runs)) {
            out.insert(
                g,
                HistorySpread {
                    runs: runs.len(),
                    spread,
                },
            );
        }
    }
    out
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
                    .find(|f| f.available && f.is(&r.key()))
                else {
                    continue;
                };
                for (component, version) in &r.versions {
                    match f.versions.get(component) {
                        Some(v) if v != version => add(
                            &mut d.warn,
                            format!("{} {component} differs: {v} vs {version} ({id})", r.label()),
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
pub fn compare(
    baseline: &[ResultFile],
    candidate: &[ResultFile],
    settings: &Settings,
) -> CompareResult {
    let (gb, gc) = (groups(baseline), groups(candidate));
    let spreads = settings.history.as_deref().map(history_spreads);
    let mut compared = Vec::new();
    let mut tests: Vec<Option<TDifference>> = Vec::new();
    let mut thinned = false;
    let mut without_history = 0;
    for g in gb.iter().filter(|g| gc.contains(g)) {
        let ((b, missing_b), (c, missing_c)) = (side_runs(baseline, g), side_runs(candidate, g));
        if b.is_empty() || c.is_empty() {
            continue;
        }
        thinned |= b.iter().chain(&c).any(RunBlocks::is_thinned);
        let (lb, lc) = (log_medians(&b), log_medians(&c));
        let enough = b.len() >= MIN_RUNS && c.len() >= MIN_RUNS;
        let history = spreads.as_ref().and_then(|s| s.get(g));
        let (basis, test) = if enough {
            let t = TDifference::welch(&lb, &lc).expect("three runs a side");
            (Basis::BetweenRuns { df: t.df }, Some(t))
        } else if let (true, Some(h)) = (settings.gate_single_run, history) {
            let t = TDifference::from_history(&lb, &lc, h.spread).expect("runs on both sides");
            (
                Basis::History {
                    runs: h.runs,
                    sd_log: h.spread.sd,
                    df: h.spread.df,
                },
                Some(t),
            )
        } else {
            without_history += usize::from(settings.gate_single_run);
            (Basis::WithinRun, None)
        };
        let gated = settings.phases || g.phase == crate::phase::TOTAL;
        let (mb, mc) = (mean(&lb), mean(&lc));
        // Intervals of groups that are not tested now; tested ones after Holm.
        let (ci_low, ci_high) = match &test {
            Some(t) => (
                t.lower(1.0 - (1.0 - SHOWN_LEVEL) / 2.0).exp(),
                t.upper(1.0 - (1.0 - SHOWN_LEVEL) / 2.0).exp(),
            ),
            None => block_bootstrap::interval(&[&b, &c], |m| m[1] / m[0], SHOWN_LEVEL, 0)
                .map_or((f64::NAN, f64::NAN), |ci| (ci.lo, ci.hi)),
        };
        let (up, down) = (
            (1.0 + settings.threshold).ln(),
            -(1.0 + settings.threshold).ln(),
        );
        compared.push(Comparison {
            group: g.clone(),
            baseline_runs: b.len(),
            candidate_runs: c.len(),
            partial: missing_b + missing_c > 0,
            baseline_n: b.iter().map(RunBlocks::len).sum(),
            candidate_n: c.iter().map(RunBlocks::len).sum(),
            baseline_median_ns: mb.exp(),
            candidate_median_ns: mc.exp(),
            ratio: (mc - mb).exp(),
            ci_low,
            ci_high,
            ci_level: SHOWN_LEVEL,
            basis,
            p_regression: test.map(|t| t.p_above(up)),
            p_improvement: test.map(|t| t.p_below(down)),
            p_regression_holm: None,
            p_improvement_holm: None,
            threshold: settings.threshold,
            change: match (gated, test.is_some()) {
                (false, _) => Change::NotGated,
                (true, false) => Change::Advisory,
                (true, true) => Change::NoChange,
            },
        });
        tests.push(test);
    }

    // Holm over the tested gated groups, once per direction.
    let tested: Vec<usize> = (0..compared.len())
        .filter(|i| compared[*i].change == Change::NoChange)
        .collect();
    let k = tested.len();
    let family = |p: fn(&Comparison) -> Option<f64>| -> (Vec<f64>, f64) {
        let adjusted = holm(
            &tested
                .iter()
                .map(|i| p(&compared[*i]).expect("tested"))
                .collect::<Vec<_>>(),
        );
        let flagged = adjusted.iter().filter(|p| **p < settings.alpha).count();
        // The level Holm stopped at: each bound of the family is at 1 − this.
        let level = settings.alpha / k.saturating_sub(flagged).max(1) as f64;
        (adjusted, level)
    };
    let (up_holm, up_level) = family(|c| c.p_regression);
    let (down_holm, down_level) = family(|c| c.p_improvement);
    for (j, &i) in tested.iter().enumerate() {
        let t = tests[i].expect("tested");
        let c = &mut compared[i];
        c.p_regression_holm = Some(up_holm[j]);
        c.p_improvement_holm = Some(down_holm[j]);
        c.ci_low = t.lower(1.0 - up_level).exp();
        c.ci_high = t.upper(1.0 - down_level).exp();
        c.ci_level = 1.0 - up_level - down_level;
        c.change = if up_holm[j] < settings.alpha {
            Change::Regression
        } else if down_holm[j] < settings.alpha {
            Change::Improvement
        } else {
            Change::NoChange
        };
    }

    let mut notes = Vec::new();
    let advisory = compared
        .iter()
        .filter(|c| c.change == Change::Advisory)
        .count();
    if advisory > 0 {
        notes.push(format!(
            "{advisory} gated group(s) advisory: fewer than {MIN_RUNS} runs on a side ({} \
             baseline, {} candidate file(s)), so only the variation within runs is seen (a 95% \
             block-bootstrap interval over the harness's blocks, or 5 blocks of consecutive \
             samples where a run has fewer), not the larger variation \
             between runs; they do not gate. Give each side {MIN_RUNS} runs or more, or \
             --gate-single-run with --noise-from earlier runs",
            baseline.len(),
            candidate.len()
        ));
    }
    if settings.gate_single_run && without_history > 0 {
        notes.push(format!(
            "--gate-single-run: {without_history} group(s) have fewer than {MIN_RUNS} runs in \
             the history, so no spread to gate on"
        ));
    }
    if settings.history.is_some() && !settings.gate_single_run {
        notes.push(
            "--noise-from is read only with --gate-single-run: with enough runs a side the \
             test takes the variation between runs from the runs themselves"
                .into(),
        );
    }
    if compared.iter().any(|c| c.partial) {
        notes.push(
            "a group marked * is missing from some files of a side: its runs count only those \
             that have it"
                .into(),
        );
    }
    if thinned {
        notes.push(format!(
            "a run with more than {} valid values in a group is thinned evenly (every k-th \
             value in the order taken) for its interval; its median uses every value",
            block_bootstrap::MAX_VALUES
        ));
    }
    CompareResult {
        compared,
        only_baseline: gb.iter().filter(|g| !gc.contains(g)).cloned().collect(),
        only_candidate: gc.iter().filter(|g| !gb.contains(g)).cloned().collect(),
        baseline_runs: baseline.len(),
        candidate_runs: candidate.len(),
        threshold: settings.threshold,
        alpha: settings.alpha,
        phases_gated: settings.phases,
        tested: k,
        rule: RULE,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_states_the_runs_it_needs() {
        assert!(RULE.contains(&format!("fewer than {MIN_RUNS} runs on a side")));
    }
}
