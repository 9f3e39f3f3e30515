//! The hierarchical (cluster) bootstrap of a change between two sides of runs.
//!
//! A run has a state of its own (the core the probe landed on, the page cache, the
//! CPU frequency), and that varies more from run to run than samples do within one
//! run: process warm round trips were 12.8 µs in one run and 34.8 µs in the next.
//! So each run is summarised by its median, and the change is estimated across
//! runs: the ratio of the geometric means of the per-run medians (candidate /
//! baseline), with a 95% confidence interval and a two-sided p-value from a
//! hierarchical bootstrap: resample runs with replacement, then samples within each
//! resampled run, take each run's median ([`BOOTSTRAP`] resamples, from the caller's
//! seeded generator), as Firecracker's A/B tooling compares repeated runs. With one
//! run on a side it still works, resampling samples only, and then cannot see
//! between-run variance.

use super::{mean, median, BOOTSTRAP};
use rand::Rng;

/// The log of each run's median.
pub fn log_medians(runs: &[Vec<f64>]) -> Vec<f64> {
    runs.iter()
        .map(|r| median(&mut r.clone()).max(1.0).ln())
        .collect()
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
pub struct Estimate {
    /// Geometric means of the per-run medians, ns.
    pub base_center: f64,
    pub cand_center: f64,
    /// cand_center / base_center.
    pub ratio: f64,
    /// The 95% interval of the ratio.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided p-value of "no change".
    pub p: f64,
}

/// Ratio of the geometric means of the per-run medians, its 95% CI and a
/// two-sided p, from the hierarchical bootstrap.
pub fn estimate(base: &[Vec<f64>], cand: &[Vec<f64>], rng: &mut impl Rng) -> Estimate {
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn noisy(center: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| center * (0.9 + 0.2 * rng.random::<f64>()))
            .collect()
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
