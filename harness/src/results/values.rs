//! The valid values of one group of a result file (runtime, variant, mode, phase),
//! what `compare`, the claims' intervals and the report's plots read: the raw
//! samples where the file has them, else the values rebuilt from the group's
//! histogram (a file whose samples were left out still has its histograms).

use crate::results::{Mode, ResultFile};

/// The most values rebuilt from one histogram.
const MAX_RECONSTRUCTED: u64 = 100_000;

impl ResultFile {
    /// Valid values of a group, raw samples first, else reconstructed from the histogram.
    pub fn group_values(&self, runtime: &str, variant: &str, mode: Mode, phase: &str) -> Vec<u64> {
        let raw: Vec<u64> = self
            .samples
            .iter()
            .filter(|s| s.ok && s.runtime == runtime && s.variant == variant && s.mode == mode)
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
            .find(|r| r.runtime == runtime && r.variant == variant)
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
