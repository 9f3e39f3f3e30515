//! Phases: how one sample's time is split, and the stopwatch that splits it.
//!
//! A runner starts a [`Stopwatch`] right before the first thing it asks of the
//! runtime and calls [`Stopwatch::lap`] as each step returns. Laps are differences
//! of consecutive `Instant`s, so the phases of a sample always add up exactly to its
//! `total`: nothing between the steps goes unaccounted, nothing is counted twice.
//! Only the monotonic clock is used; times are kept as integer nanoseconds.

use std::time::{Duration, Instant};

/// The phase every runtime reports: the whole of a cold start or warm round trip.
pub const TOTAL: &str = "total";

/// The phase times of one sample, in the order they happened, plus their total.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PhaseTimes {
    /// `(phase, nanoseconds)` in order; `total` is not among them.
    pub phases: Vec<(&'static str, u64)>,
    /// From the stopwatch's start to its last lap.
    pub total_ns: u64,
    /// Figures the runtime itself reported for this sample (e.g. Lambda's REPORT
    /// line: `init_duration_ns`, `billed_duration_ns`, `max_memory_used_mb`). Kept
    /// raw beside the harness's own clock, never among `phases`; empty for runtimes
    /// that report nothing.
    pub reported: std::collections::BTreeMap<&'static str, u64>,
    /// Attempts the answering request needed, where a runner retries (throttling);
    /// the clock restarted with the answering one.
    pub attempts: Option<u32>,
    /// Flags for the reader (e.g. a reported time larger than our round trip).
    pub notes: Vec<String>,
}

impl PhaseTimes {
    /// Phase times whose only phase is the total (a warm round trip).
    pub fn total_only(total: Duration) -> PhaseTimes {
        PhaseTimes {
            total_ns: nanos(total),
            ..Default::default()
        }
    }

    /// The time of one named phase, if the sample has it.
    pub fn get(&self, phase: &str) -> Option<u64> {
        if phase == TOTAL {
            return Some(self.total_ns);
        }
        self.phases
            .iter()
            .find(|(name, _)| *name == phase)
            .map(|(_, ns)| *ns)
    }
}

/// Splits one sample into phases with the monotonic clock.
#[derive(Debug)]
pub struct Stopwatch {
    start: Instant,
    last: Instant,
    phases: Vec<(&'static str, u64)>,
}

impl Stopwatch {
    /// Starts timing now.
    #[inline]
    pub fn start() -> Stopwatch {
        let now = Instant::now();
        Stopwatch {
            start: now,
            last: now,
            phases: Vec::with_capacity(4),
        }
    }

    /// Ends the phase `name` now and starts the next one.
    #[inline]
    pub fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.phases.push((name, nanos(now - self.last)));
        self.last = now;
    }

    /// Time since the start, for deadlines.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The phases so far, with the total up to the last lap.
    pub fn finish(self) -> PhaseTimes {
        PhaseTimes {
            phases: self.phases,
            total_ns: nanos(self.last - self.start),
            ..Default::default()
        }
    }
}

/// A duration as integer nanoseconds (saturating: no sample lasts 584 years).
pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_add_up_to_total() {
        let mut sw = Stopwatch::start();
        for name in ["a", "b", "c"] {
            std::thread::sleep(Duration::from_micros(200));
            sw.lap(name);
        }
        let times = sw.finish();
        let sum: u64 = times.phases.iter().map(|(_, ns)| ns).sum();
        assert_eq!(sum, times.total_ns);
        assert!(times.total_ns >= 600_000, "{times:?}");
        assert_eq!(
            times.phases.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(times.get(TOTAL), Some(times.total_ns));
        assert_eq!(times.get("b"), Some(times.phases[1].1));
        assert_eq!(times.get("zzz"), None);
    }
}
