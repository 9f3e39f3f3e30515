//! How `compare` decides whether a build got slower, built not to cry wolf.
//!
//! Each side is one result file or a directory of them, one run each (e.g. five
//! back-to-back runs of the same build). Every group (runtime, variant, mode, phase)
//! present on both sides is compared:
//!
//! * **Between runs, not only within**: each run is summarised by its median, and
//!   the change is the ratio of the geometric means of the per-run medians, with a
//!   95% CI and a p-value from the hierarchical bootstrap
//!   ([`crate::stats::hierarchical_bootstrap`]; 2000 resamples, seeded). One run a
//!   side still works and says that it cannot see between-run variance.
//! * **Multiple comparisons controlled** by Holm's step-down correction
//!   ([`crate::stats::holm`]) over the gated groups: by default the `total` of each
//!   mode (what users gate on); phases are shown, and gated only with `--phases`.
//! * **One decision rule**: a group is flagged only when its Holm-corrected p is
//!   below alpha *and* its whole confidence interval lies beyond the threshold
//!   (a regression: CI above 1 + threshold; an improvement: below 1 / (1 +
//!   threshold)). A flag never disagrees with its own interval.
//! * **A noise floor from history** (`--noise-from DIR`): each group's run-to-run
//!   spread in earlier runs, two standard deviations of the log per-run medians,
//!   raises that group's threshold where the group is noisier than the threshold.
//!
//! [`differences`] says beforehand whether the two sides measured the same
//! workload. The result is written out by [`crate::report::compare`].

use crate::results::{Mode, ResultFile};
use crate::stats::hierarchical_bootstrap::{estimate, log_medians};
use crate::stats::holm::holm;
use crate::stats::mean;
use rand::SeedableRng;
use serde::Serialize;
use std::collections::BTreeMap;

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

/// The whole comparison: every compared group, what only one side has, and how
/// it was decided.
#[derive(Debug, Clone, Serialize)]
pub struct CompareResult {
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
            let mut v = results.group_values(&g.runtime, &g.variant, g.mode, &g.phase);
            v.sort_unstable();
            let step = v.len().div_ceil(MAX_VALUES).max(1);
            thinned |= step > 1;
            v.into_iter().step_by(step).map(|x| x as f64).collect()
        })
        .filter(|v: &Vec<f64>| !v.is_empty())
        .collect();
    (values, thinned)
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
pub fn compare(
    baseline: &[ResultFile],
    candidate: &[ResultFile],
    settings: &Settings,
) -> CompareResult {
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
    CompareResult {
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
