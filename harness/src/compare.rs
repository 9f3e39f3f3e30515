//! A/B comparison of two result files, for CI gates.
//!
//! Groups (runtime, variant, mode, phase) present in both files are compared on their
//! valid samples (raw samples, or values reconstructed from the histogram when a file
//! has none). For each: the ratio of medians (candidate / baseline) with a 95%
//! bootstrap confidence interval, and a two-sided permutation test of the difference
//! of medians (as Firecracker's A/B tooling does with its own statistic). A group is a
//! regression only when it is both significant (p < alpha) and slower by more than the
//! threshold; likewise an improvement. Resampling is seeded, so a comparison is
//! reproducible. Groups present in only one file are listed, not failed.

use crate::export::format_ns;
use crate::report::group_values;
use crate::results::{Mode, ResultFile};
use rand::{Rng, SeedableRng};
use std::fmt::Write;

/// Bootstrap resamples for the confidence interval.
const BOOTSTRAP: usize = 1000;
/// Permutations for the p-value.
const PERMUTATIONS: usize = 1000;
/// Largest sample set used per side (larger ones are thinned evenly, in order).
const MAX_VALUES: usize = 2000;

/// A group of samples that both files can have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Regression,
    Improvement,
    NoChange,
}

/// One compared group.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub group: Group,
    pub baseline_n: usize,
    pub candidate_n: usize,
    pub baseline_median_ns: f64,
    pub candidate_median_ns: f64,
    /// candidate median / baseline median
    pub ratio: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub change: Change,
}

/// The whole comparison.
#[derive(Debug, Clone)]
pub struct Report {
    pub compared: Vec<Comparison>,
    pub only_baseline: Vec<Group>,
    pub only_candidate: Vec<Group>,
    pub threshold: f64,
    pub alpha: f64,
}

impl Report {
    pub fn regressions(&self) -> usize {
        self.compared
            .iter()
            .filter(|c| c.change == Change::Regression)
            .count()
    }
}

fn groups(results: &ResultFile) -> Vec<Group> {
    let mut out = Vec::new();
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
    out.sort();
    out
}

fn values(results: &ResultFile, g: &Group) -> Vec<f64> {
    let mut v = group_values(results, &g.runtime, &g.variant, g.mode, &g.phase);
    v.sort_unstable();
    let step = v.len().div_ceil(MAX_VALUES).max(1);
    v.into_iter().step_by(step).map(|x| x as f64).collect()
}

/// Median of a slice (reorders it).
fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    let mid = n / 2;
    let (_, upper, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        let lower = v[..mid].iter().copied().fold(f64::MIN, f64::max);
        (lower + upper) / 2.0
    }
}

fn resample(rng: &mut impl Rng, from: &[f64], into: &mut Vec<f64>) {
    into.clear();
    into.extend((0..from.len()).map(|_| from[rng.random_range(0..from.len())]));
}

/// Compares two value sets; `rng` makes it reproducible.
fn compare_values(
    base: &[f64],
    cand: &[f64],
    rng: &mut impl Rng,
) -> (f64, f64, f64, f64, f64, f64) {
    let bm = median(&mut base.to_vec());
    let cm = median(&mut cand.to_vec());
    let ratio = cm / bm.max(1.0);
    let (mut rb, mut rc) = (Vec::new(), Vec::new());
    let mut ratios: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            resample(rng, base, &mut rb);
            resample(rng, cand, &mut rc);
            median(&mut rc) / median(&mut rb).max(1.0)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let ci_low = ratios[BOOTSTRAP * 25 / 1000];
    let ci_high = ratios[BOOTSTRAP * 975 / 1000 - 1];
    let observed = (cm - bm).abs();
    let mut pooled: Vec<f64> = base.iter().chain(cand).copied().collect();
    let mut extreme = 0;
    for _ in 0..PERMUTATIONS {
        // Partial Fisher-Yates: the first base.len() entries become the "baseline".
        for i in 0..base.len() {
            let j = rng.random_range(i..pooled.len());
            pooled.swap(i, j);
        }
        let (a, b) = pooled.split_at_mut(base.len());
        if (median(&mut b.to_vec()) - median(&mut a.to_vec())).abs() >= observed {
            extreme += 1;
        }
    }
    let p = (extreme + 1) as f64 / (PERMUTATIONS + 1) as f64;
    (bm, cm, ratio, ci_low, ci_high, p)
}

/// Compares every group the two files share.
pub fn compare(
    baseline: &ResultFile,
    candidate: &ResultFile,
    threshold: f64,
    alpha: f64,
) -> Report {
    let (gb, gc) = (groups(baseline), groups(candidate));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut compared = Vec::new();
    for g in gb.iter().filter(|g| gc.contains(g)) {
        let (b, c) = (values(baseline, g), values(candidate, g));
        if b.is_empty() || c.is_empty() {
            continue;
        }
        let (bm, cm, ratio, ci_low, ci_high, p_value) = compare_values(&b, &c, &mut rng);
        let change = if p_value < alpha && ratio > 1.0 + threshold {
            Change::Regression
        } else if p_value < alpha && ratio < 1.0 / (1.0 + threshold) {
            Change::Improvement
        } else {
            Change::NoChange
        };
        compared.push(Comparison {
            group: g.clone(),
            baseline_n: b.len(),
            candidate_n: c.len(),
            baseline_median_ns: bm,
            candidate_median_ns: cm,
            ratio,
            ci_low,
            ci_high,
            p_value,
            change,
        });
    }
    Report {
        compared,
        only_baseline: gb.iter().filter(|g| !gc.contains(g)).cloned().collect(),
        only_candidate: gc.iter().filter(|g| !gb.contains(g)).cloned().collect(),
        threshold,
        alpha,
    }
}

fn change_words(c: Change) -> &'static str {
    match c {
        Change::Regression => "REGRESSION",
        Change::Improvement => "improvement",
        Change::NoChange => "no change",
    }
}

/// The comparison as text (`markdown` for a PR comment).
pub fn render(report: &Report, baseline: &str, candidate: &str, markdown: bool) -> String {
    let mut out = String::new();
    let rule = format!(
        "A group is flagged when p < {} and its median moved by more than {:.0}%.",
        report.alpha,
        report.threshold * 100.0
    );
    if markdown {
        let _ = writeln!(
            out,
            "### coldstart compare\n\nBaseline `{baseline}`, candidate `{candidate}`. {rule}\n"
        );
        let _ = writeln!(
            out,
            "| group | baseline p50 | candidate p50 | ratio | 95% CI | p | n | result |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|---|");
    } else {
        let _ = writeln!(out, "baseline {baseline}\ncandidate {candidate}\n{rule}\n");
    }
    for c in &report.compared {
        let cells = [
            c.group.to_string(),
            format_ns(c.baseline_median_ns),
            format_ns(c.candidate_median_ns),
            format!("{:.3}", c.ratio),
            format!("{:.3}–{:.3}", c.ci_low, c.ci_high),
            format!("{:.4}", c.p_value),
            format!("{}/{}", c.baseline_n, c.candidate_n),
            change_words(c.change).to_string(),
        ];
        if markdown {
            let mut cells = cells;
            if c.change == Change::Regression {
                cells[7] = format!("**{}**", cells[7]);
            }
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        } else {
            let _ = writeln!(
                out,
                "{:<44} {:>10} -> {:>10}  ×{:<6} CI {:<13} p {:<7} n {:<10} {}",
                cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6], cells[7]
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
    let _ = writeln!(
        out,
        "\n{} groups compared, {} regressions.",
        report.compared.len(),
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
    fn a_real_shift_is_significant_and_noise_is_not() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let (_, _, ratio, lo, hi, p) =
            compare_values(&noisy(100.0, 200, 1), &noisy(150.0, 200, 2), &mut rng);
        assert!((ratio - 1.5).abs() < 0.05, "{ratio}");
        assert!(lo < ratio && ratio < hi && lo > 1.3, "{lo} {hi}");
        assert!(p < 0.01, "{p}");
        let (_, _, ratio, lo, hi, p) =
            compare_values(&noisy(100.0, 200, 3), &noisy(100.0, 200, 4), &mut rng);
        assert!(
            (ratio - 1.0).abs() < 0.05 && lo < 1.0 && hi > 1.0,
            "{ratio} {lo} {hi}"
        );
        assert!(p > 0.05, "{p}");
    }
}
