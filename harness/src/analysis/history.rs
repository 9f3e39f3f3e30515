//! The history of published runs: for every group (runtime, variant, mode; phase
//! `total`), its p50 and p99 in each run, oldest first. Rendered by
//! [`crate::report::history`].

use crate::results::{Mode, ResultFile};
use std::collections::BTreeMap;

/// One point of a trend: a run's p50 and p99 and its sample count.
#[derive(Debug, Clone)]
pub struct Point {
    pub started_at: String,
    pub run_id: String,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub count: u64,
}

/// Group name (`runtime:variant mode`) -> its points, oldest first.
pub type Trends = BTreeMap<(Mode, String), Vec<Point>>;

/// The trend of every group across the runs.
pub fn trends(runs: &[ResultFile]) -> Trends {
    let mut trends = Trends::new();
    for run in runs {
        for r in run.runtimes.iter().filter(|r| r.available) {
            for mode in [Mode::Cold, Mode::Warm] {
                if let Some(s) = r.modes.get(mode).phases.get(crate::phase::TOTAL) {
                    trends.entry((mode, r.label())).or_default().push(Point {
                        started_at: run.started_at.clone(),
                        run_id: run.run_id.clone(),
                        p50_ns: s.p50_ns,
                        p99_ns: s.p99_ns,
                        count: s.count,
                    });
                }
            }
        }
    }
    trends
}
