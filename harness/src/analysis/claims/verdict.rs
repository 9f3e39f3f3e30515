//! A verdict (one claim judged on one runtime variant, or pair) and its wording:
//! the outcome in the claim's own terms, the measured figure with the interval it
//! was judged on, and the claimed range in the claim's units.

use super::file::{Claim, Measure};
use crate::format::{format_bytes, format_ns};

/// How a measured figure relates to the claimed range.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Holds,
    Below,
    Above,
    /// The figure cannot decide (an interval across a bound, an upper bound inside
    /// or above the range).
    Inconclusive(String),
    /// Fewer valid samples (or rounds, instances: `of`) than the claim needs:
    /// `n` of `min`.
    TooFew {
        n: u64,
        min: u64,
        of: Counted,
    },
    NotMeasured(String),
}

/// What a claim's minimum counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Valid samples of the figure.
    Samples,
    /// Density rounds that count.
    Rounds,
    /// Live instances each density round held.
    InstancesARound,
}

impl Counted {
    pub fn name(self) -> &'static str {
        match self {
            Counted::Samples => "samples",
            Counted::Rounds => "rounds",
            Counted::InstancesARound => "instances a round",
        }
    }
}

/// The figure a verdict was read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    Latency {
        p50_ns: u64,
        p99_ns: u64,
    },
    Ratio {
        p50: f64,
        p99: f64,
    },
    Bytes(u64),
    SizeRatio(f64),
    /// Warm p50 inside and outside the layer, and `inside / outside - 1`.
    Overhead {
        inside_ns: u64,
        outside_ns: u64,
        overhead: f64,
    },
}

/// A 95% bootstrap interval of a judged value, in the value's units.
pub use crate::stats::block_bootstrap::Interval;

/// One row of the report: a claim judged on one runtime variant (or pair).
#[derive(Debug, Clone)]
pub struct Verdict {
    pub claim: Claim,
    /// `runtime:variant`, or `a / b` for a ratio; empty when not measured at all.
    pub on: String,
    pub figure: Option<Figure>,
    pub outcome: Outcome,
    /// The 95% bootstrap interval of the judged value (a median, or a ratio of
    /// medians), in the value's units; `None` for sizes, which are one figure.
    pub ci: Option<Interval>,
    /// What qualifies the figure (an upper bound under emulation).
    pub caveat: Option<String>,
}

impl Verdict {
    /// The verdict in words, in the claim's own terms.
    pub fn words(&self) -> String {
        let (below, above) = match self.claim.measure {
            Measure::Latency(_) => ("faster than claimed", "slower than claimed"),
            Measure::Size(_) | Measure::Memory(_) => {
                ("smaller than claimed", "larger than claimed")
            }
            _ => ("lower than claimed", "higher than claimed"),
        };
        match &self.outcome {
            Outcome::Inconclusive(why) => return format!("inconclusive: {why}"),
            Outcome::NotMeasured(why) => return format!("not measured: {why}"),
            Outcome::TooFew { n, min, of } => {
                return format!("not enough {} (n={n} < {min})", of.name())
            }
            _ => {}
        }
        let base = match self.outcome {
            Outcome::Holds => "holds",
            Outcome::Below => below,
            _ => above,
        };
        match &self.caveat {
            Some(caveat) => format!("{base} ({caveat})"),
            None => base.into(),
        }
    }

    /// The measured figure in words, with the 95% interval it was judged on.
    pub fn measured(&self) -> String {
        let ci = |fmt: &dyn Fn(f64) -> String| match self.ci {
            Some(Interval { lo, hi }) => format!(" [95% CI {} – {}]", fmt(lo), fmt(hi)),
            None => String::new(),
        };
        let pct = |v: f64| format!("{:+.1}%", v * 100.0);
        match self.figure {
            None => "—".into(),
            Some(Figure::Latency { p50_ns, p99_ns }) => format!(
                "p50 {}{} · p99 {}",
                format_ns(p50_ns as f64),
                ci(&|v| format_ns(v)),
                format_ns(p99_ns as f64)
            ),
            Some(Figure::Ratio { p50, p99 }) => {
                format!("p50 {}{} · p99 {}", ratio(p50), ci(&ratio), ratio(p99))
            }
            Some(Figure::Bytes(b)) => format_bytes(b),
            Some(Figure::SizeRatio(r)) => ratio(r),
            Some(Figure::Overhead {
                inside_ns,
                outside_ns,
                overhead,
            }) => format!(
                "{}{} (p50 {} inside, {} outside)",
                pct(overhead),
                ci(&pct),
                format_ns(inside_ns as f64),
                format_ns(outside_ns as f64)
            ),
        }
    }

    /// A value in the claim's units, as `claimed` writes its bounds.
    pub(super) fn unit(&self, v: f64) -> String {
        match self.claim.measure {
            Measure::Latency(_) => format_ns(v),
            Measure::Size(_) | Measure::Memory(_) => format_bytes(v as u64),
            Measure::Unmeasured { .. } | Measure::Overhead { .. } if v < 1.0 => {
                format!("{:.0}%", v * 100.0)
            }
            _ => ratio(v),
        }
    }

    /// The claimed range in words.
    pub fn claimed(&self) -> String {
        let fmt = |v: f64| self.unit(v);
        match (self.claim.range.min, self.claim.range.max) {
            (Some(lo), Some(hi)) => format!("{} – {}", fmt(lo), fmt(hi)),
            (Some(lo), None) => format!("≥ {}", fmt(lo)),
            (None, Some(hi)) => format!("< {}", fmt(hi)),
            (None, None) => "any".into(),
        }
    }
}

fn ratio(r: f64) -> String {
    if r >= 1e5 {
        format!("{r:.1e}×")
    } else if r >= 100.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.2}×")
    }
}
