//! The valid values of one group of a result file (runtime, variant, mode, phase),
//! what `compare`, the claims' intervals and the report's plots read: the raw
//! samples where the file has them, else the values rebuilt from the group's
//! histogram (a file whose samples were left out still has its histograms).
//! [`ResultFile::group_runs`] keeps the order too: the values of each run (a merged
//! file holds several) in the blocks the harness took them in.

use crate::results::{Mode, ResultFile, RunnerKey};
use crate::stats::block_bootstrap::RunBlocks;

/// Consecutive samples of a group that make one block when the file records no
/// blocks (`--order interleave`, files before blocks were recorded): the harness's
/// default block size.
const UNRECORDED_BLOCK: usize = 10;

/// The most values rebuilt from one histogram.
const MAX_RECONSTRUCTED: u64 = 100_000;

impl ResultFile {
    /// Valid values of a group per run, in blocks: a new run where the samples'
    /// `seq` starts again in a merged file, a new block where a sample's `block`
    /// changes (or every [`UNRECORDED_BLOCK`] of the group's samples when none is
    /// recorded). A group with no raw samples is one run of its histogram's values,
    /// each its own block (a histogram keeps no order).
    pub fn group_runs(&self, key: &RunnerKey, mode: Mode, phase: &str) -> Vec<RunBlocks> {
        let mut runs: Vec<RunBlocks> = Vec::new();
        let mut current = RunBlocks::default();
        let mut last: Option<(u64, usize)> = None;
        let mut seen_in_run = 0usize;
        let mut prev_seq: Option<u64> = None;
        // Only a merged file holds several runs (one file's samples are in `seq` order).
        let merged = self.merged_from.as_ref().is_some_and(|m| m.len() > 1);
        for s in &self.samples {
            if merged && prev_seq.is_some_and(|p| s.seq <= p) {
                runs.push(std::mem::take(&mut current));
                last = None;
                seen_in_run = 0;
            }
            prev_seq = Some(s.seq);
            if !(s.ok && s.is_of(key) && s.mode == mode) {
                continue;
            }
            let value = if phase == crate::phase::TOTAL {
                s.total_ns
            } else {
                s.phases_ns.get(phase).copied()
            };
            let Some(value) = value else { continue };
            let key = match s.block {
                Some(b) => (b, 0),
                None => (u64::MAX, seen_in_run / UNRECORDED_BLOCK),
            };
            seen_in_run += 1;
            if last != Some(key) {
                current.blocks.push(Vec::new());
                last = Some(key);
            }
            current
                .blocks
                .last_mut()
                .expect("a block was just pushed")
                .push(value as f64);
        }
        runs.push(current);
        runs.retain(|r| !r.is_empty());
        if runs.is_empty() {
            let values = self.group_values(key, mode, phase);
            if !values.is_empty() {
                runs.push(RunBlocks::singletons(values.into_iter().map(|v| v as f64)));
            }
        }
        runs
    }

    /// Valid values of a group, raw samples first, else reconstructed from the histogram.
    pub fn group_values(&self, key: &RunnerKey, mode: Mode, phase: &str) -> Vec<u64> {
        let raw: Vec<u64> = self
            .samples
            .iter()
            .filter(|s| s.ok && s.is_of(key) && s.mode == mode)
            .filter_map(|s| {
                if phase == crate::phase::TOTAL {
                    s.total_ns
                } else {
                    s.phases_ns.get(phase).copied()
                }
            })
            .collect();
        if !raw.is_empty() {
            return raw;
        }
        let summary = self
            .runtimes
            .iter()
            .find(|r| r.is(key))
            .and_then(|r| r.modes.get(mode).phases.get(phase));
        match summary.and_then(|s| crate::stats::decode(&s.histogram).ok()) {
            // A histogram of more values than that (a merged history, a crafted file)
            // gives evenly spaced quantiles instead, so memory stays bounded.
            Some(hist) if hist.len() > MAX_RECONSTRUCTED => (0..MAX_RECONSTRUCTED)
                .map(|i| hist.value_at_quantile((i as f64 + 0.5) / MAX_RECONSTRUCTED as f64))
                .collect(),
            Some(hist) => hist
                .iter_recorded()
                .flat_map(|v| {
                    std::iter::repeat_n(v.value_iterated_to(), v.count_at_value() as usize)
                })
                .collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::results::{load, merge, Mode, RunnerKey};
    use std::path::PathBuf;

    #[test]
    fn a_merged_file_gives_its_runs_and_blocks() {
        let one = load::parse(include_str!("../../../fixtures/compare/aa-a/run-01.json")).unwrap();
        let two = load::parse(include_str!("../../../fixtures/compare/aa-a/run-05.json")).unwrap();
        let runs = one.group_runs(&RunnerKey::new("wasm", "pre"), Mode::Cold, "total");
        // 30 cold starts in blocks of 10.
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].blocks.len(), 3);
        assert!(runs[0].blocks.iter().all(|b| b.len() == 10));
        let merged = merge::merge(
            &[(PathBuf::from("1"), one.clone()), (PathBuf::from("5"), two)],
            false,
        )
        .unwrap();
        let runs = merged.group_runs(&RunnerKey::new("wasm", "pre"), Mode::Cold, "total");
        assert_eq!(runs.len(), 2);
        assert_eq!(runs.iter().map(|r| r.len()).sum::<usize>(), 60);
        // A single file's samples are one run, whatever their seq says.
        let mut restarted = one;
        let extra = restarted.samples.clone();
        restarted.samples.extend(extra);
        assert_eq!(
            restarted
                .group_runs(&RunnerKey::new("wasm", "pre"), Mode::Cold, "total")
                .len(),
            1
        );
    }
}
