//! How a claim is judged: one function per measure kind turns the rows `select`
//! picks into verdicts, all through one rule.
//!
//! * A time, ratio or overhead needs `min_samples` valid samples on every side it
//!   is read from; with fewer it reads `not enough samples (n=5 < 30)`, whatever
//!   the p50.
//! * The 95% block-bootstrap interval of the median (of a ratio of medians, for
//!   ratios; [`crate::stats::block_bootstrap`]: the harness's blocks are resampled,
//!   not single samples, and a merged file's runs too, whose interval is then of the
//!   geometric mean of the runs' medians, near but not always around the pooled p50
//!   shown) decides: `holds` only when the whole interval lies inside the
//!   claimed range, below or above only when it lies wholly outside, and
//!   `inconclusive` when it straddles a bound. Sizes are one figure each.
//! * Memory is judged over density rounds: a round counts when it reached every
//!   instance asked for and (host view) its drop stood out of its readings' noise;
//!   it needs [`MIN_MEMORY_ROUNDS`] such rounds of at least [`MIN_MEMORY_INSTANCES`]
//!   instances, its interval is over rounds, and a side whose interval reaches zero
//!   is `inconclusive` (a ratio over a near-zero reading explodes).
//! * A time measured under CPU emulation (`details.accel = "tcg"`: QEMU without
//!   hardware virtualization) is only an upper bound: "faster than claimed" still
//!   follows from it, anything else is `inconclusive` until a KVM row decides. It
//!   never judges an overhead claim, which is about hardware virtualization.

use super::file::MemoryView;
use super::file::{Claim, MemoryTarget, Range, SizeTarget, Target, DEFAULT_MIN_SAMPLES};
use super::select::{
    emulated, entries, local_stand_in, memory, memory_entries, name, pairs, sandboxed, side, size,
    sized, MemoryRounds, Side,
};
use super::verdict::{Counted, Figure, Interval, Outcome, Verdict};
use crate::probes::Language;
use crate::results::{Mode, ResultFile, RuntimeResult};
use crate::stats::block_bootstrap::{self, RunBlocks};

/// What an emulated entry's time means for a verdict.
const UPPER_BOUND: &str =
    "measured under CPU emulation (TCG): an upper bound of a hardware-virtualized boot";

/// A figure ready to be judged.
struct Judgement {
    figure: Figure,
    /// The judged value (a p50, a ratio of p50s, a size).
    value: f64,
    /// Its interval and sample count, for figures read from samples.
    sampled: Option<Sampled>,
}

/// What a figure read from samples (or rounds) brings to its verdict.
#[derive(Clone, Copy)]
struct Sampled {
    /// The 95% interval of the judged value; `None` when the bootstrap gave none.
    ci: Option<Interval>,
    /// The fewest valid samples (or rounds, instances) of any side it was read from.
    n: u64,
    /// What `n` counts and how many it needs; `None`: samples, the claim's
    /// `min_samples`.
    minimum: Option<Minimum>,
}

/// How many of what a figure needs, when it is not the claim's `min_samples`.
#[derive(Clone, Copy)]
struct Minimum {
    min: u64,
    of: Counted,
}

/// Rounds a memory figure needs: its interval is over rounds.
pub(super) const MIN_MEMORY_ROUNDS: u64 = 3;

/// Instances each round must hold for a memory figure: fewer, and one instance's
/// share of the harness's or a daemon's own growth dominates.
pub(super) const MIN_MEMORY_INSTANCES: u64 = 5;

type Judged = Result<Judgement, String>;

/// Where a value lies against the claimed range.
fn judge(range: Range, value: f64) -> Outcome {
    match (range.min, range.max) {
        (Some(lo), _) if value < lo => Outcome::Below,
        (_, Some(hi)) if value > hi => Outcome::Above,
        _ => Outcome::Holds,
    }
}

/// The outcome both ends of an interval agree on, or `None` when it straddles a
/// bound of the range.
fn judge_interval(range: Range, ci: Interval) -> Option<Outcome> {
    let (low, high) = (judge(range, ci.lo), judge(range, ci.hi));
    (low == high).then_some(low)
}

/// The interval of `combine` over the medians of `sides`, with the smallest n.
fn interval(sides: &[&Side], combine: impl Fn(&[f64]) -> f64) -> Sampled {
    let runs: Vec<&[RunBlocks]> = sides.iter().map(|s| s.runs.as_slice()).collect();
    let n = sides.iter().map(|s| s.n).min().unwrap_or(0);
    Sampled {
        ci: block_bootstrap::interval(&runs, combine, 0.95, 0),
        n,
        minimum: None,
    }
}

/// A claim's verdict on `on`: the figure judged against the claimed range (too few
/// samples and an interval across a bound first), or not measured, with why.
fn row(claim: &Claim, on: String, judged: Judged) -> Verdict {
    let (min, of) = match j_minimum(&judged) {
        Some(m) => (m.min, m.of),
        None => (
            claim.min_samples.unwrap_or(DEFAULT_MIN_SAMPLES),
            Counted::Samples,
        ),
    };
    match judged {
        Ok(j) => {
            let mut verdict = Verdict {
                claim: claim.clone(),
                on,
                figure: Some(j.figure),
                outcome: judge(claim.range, j.value),
                ci: j.sampled.and_then(|s| s.ci),
                caveat: None,
            };
            if let Some(n) = j.sampled.map(|s| s.n).filter(|n| *n < min) {
                verdict.outcome = Outcome::TooFew { n, min, of };
            } else if let Some(ci) = verdict.ci {
                verdict.outcome = judge_interval(claim.range, ci).unwrap_or_else(|| {
                    Outcome::Inconclusive(format!(
                        "the 95% CI of the median, {} – {}, straddles a claimed bound",
                        verdict.unit(ci.lo),
                        verdict.unit(ci.hi)
                    ))
                });
            }
            verdict
        }
        Err(why) => Verdict {
            claim: claim.clone(),
            on,
            figure: None,
            outcome: Outcome::NotMeasured(why),
            ci: None,
            caveat: None,
        },
    }
}

fn j_minimum(judged: &Judged) -> Option<Minimum> {
    judged.as_ref().ok()?.sampled?.minimum
}

/// The one row of a claim with nothing to judge, and why.
fn missing(claim: &Claim, why: String) -> Verdict {
    row(claim, String::new(), Err(why))
}

/// A time measured under emulation bounds the real one from above; a sandboxed
/// container's is another tier's.
fn bounded(r: &RuntimeResult, mut verdict: Verdict) -> Verdict {
    if verdict.figure.is_some() {
        verdict.caveat = sandboxed(r);
    }
    if emulated(r) && verdict.figure.is_some() {
        verdict.caveat = Some(UPPER_BOUND.into());
        if matches!(verdict.outcome, Outcome::Holds | Outcome::Above) {
            verdict.outcome = Outcome::Inconclusive(format!(
                "{UPPER_BOUND}; hardware may be faster, so only a KVM row can decide"
            ));
        }
    }
    verdict
}

/// A claim about something coldstart does not measure: one row saying so.
pub(super) fn judge_unmeasured(claim: &Claim, what: &str) -> Vec<Verdict> {
    vec![missing(
        claim,
        format!("coldstart does not measure {what} yet"),
    )]
}

/// A phase time, on every entry the target names; sandboxed rows after the plain
/// ones.
pub(super) fn judge_latency(claim: &Claim, results: &ResultFile, t: &Target) -> Vec<Verdict> {
    let mut found = match entries(results, t) {
        Err(why) => return vec![missing(claim, why)],
        Ok(found) => found,
    };
    // Sandboxed rows are listed apart, after the plain ones.
    found.sort_by_key(|r| sandboxed(r).is_some());
    found
        .into_iter()
        .map(|r| {
            let judged = side(results, r, t).map(|s| Judgement {
                figure: Figure::Latency {
                    p50_ns: s.p50_ns,
                    p99_ns: s.p99_ns,
                },
                value: s.p50_ns as f64,
                sampled: Some(interval(&[&s], |m| m[0])),
            });
            bounded(r, row(claim, name(r), judged))
        })
        .collect()
}

/// `inside / outside - 1` of two p50s, on every hardware-virtualized pair, when the
/// run's invocation is CPU-bound enough that the transport's round trip does not
/// dominate.
pub(super) fn judge_overhead(
    claim: &Claim,
    results: &ResultFile,
    inside: &Target,
    outside: &Target,
    min_invoke_iters: u64,
) -> Vec<Verdict> {
    let iters = results.parameters.invoke_iters;
    let outsides = || {
        entries(results, outside).and_then(|outs| {
            if iters < min_invoke_iters {
                Err(format!(
                    "needs a CPU-bound invocation, so the transport's round trip \
                     does not dominate: run with --invoke-iters {min_invoke_iters} \
                     or more (this run: {iters})"
                ))
            } else {
                Ok(outs)
            }
        })
    };
    pairs(entries(results, inside), outsides, |i, o| {
        if emulated(i) {
            return Err("emulated CPU (TCG), not hardware virtualization".into());
        }
        let si = side(results, i, inside)?;
        let so = side(results, o, outside)?;
        let overhead = si.p50_ns as f64 / so.p50_ns.max(1) as f64 - 1.0;
        Ok(Judgement {
            figure: Figure::Overhead {
                inside_ns: si.p50_ns,
                outside_ns: so.p50_ns,
                overhead,
            },
            value: overhead,
            sampled: Some(interval(&[&si, &so], |m| m[0] / m[1].max(1.0) - 1.0)),
        })
    })
    .into_iter()
    .map(|pair| row(claim, pair.on, pair.figure))
    .collect()
}

/// An artifact size, on every entry the target names.
pub(super) fn judge_size(claim: &Claim, results: &ResultFile, t: &SizeTarget) -> Vec<Verdict> {
    match sized(results, t) {
        Err(why) => vec![missing(claim, why)],
        Ok(found) => found
            .into_iter()
            .map(|r| {
                let judged = size(r).map(|b| Judgement {
                    figure: Figure::Bytes(b),
                    value: b as f64,
                    sampled: None,
                });
                row(claim, name(r), judged)
            })
            .collect(),
    }
}

/// The ratio of two p50s (and of the p99s, shown beside), on every pair.
pub(super) fn judge_ratio(
    claim: &Claim,
    results: &ResultFile,
    numerator: &Target,
    denominator: &Target,
) -> Vec<Verdict> {
    pairs(
        entries(results, numerator),
        || entries(results, denominator),
        |num, den| {
            let sn = side(results, num, numerator)?;
            let sd = side(results, den, denominator)?;
            let p50 = sn.p50_ns as f64 / sd.p50_ns.max(1) as f64;
            let p99 = sn.p99_ns as f64 / sd.p99_ns.max(1) as f64;
            Ok(Judgement {
                figure: Figure::Ratio { p50, p99 },
                value: p50,
                sampled: Some(interval(&[&sn, &sd], |m| m[0] / m[1].max(1.0))),
            })
        },
    )
    .into_iter()
    .map(|pair| row(claim, pair.on, pair.figure))
    .collect()
}

/// What a language ratio compares: two languages' probes in one mode and phase.
pub(super) struct LanguagePair<'a> {
    pub(super) numerator: Language,
    pub(super) denominator: Language,
    pub(super) mode: Mode,
    pub(super) phase: &'a str,
    pub(super) exclude_runtimes: &'a [String],
}

/// One language's p50 over another's, on every runtime variant where both ran
/// (a local stand-in never: its figures are not the platform's).
pub(super) fn judge_language_ratio(
    claim: &Claim,
    results: &ResultFile,
    pair: LanguagePair<'_>,
) -> Vec<Verdict> {
    let target = |r: &RuntimeResult| Target {
        runtime: r.runtime.clone(),
        variant: Some(r.variant.clone()),
        language: r.language,
        exclude: Vec::new(),
        mode: pair.mode,
        phase: pair.phase.to_string(),
    };
    let measured = |language: Language| {
        (results.runtimes.iter())
            .filter(move |r| r.available && r.language == language)
            .filter(|r| !pair.exclude_runtimes.contains(&r.runtime))
            .filter(|r| local_stand_in(r).is_none())
    };
    let mut verdicts = Vec::new();
    for num in measured(pair.numerator) {
        let Some(den) = measured(pair.denominator)
            .find(|d| d.runtime == num.runtime && d.variant == num.variant)
        else {
            continue;
        };
        let judged = side(results, num, &target(num)).and_then(|sn| {
            let sd = side(results, den, &target(den))?;
            Ok(Judgement {
                figure: Figure::Ratio {
                    p50: sn.p50_ns as f64 / sd.p50_ns.max(1) as f64,
                    p99: sn.p99_ns as f64 / sd.p99_ns.max(1) as f64,
                },
                value: sn.p50_ns as f64 / sd.p50_ns.max(1) as f64,
                sampled: Some(interval(&[&sn, &sd], |m| m[0] / m[1].max(1.0))),
            })
        });
        let on = format!("{} / {}", name(num), name(den));
        // Both rows are of one runtime variant: emulated or sandboxed alike.
        verdicts.push(bounded(num, row(claim, on, judged)));
    }
    if verdicts.is_empty() {
        let why = format!(
            "no runtime variant measured both the {} and the {} probe (run with --language {},{})",
            pair.numerator, pair.denominator, pair.numerator, pair.denominator
        );
        verdicts.push(missing(claim, why));
    }
    verdicts
}

/// The ratio of two artifact sizes, on every pair.
pub(super) fn judge_size_ratio(
    claim: &Claim,
    results: &ResultFile,
    numerator: &SizeTarget,
    denominator: &SizeTarget,
) -> Vec<Verdict> {
    pairs(
        sized(results, numerator),
        || sized(results, denominator),
        |num, den| {
            let r = size(num)? as f64 / size(den)?.max(1) as f64;
            Ok(Judgement {
                figure: Figure::SizeRatio(r),
                value: r,
                sampled: None,
            })
        },
    )
    .into_iter()
    .map(|pair| row(claim, pair.on, pair.figure))
    .collect()
}

/// Memory per live instance in the target's view, on every entry it names; the
/// view is named beside the verdict.
pub(super) fn judge_memory(claim: &Claim, results: &ResultFile, t: &MemoryTarget) -> Vec<Verdict> {
    match memory_entries(results, t) {
        Err(why) => vec![missing(claim, why)],
        Ok(found) => found
            .into_iter()
            .map(|r| {
                let rounds = memory(r, t.view);
                let judged = rounds.as_ref().map_err(Clone::clone).map(|m| {
                    let value = crate::stats::median(&mut m.values.clone());
                    Judgement {
                        figure: Figure::Bytes(value.max(0.0) as u64),
                        value,
                        sampled: Some(memory_sampled(&[m], |v| v[0])),
                    }
                });
                let mut v = row(claim, name(r), judged);
                if v.figure.is_some() {
                    v.caveat = Some(t.view.words().into());
                }
                if let Ok(rounds) = rounds {
                    let side = Named {
                        on: name(r),
                        rounds,
                    };
                    within_noise_of_zero(&mut v, &[side], t.view);
                }
                v
            })
            .collect(),
    }
}

/// The interval over rounds of `combine` of the sides' medians, with the fewest
/// rounds (or, when a side held too few instances, those) as its count.
fn memory_sampled(sides: &[&MemoryRounds], combine: impl Fn(&[f64]) -> f64) -> Sampled {
    // Rounds are the unit: each its own block.
    let runs: Vec<[RunBlocks; 1]> = sides
        .iter()
        .map(|m| [RunBlocks::singletons(m.values.iter().copied())])
        .collect();
    let runs: Vec<&[RunBlocks]> = runs.iter().map(|r| r.as_slice()).collect();
    let ci = block_bootstrap::interval(&runs, combine, 0.95, 0);
    let fewest_instances = sides.iter().map(|m| m.instances).min().unwrap_or(0);
    let (n, minimum) = if fewest_instances < MIN_MEMORY_INSTANCES {
        (
            fewest_instances,
            Minimum {
                min: MIN_MEMORY_INSTANCES,
                of: Counted::InstancesARound,
            },
        )
    } else {
        (
            sides
                .iter()
                .map(|m| m.values.len() as u64)
                .min()
                .unwrap_or(0),
            Minimum {
                min: MIN_MEMORY_ROUNDS,
                of: Counted::Rounds,
            },
        )
    };
    Sampled {
        ci,
        n,
        minimum: Some(minimum),
    }
}

/// One side's rounds, and whose.
struct Named {
    on: String,
    rounds: MemoryRounds,
}

/// A memory figure whose rounds cannot tell it from zero decides nothing: a tiny
/// reading (a pool that was already resident, a page cache that moved) would make
/// any ratio over it explode.
fn within_noise_of_zero(v: &mut Verdict, sides: &[Named], view: MemoryView) {
    if matches!(v.outcome, Outcome::TooFew { .. } | Outcome::NotMeasured(_)) {
        return;
    }
    for Named { on, rounds: m } in sides {
        let rounds = [RunBlocks::singletons(m.values.iter().copied())];
        let lo =
            block_bootstrap::interval(&[&rounds], |x| x[0], 0.95, 0).map_or(f64::NAN, |ci| ci.lo);
        if lo.is_nan() || lo <= 0.0 {
            v.outcome = Outcome::Inconclusive(format!(
                "{on}'s {} cannot be told from zero over its {} rounds (95% CI of the \
                 median from {} per instance)",
                view.words(),
                m.values.len(),
                crate::format::format_bytes(lo.max(0.0) as u64)
            ));
            return;
        }
    }
}

/// A memory ratio's figure, whether either side ran under emulation, and the
/// rounds of both sides.
struct MemoryRatioJudgement {
    judgement: Judgement,
    emulated_side: bool,
    sides: [Named; 2],
}

/// The ratio of two entries' memory per instance, on every pair; under emulation
/// only "lower than claimed" can follow.
pub(super) fn judge_memory_ratio(
    claim: &Claim,
    results: &ResultFile,
    numerator: &MemoryTarget,
    denominator: &MemoryTarget,
) -> Vec<Verdict> {
    pairs(
        memory_entries(results, numerator),
        || memory_entries(results, denominator),
        |num, den| {
            let (n, d) = (memory(num, numerator.view)?, memory(den, denominator.view)?);
            let median = |m: &MemoryRounds| crate::stats::median(&mut m.values.clone());
            let r = median(&n) / median(&d);
            let sampled = memory_sampled(&[&n, &d], |v| v[0] / v[1]);
            Ok(MemoryRatioJudgement {
                judgement: Judgement {
                    figure: Figure::SizeRatio(r),
                    value: r,
                    sampled: Some(sampled),
                },
                emulated_side: emulated(num) || emulated(den),
                sides: [
                    Named {
                        on: name(num),
                        rounds: n,
                    },
                    Named {
                        on: name(den),
                        rounds: d,
                    },
                ],
            })
        },
    )
    .into_iter()
    .map(|pair| {
        let emulated_side = pair.figure.as_ref().is_ok_and(|j| j.emulated_side);
        let (judged, sides) = match pair.figure {
            Ok(j) => (Ok(j.judgement), Some(j.sides)),
            Err(e) => (Err(e), None),
        };
        let mut v = row(claim, pair.on, judged);
        if v.figure.is_some() {
            v.caveat = Some(numerator.view.words().into());
        }
        // QEMU's translation cache under TCG adds to a guest's memory: an upper
        // bound of what the same guest holds under KVM.
        if emulated_side && matches!(v.outcome, Outcome::Holds | Outcome::Above) {
            v.outcome = Outcome::Inconclusive(format!(
                "{}; under CPU emulation (TCG) QEMU's translation cache adds to \
                 the guest's memory, so only a KVM row can decide",
                numerator.view.words()
            ));
        }
        if let Some(sides) = &sides {
            within_noise_of_zero(&mut v, sides, numerator.view);
        }
        v
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_judge_both_ways() {
        let r = Range {
            min: Some(10.0),
            max: Some(20.0),
        };
        assert_eq!(judge(r, 5.0), Outcome::Below);
        assert_eq!(judge(r, 15.0), Outcome::Holds);
        assert_eq!(judge(r, 25.0), Outcome::Above);
        let open = Range {
            min: Some(10.0),
            max: None,
        };
        assert_eq!(judge(open, 1e12), Outcome::Holds);
    }
}
