//! The block bootstrap of a median (or of a ratio of medians) over runs.
//!
//! Samples next to each other in a run are not independent: a run's state (the
//! core, the page cache, a neighbour's burst) lasts longer than one sample: in the
//! recorded runs of fixtures/compare/ the lag-1 autocorrelation of a group's log totals
//! has a median of 0.16–0.68 per total.
//! Resampling single samples then makes an interval too narrow. The harness already
//! takes samples in blocks (`--order blocks`: one variant and mode for
//! `--block-size` samples in a row), so the unit resampled here is the block: each
//! resample draws a side's runs with replacement (when it has more than one), then
//! each drawn run's blocks with replacement, and takes each run's median; a side's
//! centre is the geometric mean of its runs' medians. A run of fewer than
//! [`MIN_BLOCKS`] blocks (5 cold starts in one block of 10) is cut into that many
//! blocks of consecutive values instead, in the order they were taken: one block
//! resampled is no interval at all. Percentile intervals,
//! [`BOOTSTRAP`] resamples from a seeded generator, so a report says the same of the
//! same files.
//!
//! With one run a side this sees the variation within that run only, never the
//! larger variation between runs: `compare` then calls a group advisory, and a
//! claim's verdict from one run says so.

use super::median;
use rand::{Rng, SeedableRng};

/// Resamples of an interval.
pub const BOOTSTRAP: usize = 2000;

/// Values a run keeps for resampling; larger runs are thinned evenly (every k-th
/// value in the order taken) to keep a report fast.
pub const MAX_VALUES: usize = 2000;

/// The fewest blocks a run is resampled in.
pub const MIN_BLOCKS: usize = 5;

/// One run's values of one group, in the blocks they were taken in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunBlocks {
    pub blocks: Vec<Vec<f64>>,
}

impl RunBlocks {
    /// Values with no known order (a histogram, per-round figures): each its own block.
    pub fn singletons(values: impl IntoIterator<Item = f64>) -> RunBlocks {
        RunBlocks {
            blocks: values.into_iter().map(|v| vec![v]).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.blocks.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every value, block after block.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.blocks.iter().flatten().copied()
    }

    /// The run's median over all its values (not thinned).
    pub fn median(&self) -> f64 {
        median(&mut self.values().collect::<Vec<_>>())
    }

    /// The log of the run's median, of at least 1 (times are ns): what a centre of
    /// several runs averages.
    pub fn log_median(&self) -> f64 {
        self.median().max(1.0).ln()
    }

    /// Whether [`interval`] thins this run.
    pub fn is_thinned(&self) -> bool {
        self.len() > MAX_VALUES
    }

    /// The blocks resampled: every k-th value of the run in the order taken (so each
    /// block keeps its share) when it has more than [`MAX_VALUES`], and cut into
    /// [`MIN_BLOCKS`] blocks of consecutive values when it has fewer blocks.
    fn for_resampling(&self) -> RunBlocks {
        let step = self.len().div_ceil(MAX_VALUES).max(1);
        let mut at = 0usize;
        let mut blocks: Vec<Vec<f64>> = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let kept: Vec<f64> = block
                .iter()
                .copied()
                .filter(|_| {
                    at += 1;
                    (at - 1) % step == 0
                })
                .collect();
            if !kept.is_empty() {
                blocks.push(kept);
            }
        }
        if blocks.len() >= MIN_BLOCKS {
            return RunBlocks { blocks };
        }
        let values: Vec<f64> = blocks.into_iter().flatten().collect();
        let n = values.len();
        let cuts = MIN_BLOCKS.min(n);
        RunBlocks {
            blocks: (0..cuts)
                .map(|i| values[i * n / cuts..(i + 1) * n / cuts].to_vec())
                .collect(),
        }
    }
}

/// A side's centre: the geometric mean of its runs' medians (of values of at least
/// 1, as times in ns are), or with one run its median as it is (a memory figure
/// can be zero or below).
pub fn center(runs: &[RunBlocks]) -> f64 {
    if let [run] = runs {
        return run.median();
    }
    let logs: f64 = runs.iter().map(RunBlocks::log_median).sum();
    (logs / runs.len() as f64).exp()
}

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

/// One resampled centre of a side.
fn resampled_center<R: Rng>(rng: &mut R, runs: &[RunBlocks], scratch: &mut Vec<f64>) -> f64 {
    fn resampled_median<R: Rng>(run: &RunBlocks, rng: &mut R, scratch: &mut Vec<f64>) -> f64 {
        scratch.clear();
        for _ in 0..run.blocks.len() {
            scratch.extend_from_slice(&run.blocks[rng.random_range(0..run.blocks.len())]);
        }
        median(scratch)
    }
    if let [run] = runs {
        return resampled_median(run, rng, scratch);
    }
    let mut logs = 0.0;
    for _ in 0..runs.len() {
        let run = &runs[rng.random_range(0..runs.len())];
        logs += resampled_median(run, rng, scratch).max(1.0).ln();
    }
    (logs / runs.len() as f64).exp()
}

/// The `confidence` (e.g. 0.95) percentile interval of `combine` of the sides'
/// centres (one side: its centre; two: e.g. their ratio); `None` when a side has
/// no values.
pub fn interval(
    sides: &[&[RunBlocks]],
    combine: impl Fn(&[f64]) -> f64,
    confidence: f64,
    seed: u64,
) -> Option<Interval> {
    let sides: Vec<Vec<RunBlocks>> = sides
        .iter()
        .map(|runs| {
            runs.iter()
                .filter(|r| !r.is_empty())
                .map(RunBlocks::for_resampling)
                .collect()
        })
        .collect();
    if sides.iter().any(Vec::is_empty) {
        return None;
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut scratch = Vec::new();
    let mut centers = vec![0.0; sides.len()];
    let mut estimates: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            for (runs, c) in sides.iter().zip(centers.iter_mut()) {
                *c = resampled_center(&mut rng, runs, &mut scratch);
            }
            combine(&centers)
        })
        .collect();
    estimates.sort_unstable_by(f64::total_cmp);
    // As many estimates below the lower bound as above the upper one.
    let tail = ((1.0 - confidence) / 2.0 * BOOTSTRAP as f64) as usize;
    let tail = tail.min(BOOTSTRAP / 2 - 1);
    let ci = Interval {
        lo: estimates[tail],
        hi: estimates[BOOTSTRAP - 1 - tail],
    };
    (ci.lo.is_finite() && ci.hi.is_finite()).then_some(ci)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run whose blocks each sit at their own level: values within a block agree,
    /// blocks differ (what a run's lasting state does to neighbouring samples).
    fn blocky(levels: &[f64], per_block: usize) -> RunBlocks {
        RunBlocks {
            blocks: levels
                .iter()
                .map(|l| (0..per_block).map(|i| l + i as f64 * 0.01).collect())
                .collect(),
        }
    }

    #[test]
    fn blocks_widen_an_interval_that_single_samples_make_too_narrow() {
        let run = blocky(&[100.0, 140.0, 90.0, 160.0, 110.0, 95.0], 10);
        let by_block = interval(&[std::slice::from_ref(&run)], |c| c[0], 0.95, 1).unwrap();
        let by_sample =
            interval(&[&[RunBlocks::singletons(run.values())]], |c| c[0], 0.95, 1).unwrap();
        // 60 samples alone look like a tight median; 6 blocks are 6 observations.
        assert!(
            by_block.hi - by_block.lo > 1.5 * (by_sample.hi - by_sample.lo),
            "blocks {by_block:?} vs samples {by_sample:?}"
        );
        assert!(by_block.lo <= run.median() && run.median() <= by_block.hi);
    }

    #[test]
    fn runs_are_resampled_and_a_ratio_combines_centres() {
        let base = [blocky(&[100.0; 4], 5), blocky(&[200.0; 4], 5)];
        let cand = [blocky(&[300.0; 4], 5)];
        // The base centre is √(100·200) ≈ 141; resampling runs moves it from 100 to 200.
        assert!((center(&base) - (100.0f64 * 200.0).sqrt()).abs() < 0.1);
        let ci = interval(&[&base, &cand], |c| c[1] / c[0], 0.95, 2).unwrap();
        assert!(ci.lo < 1.6 && ci.hi > 2.9, "{ci:?}");
        assert!(interval(&[&base, &[]], |c| c[0], 0.95, 2).is_none());
    }

    #[test]
    fn thinning_keeps_blocks_and_the_run_median_uses_every_value() {
        let run = RunBlocks {
            blocks: vec![(0..3000).map(f64::from).collect()],
        };
        assert!(run.is_thinned());
        let resampled = run.for_resampling();
        assert_eq!(resampled.len(), 1500);
        // One block is cut into five of consecutive values: one block resampled
        // would always give the same median.
        assert_eq!(resampled.blocks.len(), 5);
        assert_eq!(resampled.blocks[0][..3], [0.0, 2.0, 4.0]);
        // Short blocks keep their share: every other value of the run, not the first
        // of each block.
        let short = RunBlocks {
            blocks: (0..1000)
                .map(|b| vec![b as f64 * 3.0, b as f64 * 3.0 + 1.0, b as f64 * 3.0 + 2.0])
                .collect(),
        };
        let kept: Vec<f64> = short.for_resampling().values().collect();
        assert_eq!(kept.len(), 1500);
        assert_eq!(kept[..4], [0.0, 2.0, 4.0, 6.0]);
        // Six values are still five blocks.
        let six = RunBlocks {
            blocks: vec![(0..6).map(f64::from).collect()],
        };
        assert_eq!(six.for_resampling().blocks.len(), 5);
        assert_eq!(run.median(), 1499.5);
        let one_block = RunBlocks {
            blocks: vec![vec![1.0, 5.0, 2.0, 9.0, 3.0]],
        };
        let ci = interval(&[&[one_block]], |c| c[0], 0.95, 3).unwrap();
        assert!(ci.lo < ci.hi, "{ci:?}");
    }
}
