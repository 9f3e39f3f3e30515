//! The article's claims, judged against a result file.
//!
//! Each claim in `fixtures/claims.toml` names what tests it (a runtime's phase time,
//! a size, or a ratio of two from the same run) and the claimed range. The verdict
//! is read off the measured p50 and its uncertainty (p99 is shown beside it):
//!
//! * a time, ratio or overhead needs `min_samples` valid samples (30 unless the
//!   claims file says otherwise, per file or per claim) on every side it is read
//!   from; with fewer it reads `not enough samples (n=5 < 30)`, whatever the p50;
//! * the percentile-bootstrap 95% interval of the median (of a ratio of medians,
//!   for ratios) decides: `holds` only when the whole interval lies inside the
//!   claimed range, faster/slower (sizes: smaller/larger; ratios: lower/higher)
//!   than claimed only when it lies wholly outside, and `inconclusive` when it
//!   straddles a bound;
//! * what a figure is comes from the result file, not the claims file: a variant
//!   whose `details.location` says `local` (the Lambda emulator) stands in for a
//!   cloud platform locally and is never judged against any claim, whatever the
//!   claim's `exclude` says.
//!
//! A claim whose runtime was not run, was skipped, or has no valid sample is `not
//! measured`, with the reason: never guessed.
//!
//! A variant measured under CPU emulation (`details.accel = "tcg"`: QEMU without
//! hardware virtualization) gives only an upper bound of a time: "faster than
//! claimed" still follows from it, anything else is `inconclusive` until a KVM row
//! decides; and it never judges an overhead claim, which is about hardware
//! virtualization.

use crate::format::{format_bytes, format_ns};
use crate::results::{Mode, ResultFile, RuntimeResult};
use serde::Deserialize;

/// The claims shipped with coldstart (fixtures/claims.toml).
pub const BUILTIN: &str = include_str!("../../../fixtures/claims.toml");

/// Valid samples a judged figure needs unless the claims file says otherwise.
pub const DEFAULT_MIN_SAMPLES: u64 = 30;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimsFile {
    /// Valid samples every side of a judged time needs (default 30).
    min_samples: Option<u64>,
    claim: Vec<Claim>,
}

/// One claim of the article.
#[derive(Debug, Clone, Deserialize)]
pub struct Claim {
    pub id: String,
    /// The article's sentence, verbatim.
    pub quote: String,
    /// Its line in the article's text.
    pub line: u32,
    /// How the test relates to the claim, when it is not the claim's own subject.
    pub note: Option<String>,
    pub measure: Measure,
    pub range: Range,
    /// Valid samples each judged side needs; set from the file's `min_samples` (or
    /// [`DEFAULT_MIN_SAMPLES`]) when the claim has none of its own.
    pub min_samples: Option<u64>,
}

/// What tests a claim.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measure {
    Latency(Target),
    Ratio {
        numerator: Target,
        denominator: Target,
    },
    Size(SizeTarget),
    SizeRatio {
        numerator: SizeTarget,
        denominator: SizeTarget,
    },
    /// `inside / outside - 1` of two p50s of the same run: the cost of a layer
    /// (a hypervisor), judged only on hardware-virtualized rows and only when the
    /// invocation is CPU-bound enough (`min_invoke_iters`) that the transport's round
    /// trip does not dominate.
    Overhead {
        inside: Target,
        outside: Target,
        min_invoke_iters: u64,
    },
    /// Memory per live instance (`--density`), read in one view; judged on the
    /// median over the rounds.
    Memory(MemoryTarget),
    /// numerator's memory per instance / denominator's, both in the same view.
    MemoryRatio {
        numerator: MemoryTarget,
        denominator: MemoryTarget,
    },
    Unmeasured {
        what: String,
    },
}

/// Memory per live instance of a runtime, in one view.
#[derive(Debug, Clone, Deserialize)]
pub struct MemoryTarget {
    pub runtime: String,
    pub variant: Option<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub view: MemoryView,
}

/// How memory per instance was read (see `density`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryView {
    /// MemAvailable before minus with the instances live, per instance.
    Host,
    /// PSS of the instances' processes (or the harness's growth), per instance.
    Pss,
}

impl MemoryView {
    fn words(self) -> &'static str {
        match self {
            MemoryView::Host => "host view: MemAvailable drop per live instance",
            MemoryView::Pss => {
                "PSS view: what each instance holds (its processes' PSS; for Wasm the \
                 harness's growth plus its linear memory)"
            }
        }
    }
}

/// Memory per instance of one entry in a view (the median over rounds), or why none.
fn memory(r: &RuntimeResult, view: MemoryView) -> Result<f64, String> {
    let d = r
        .density
        .as_ref()
        .ok_or_else(|| format!("{} has no density figures: run with --density N", name(r)))?;
    let spread = match view {
        MemoryView::Host => d.host_bytes_per_instance,
        MemoryView::Pss => d.pss_bytes_per_instance,
    };
    spread
        .map(|s| s.median)
        .filter(|m| *m > 0.0)
        .ok_or_else(|| format!("{} has no {} figure", name(r), view.words()))
}

/// A phase time of a runtime (every measured variant when `variant` is absent).
#[derive(Debug, Clone, Deserialize)]
pub struct Target {
    pub runtime: String,
    pub variant: Option<String>,
    /// Variants never judged against this claim (`local-emulator`: local figures
    /// are not the cloud's).
    #[serde(default)]
    pub exclude: Vec<String>,
    pub mode: Mode,
    pub phase: String,
}

/// The artifact size of a runtime.
#[derive(Debug, Clone, Deserialize)]
pub struct SizeTarget {
    pub runtime: String,
    pub variant: Option<String>,
    /// Variants never judged against this claim.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// The claimed range; a missing bound is open.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Range {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// Parses a claims file.
pub fn parse(text: &str) -> Result<Vec<Claim>, String> {
    let file = toml::from_str::<ClaimsFile>(text).map_err(|e| format!("not a claims file: {e}"))?;
    let default = file.min_samples.unwrap_or(DEFAULT_MIN_SAMPLES);
    let mut claims = file.claim;
    for c in &mut claims {
        let min = *c.min_samples.get_or_insert(default);
        if min == 0 {
            return Err(format!(
                "claim {}: min_samples 0 would judge a figure of no sample (e.g. 30)",
                c.id
            ));
        }
    }
    Ok(claims)
}

/// How a measured figure relates to the claimed range.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Holds,
    Below,
    Above,
    /// The figure cannot decide (an interval across a bound, an upper bound inside
    /// or above the range).
    Inconclusive(String),
    /// Fewer valid samples than the claim needs: `n` of `min`.
    TooFew {
        n: u64,
        min: u64,
    },
    NotMeasured(String),
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

/// Whether an entry ran under CPU emulation (QEMU's TCG), not hardware virtualization.
fn emulated(r: &RuntimeResult) -> bool {
    r.details.get("accel").and_then(|v| v.as_str()) == Some("tcg")
}

/// A sandboxed container (gVisor): judged by the container claims, but another tier.
fn sandboxed(r: &RuntimeResult) -> Option<String> {
    r.details.get("sandbox").and_then(|v| v.as_str()).map(|s| {
        format!(
            "sandboxed ({s}: system calls served in user space), a different isolation tier \
                 than a plain container"
        )
    })
}

/// What an emulated entry's time means for a verdict.
const UPPER_BOUND: &str =
    "measured under CPU emulation (TCG): an upper bound of a hardware-virtualized boot";

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
    pub ci: Option<(f64, f64)>,
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
            Outcome::TooFew { n, min } => return format!("not enough samples (n={n} < {min})"),
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
            Some((lo, hi)) => format!(" [95% CI {} – {}]", fmt(lo), fmt(hi)),
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
    fn unit(&self, v: f64) -> String {
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

fn judge(range: Range, value: f64) -> Outcome {
    match (range.min, range.max) {
        (Some(lo), _) if value < lo => Outcome::Below,
        (_, Some(hi)) if value > hi => Outcome::Above,
        _ => Outcome::Holds,
    }
}

/// The outcome both ends of an interval agree on, or `None` when it straddles a
/// bound of the range.
fn judge_interval(range: Range, (lo, hi): (f64, f64)) -> Option<Outcome> {
    let (low, high) = (judge(range, lo), judge(range, hi));
    (low == high).then_some(low)
}

/// Why a variant's figures are never judged against any claim: it ran locally in
/// place of a cloud platform (`details.location` says `local`, as the Lambda
/// emulator's does). Read from the result file, whatever a claims file says.
fn local_stand_in(r: &RuntimeResult) -> Option<String> {
    let location = r.details.get("location")?.as_str()?;
    location
        .starts_with("local")
        .then(|| format!("{} ran locally ({location})", name(r)))
}

/// The entries a target names, or why there are none to judge.
fn entries<'a>(results: &'a ResultFile, t: &Target) -> Result<Vec<&'a RuntimeResult>, String> {
    matching(results, &t.runtime, t.variant.as_deref(), &t.exclude)
}

fn sized<'a>(results: &'a ResultFile, t: &SizeTarget) -> Result<Vec<&'a RuntimeResult>, String> {
    matching(results, &t.runtime, t.variant.as_deref(), &t.exclude)
}

fn matching<'a>(
    results: &'a ResultFile,
    runtime: &str,
    variant: Option<&str>,
    exclude: &[String],
) -> Result<Vec<&'a RuntimeResult>, String> {
    let all: Vec<&RuntimeResult> = results
        .runtimes
        .iter()
        .filter(|r| r.runtime == runtime && variant.is_none_or(|v| r.variant == v))
        .collect();
    let named: Vec<&RuntimeResult> = all
        .iter()
        .copied()
        .filter(|r| !exclude.contains(&r.variant))
        .collect();
    let which = match variant {
        Some(v) => format!("{runtime}:{v}"),
        None => runtime.to_string(),
    };
    if named.is_empty() && !all.is_empty() {
        return Err(format!(
            "{which} was run only as {}, which this claim excludes (see its note)",
            all.iter().map(|r| name(r)).collect::<Vec<_>>().join(", ")
        ));
    }
    if named.is_empty() {
        return Err(format!("{which} was not run"));
    }
    let measured: Vec<&RuntimeResult> = named.iter().copied().filter(|r| r.available).collect();
    if measured.is_empty() {
        // The reason first: "not measured: no credentials (...)".
        let reason = named[0].skipped_reason.clone().unwrap_or_default();
        return Err(format!("{reason} ({which} was skipped)"));
    }
    let judged: Vec<&RuntimeResult> = measured
        .iter()
        .copied()
        .filter(|r| local_stand_in(r).is_none())
        .collect();
    if judged.is_empty() {
        let why: Vec<String> = measured.iter().filter_map(|r| local_stand_in(r)).collect();
        return Err(format!(
            "{}: a local stand-in's figures are not the platform's",
            why.join("; ")
        ));
    }
    Ok(judged)
}

fn name(r: &RuntimeResult) -> String {
    format!("{}:{}", r.runtime, r.variant)
}

/// What a time is judged from on one entry: its p50 and p99, how many valid
/// samples, and the values themselves (for the interval).
struct Side {
    p50_ns: u64,
    p99_ns: u64,
    n: u64,
    values: Vec<f64>,
}

/// A target's side on one entry, or why there is none.
fn side(results: &ResultFile, r: &RuntimeResult, t: &Target) -> Result<Side, String> {
    let summary = r.modes.get(t.mode).phases.get(&t.phase).ok_or_else(|| {
        format!(
            "{} has no valid {} {} sample",
            name(r),
            t.mode.name(),
            t.phase
        )
    })?;
    let values = results
        .group_values(&r.runtime, &r.variant, t.mode, &t.phase)
        .into_iter()
        .map(|v| v as f64)
        .collect();
    Ok(Side {
        p50_ns: summary.p50_ns,
        p99_ns: summary.p99_ns,
        n: summary.count,
        values,
    })
}

fn size(r: &RuntimeResult) -> Result<u64, String> {
    r.artifact_bytes
        .ok_or_else(|| format!("{} did not report its artifact size", name(r)))
}

/// A figure ready to be judged.
struct Judgement {
    figure: Figure,
    /// The judged value (a p50, a ratio of p50s, a size).
    value: f64,
    /// Its 95% interval, for figures read from samples.
    ci: Option<(f64, f64)>,
    /// The fewest valid samples of any side it was read from.
    n: Option<u64>,
}

/// The interval of `combine` over the medians of `sides`, with the smallest n.
fn interval(sides: &[&Side], combine: impl Fn(&[f64]) -> f64) -> (Option<(f64, f64)>, u64) {
    let values: Vec<&[f64]> = sides.iter().map(|s| s.values.as_slice()).collect();
    let ci = crate::stats::bootstrap_ci(&values, combine, 0);
    let n = sides.iter().map(|s| s.n).min().unwrap_or(0);
    (
        Some(ci).filter(|(lo, hi)| lo.is_finite() && hi.is_finite()),
        n,
    )
}

type Judged = Result<Judgement, String>;

/// Every (numerator, denominator) pair of entries with its figure, named `n / d`;
/// one unnamed row with the reason when either side has no measured entry.
fn pairs<'a, T>(
    nums: Result<Vec<&'a RuntimeResult>, String>,
    dens: impl FnOnce() -> Result<Vec<&'a RuntimeResult>, String>,
    figure: impl Fn(&RuntimeResult, &RuntimeResult) -> Result<T, String>,
) -> Vec<(String, Result<T, String>)> {
    match nums.and_then(|n| dens().map(|d| (n, d))) {
        Err(why) => vec![(String::new(), Err(why))],
        Ok((nums, dens)) => nums
            .iter()
            .flat_map(|n| dens.iter().map(move |d| (*n, *d)))
            .map(|(n, d)| (format!("{} / {}", name(n), name(d)), figure(n, d)))
            .collect(),
    }
}

/// Judges every claim against one result file.
pub fn evaluate(claims: &[Claim], results: &ResultFile) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for claim in claims {
        let min = claim.min_samples.unwrap_or(DEFAULT_MIN_SAMPLES);
        let row = |on: String, judged: Judged| match judged {
            Ok(j) => {
                let mut verdict = Verdict {
                    claim: claim.clone(),
                    on,
                    figure: Some(j.figure),
                    outcome: judge(claim.range, j.value),
                    ci: j.ci,
                    caveat: None,
                };
                if let Some(n) = j.n.filter(|n| *n < min) {
                    verdict.outcome = Outcome::TooFew { n, min };
                } else if let Some(ci) = j.ci {
                    verdict.outcome = judge_interval(claim.range, ci).unwrap_or_else(|| {
                        Outcome::Inconclusive(format!(
                            "the 95% CI of the median, {} – {}, straddles a claimed bound",
                            verdict.unit(ci.0),
                            verdict.unit(ci.1)
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
        };
        // A time measured under emulation bounds the real one from above; a sandboxed
        // container's is another tier's.
        let bounded = |r: &RuntimeResult, mut verdict: Verdict| {
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
        };
        let missing = |why: String| row(String::new(), Err(why));
        match &claim.measure {
            Measure::Unmeasured { what } => {
                verdicts.push(missing(format!("coldstart does not measure {what} yet")))
            }
            Measure::Latency(t) => match entries(results, t) {
                Err(why) => verdicts.push(missing(why)),
                Ok(mut found) => {
                    // Sandboxed rows are listed apart, after the plain ones.
                    found.sort_by_key(|r| sandboxed(r).is_some());
                    verdicts.extend(found.into_iter().map(|r| {
                        let judged = side(results, r, t).map(|s| {
                            let (ci, n) = interval(&[&s], |m| m[0]);
                            Judgement {
                                figure: Figure::Latency {
                                    p50_ns: s.p50_ns,
                                    p99_ns: s.p99_ns,
                                },
                                value: s.p50_ns as f64,
                                ci,
                                n: Some(n),
                            }
                        });
                        bounded(r, row(name(r), judged))
                    }))
                }
            },
            Measure::Overhead {
                inside,
                outside,
                min_invoke_iters,
            } => {
                let iters = results.parameters.invoke_iters;
                let sides = entries(results, inside)
                    .and_then(|i| entries(results, outside).map(|o| (i, o)))
                    .and_then(|sides| {
                        if iters < *min_invoke_iters {
                            Err(format!(
                                "needs a CPU-bound invocation, so the transport's round trip \
                                 does not dominate: run with --invoke-iters {min_invoke_iters} \
                                 or more (this run: {iters})"
                            ))
                        } else {
                            Ok(sides)
                        }
                    });
                match sides {
                    Err(why) => verdicts.push(missing(why)),
                    Ok((ins, outs)) => {
                        for i in &ins {
                            for o in &outs {
                                let on = format!("{} / {}", name(i), name(o));
                                if emulated(i) {
                                    verdicts.push(row(
                                        on,
                                        Err("emulated CPU (TCG), not hardware virtualization"
                                            .into()),
                                    ));
                                    continue;
                                }
                                let judged = side(results, i, inside).and_then(|si| {
                                    let so = side(results, o, outside)?;
                                    let overhead = si.p50_ns as f64 / so.p50_ns.max(1) as f64 - 1.0;
                                    let (ci, n) =
                                        interval(&[&si, &so], |m| m[0] / m[1].max(1.0) - 1.0);
                                    Ok(Judgement {
                                        figure: Figure::Overhead {
                                            inside_ns: si.p50_ns,
                                            outside_ns: so.p50_ns,
                                            overhead,
                                        },
                                        value: overhead,
                                        ci,
                                        n: Some(n),
                                    })
                                });
                                verdicts.push(row(on, judged));
                            }
                        }
                    }
                }
            }
            Measure::Size(t) => match sized(results, t) {
                Err(why) => verdicts.push(missing(why)),
                Ok(found) => verdicts.extend(found.into_iter().map(|r| {
                    let judged = size(r).map(|b| Judgement {
                        figure: Figure::Bytes(b),
                        value: b as f64,
                        ci: None,
                        n: None,
                    });
                    row(name(r), judged)
                })),
            },
            Measure::Ratio {
                numerator: n,
                denominator: d,
            } => verdicts.extend(
                pairs(
                    entries(results, n),
                    || entries(results, d),
                    |num, den| {
                        let sn = side(results, num, n)?;
                        let sd = side(results, den, d)?;
                        let p50 = sn.p50_ns as f64 / sd.p50_ns.max(1) as f64;
                        let p99 = sn.p99_ns as f64 / sd.p99_ns.max(1) as f64;
                        let (ci, n) = interval(&[&sn, &sd], |m| m[0] / m[1].max(1.0));
                        Ok(Judgement {
                            figure: Figure::Ratio { p50, p99 },
                            value: p50,
                            ci,
                            n: Some(n),
                        })
                    },
                )
                .into_iter()
                .map(|(on, judged)| row(on, judged)),
            ),
            Measure::Memory(t) => {
                match matching(results, &t.runtime, t.variant.as_deref(), &t.exclude) {
                    Err(why) => verdicts.push(missing(why)),
                    Ok(found) => verdicts.extend(found.into_iter().map(|r| {
                        let judged = memory(r, t.view).map(|b| Judgement {
                            figure: Figure::Bytes(b as u64),
                            value: b,
                            ci: None,
                            n: None,
                        });
                        let mut v = row(name(r), judged);
                        if v.figure.is_some() {
                            v.caveat = Some(t.view.words().into());
                        }
                        v
                    })),
                }
            }
            Measure::MemoryRatio {
                numerator: n,
                denominator: d,
            } => verdicts.extend(
                pairs(
                    matching(results, &n.runtime, n.variant.as_deref(), &n.exclude),
                    || matching(results, &d.runtime, d.variant.as_deref(), &d.exclude),
                    |num, den| {
                        let r = memory(num, n.view)? / memory(den, d.view)?;
                        Ok((
                            Judgement {
                                figure: Figure::SizeRatio(r),
                                value: r,
                                ci: None,
                                n: None,
                            },
                            emulated(num) || emulated(den),
                        ))
                    },
                )
                .into_iter()
                .map(|(on, judged)| {
                    let emulated_side = judged.as_ref().is_ok_and(|(_, e)| *e);
                    let mut v = row(on, judged.map(|(j, _)| j));
                    if v.figure.is_some() {
                        v.caveat = Some(n.view.words().into());
                    }
                    // QEMU's translation cache under TCG adds to a guest's memory: an
                    // upper bound of what the same guest holds under KVM.
                    if emulated_side && matches!(v.outcome, Outcome::Holds | Outcome::Above) {
                        v.outcome = Outcome::Inconclusive(format!(
                            "{}; under CPU emulation (TCG) QEMU's translation cache adds to \
                             the guest's memory, so only a KVM row can decide",
                            n.view.words()
                        ));
                    }
                    v
                }),
            ),
            Measure::SizeRatio {
                numerator: n,
                denominator: d,
            } => verdicts.extend(
                pairs(
                    sized(results, n),
                    || sized(results, d),
                    |num, den| {
                        let r = size(num)? as f64 / size(den)?.max(1) as f64;
                        Ok(Judgement {
                            figure: Figure::SizeRatio(r),
                            value: r,
                            ci: None,
                            n: None,
                        })
                    },
                )
                .into_iter()
                .map(|(on, judged)| row(on, judged)),
            ),
        }
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_claims_parse_and_cover_the_article() {
        let claims = parse(BUILTIN).unwrap();
        let ids: Vec<&str> = claims.iter().map(|c| c.id.as_str()).collect();
        for id in [
            "vm-boot",
            "container-startup",
            "faas-cold-start",
            "faas-sub-100ms",
            "wasm-startup-microseconds",
            "wasm-vs-container-startup",
            "workers-sub-millisecond",
            "wasm-module-size",
            "image-vs-module-size",
            "container-density",
            "hypervisor-overhead",
        ] {
            assert!(ids.contains(&id), "{id} missing");
        }
        let article = include_str!("../../../fixtures/article.txt");
        for c in &claims {
            let line = article.lines().nth(c.line as usize - 1).unwrap();
            assert!(
                line.contains(c.quote.trim_start_matches("Smaller footprint — ")),
                "{}: line {} is {line:?}",
                c.id,
                c.line
            );
        }
    }

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

    /// A real run's file with its runtimes replaced by `rows`: (runtime, variant,
    /// accel, cold p50, warm p50), each summary made of 30 equal samples.
    fn results(rows: &[(&str, &str, Option<&str>, u64, u64)], invoke_iters: u64) -> ResultFile {
        let text = include_str!("../../../fixtures/compare/aa-a/run-01.json");
        let mut file = crate::results::load::parse(text).unwrap();
        file.parameters.invoke_iters = invoke_iters;
        // The figures come from the summaries below alone.
        file.samples.clear();
        file.runtimes = rows
            .iter()
            .map(|(runtime, variant, accel, cold, warm)| {
                let mut r = RuntimeResult::skipped(runtime, variant, String::new());
                r.available = true;
                r.skipped_reason = None;
                if let Some(accel) = accel {
                    r.details.insert("accel".into(), (*accel).into());
                }
                for (mode, ns) in [(Mode::Cold, cold), (Mode::Warm, warm)] {
                    let summary = crate::stats::summarize(&crate::stats::record(vec![*ns; 30]));
                    r.modes.get_mut(mode).ok = 30;
                    r.modes
                        .get_mut(mode)
                        .phases
                        .insert("total".into(), summary.unwrap());
                }
                r
            })
            .collect();
        file
    }

    fn verdicts_of<'a>(verdicts: &'a [Verdict], id: &str) -> Vec<&'a Verdict> {
        verdicts.iter().filter(|v| v.claim.id == id).collect()
    }

    #[test]
    fn an_emulated_boot_is_an_upper_bound() {
        let claims = parse(BUILTIN).unwrap();
        // 16 s under TCG: faster than 30 s even so. 45 s under TCG: inside the claimed
        // range, but hardware may be faster: inconclusive. 45 s under KVM: holds.
        let file = results(
            &[
                ("vm", "full-tcg", Some("tcg"), 16_000_000_000, 800_000),
                ("vm", "full-kvm", Some("kvm"), 45_000_000_000, 800_000),
                ("vm", "minimal-tcg", Some("tcg"), 45_000_000_000, 800_000),
            ],
            50,
        );
        let verdicts = evaluate(&claims, &file);
        let boot = verdicts_of(&verdicts, "vm-boot");
        assert_eq!(boot.len(), 2, "minimal guests are not a full OS boot");
        assert_eq!(boot[0].on, "vm:full-tcg");
        assert_eq!(boot[0].outcome, Outcome::Below);
        assert!(
            boot[0].words().contains("upper bound"),
            "{}",
            boot[0].words()
        );
        let mut slow = file.clone();
        slow.runtimes[0].modes.get_mut(Mode::Cold).phases.insert(
            "total".into(),
            crate::stats::summarize(&crate::stats::record(vec![45_000_000_000; 30])).unwrap(),
        );
        let verdicts = evaluate(&claims, &slow);
        let boot = verdicts_of(&verdicts, "vm-boot");
        assert!(
            matches!(boot[0].outcome, Outcome::Inconclusive(_)),
            "{:?}",
            boot[0].outcome
        );
        assert_eq!(boot[1].on, "vm:full-kvm");
        assert_eq!(boot[1].outcome, Outcome::Holds);
    }

    #[test]
    fn hypervisor_overhead_is_judged_only_on_kvm_rows_with_cpu_bound_work() {
        let claims = parse(BUILTIN).unwrap();
        let rows = [
            ("process", "native", None, 1_000_000, 100_000_000),
            ("vm", "minimal-kvm", Some("kvm"), 500_000_000, 107_000_000),
            ("vm", "minimal-tcg", Some("tcg"), 2_000_000_000, 900_000_000),
        ];
        // Light invocations: the serial line's round trip would be what is compared.
        let light = evaluate(&claims, &results(&rows, 50));
        let light = verdicts_of(&light, "hypervisor-overhead");
        assert_eq!(light.len(), 1);
        assert!(
            light[0].words().contains("--invoke-iters"),
            "{}",
            light[0].words()
        );

        let heavy = evaluate(&claims, &results(&rows, 2_000_000));
        let heavy = verdicts_of(&heavy, "hypervisor-overhead");
        assert_eq!(heavy.len(), 2);
        assert_eq!(heavy[0].on, "vm:minimal-kvm / process:native");
        assert_eq!(heavy[0].outcome, Outcome::Holds, "7% is inside 5-10%");
        assert!(
            heavy[0].measured().starts_with("+7.0%"),
            "{}",
            heavy[0].measured()
        );
        assert_eq!(heavy[1].on, "vm:minimal-tcg / process:native");
        assert_eq!(
            heavy[1].words(),
            "not measured: emulated CPU (TCG), not hardware virtualization"
        );
    }

    #[test]
    fn sandboxed_containers_are_judged_but_listed_apart_with_a_note() {
        let claims = parse(BUILTIN).unwrap();
        let mut file = results(
            &[
                ("docker", "runsc-none", None, 360_000_000, 400_000),
                ("docker", "runc-none", None, 180_000_000, 200_000),
                ("podman", "runc-none", None, 90_000_000, 200_000),
            ],
            50,
        );
        file.runtimes[0]
            .details
            .insert("sandbox".into(), "gvisor".into());
        let verdicts = evaluate(&claims, &file);
        let docker = verdicts_of(&verdicts, "container-startup");
        let on: Vec<&str> = docker.iter().map(|v| v.on.as_str()).collect();
        assert_eq!(on, ["docker:runc-none", "docker:runsc-none"]);
        assert_eq!(docker[0].words(), "faster than claimed");
        assert!(
            docker[1]
                .words()
                .starts_with("faster than claimed (sandboxed (gvisor"),
            "{}",
            docker[1].words()
        );
        let podman = verdicts_of(&verdicts, "container-startup-podman");
        assert_eq!(podman.len(), 1);
        assert_eq!(podman[0].on, "podman:runc-none");
    }

    /// Replaces the `total` of one row's mode by a summary of `values`.
    fn set_values(file: &mut ResultFile, row: usize, mode: Mode, values: Vec<u64>) {
        let m = file.runtimes[row].modes.get_mut(mode);
        m.ok = values.len() as u64;
        let summary = crate::stats::summarize(&crate::stats::record(values)).unwrap();
        m.phases.insert("total".into(), summary);
    }

    #[test]
    fn too_few_samples_are_not_enough_whatever_the_p50() {
        let claims = parse(BUILTIN).unwrap();
        let mut file = results(&[("wasm", "pre", None, 50_000, 1_000)], 50);
        set_values(&mut file, 0, Mode::Cold, vec![50_000; 5]);
        let verdicts = evaluate(&claims, &file);
        let v = verdicts_of(&verdicts, "wasm-startup-microseconds");
        assert_eq!(v[0].outcome, Outcome::TooFew { n: 5, min: 30 });
        assert_eq!(v[0].words(), "not enough samples (n=5 < 30)");
        // A claims file may set its own minimum, globally or per claim.
        let lenient = format!(
            "min_samples = 5\n{}",
            BUILTIN.replace("min_samples = 30\n", "")
        );
        let verdicts = evaluate(&parse(&lenient).unwrap(), &file);
        let v = verdicts_of(&verdicts, "wasm-startup-microseconds");
        assert_eq!(v[0].outcome, Outcome::Holds);
        assert!(parse("min_samples = 0\n[[claim]]\nid = \"x\"\nquote = \"q\"\nline = 1\nmeasure = { kind = \"size\", runtime = \"wasm\" }\nrange = {}\n").is_err());
    }

    #[test]
    fn an_interval_across_a_bound_is_inconclusive_and_one_inside_holds() {
        let claims = parse(BUILTIN).unwrap();
        // wasm-startup-microseconds claims 1 µs – 1 ms. Medians near 1 ms with a wide
        // spread: the interval of the median crosses 1 ms.
        let mut file = results(&[("wasm", "pre", None, 0, 0)], 50);
        let wide: Vec<u64> = (0..40).map(|i| 700_000 + i * 15_000).collect();
        set_values(&mut file, 0, Mode::Cold, wide);
        let verdicts = evaluate(&claims, &file);
        let v = verdicts_of(&verdicts, "wasm-startup-microseconds")[0].clone();
        assert!(
            matches!(v.outcome, Outcome::Inconclusive(_)),
            "{:?}",
            v.outcome
        );
        let (lo, hi) = v.ci.unwrap();
        assert!(lo < 1e6 && hi > 1e6, "{lo} {hi}");
        assert!(v.measured().contains("95% CI"), "{}", v.measured());
        // The same spread around 100 µs lies wholly inside.
        let narrow: Vec<u64> = (0..40).map(|i| 70_000 + i * 1_500).collect();
        set_values(&mut file, 0, Mode::Cold, narrow);
        let verdicts = evaluate(&claims, &file);
        assert_eq!(
            verdicts_of(&verdicts, "wasm-startup-microseconds")[0].outcome,
            Outcome::Holds
        );
    }

    #[test]
    fn a_local_stand_in_is_never_judged_whatever_the_claims_say() {
        // A user's claims file without `exclude`, with a ratio on the emulator too.
        let claims = parse(
            r#"
[[claim]]
id = "faas"
quote = "q"
line = 1
measure = { kind = "latency", runtime = "lambda", mode = "cold", phase = "total" }
range = { min = 100e6 }

[[claim]]
id = "faas-vs-process"
quote = "q"
line = 1
measure = { kind = "ratio", numerator = { runtime = "lambda", mode = "cold", phase = "total" }, denominator = { runtime = "process", mode = "cold", phase = "total" } }
range = { min = 10 }

[[claim]]
id = "faas-size"
quote = "q"
line = 1
measure = { kind = "size_ratio", numerator = { runtime = "lambda" }, denominator = { runtime = "process" } }
range = { min = 1 }
"#,
        )
        .unwrap();
        let mut file = results(
            &[
                ("lambda", "local-emulator", None, 200_000_000, 1_000_000),
                ("process", "native", None, 1_000_000, 10_000),
            ],
            50,
        );
        file.runtimes[0].details.insert(
            "location".into(),
            "local: cargo-lambda's Runtime API emulator on this machine, not AWS".into(),
        );
        file.runtimes[0].artifact_bytes = Some(1 << 20);
        file.runtimes[1].artifact_bytes = Some(1 << 19);
        let verdicts = evaluate(&claims, &file);
        assert_eq!(verdicts.len(), 3);
        for v in &verdicts {
            assert!(v.figure.is_none(), "{}: {:?}", v.claim.id, v.figure);
            assert!(v.words().contains("ran locally"), "{}", v.words());
        }
    }

    /// A density figure as a run records it: `host` and `pss` bytes per instance.
    fn with_density(r: &mut RuntimeResult, host: f64, pss: f64) {
        let spread = |v: f64| {
            Some(crate::results::Spread {
                min: v,
                median: v,
                max: v,
            })
        };
        r.density = Some(crate::results::Density {
            instances: 20,
            rounds: 3,
            host_bytes_per_instance: spread(host),
            pss_bytes_per_instance: spread(pss),
            cgroup_bytes_per_instance: None,
            linear_memory_bytes_per_instance: None,
            bring_up_ns: None,
            instances_per_gib: None,
            method: Vec::new(),
            raw: Vec::new(),
        });
    }

    #[test]
    fn density_is_judged_from_measured_memory_and_names_its_view() {
        let claims = parse(BUILTIN).unwrap();
        let mut file = results(
            &[
                ("docker", "runc-none", None, 180_000_000, 200_000),
                ("vm", "minimal-kvm", Some("kvm"), 2_000_000_000, 900_000),
                ("wasm", "pre", None, 50_000, 1_000),
            ],
            50,
        );
        with_density(&mut file.runtimes[0], 4e6, 3e6);
        with_density(&mut file.runtimes[1], 200e6, 150e6);
        with_density(&mut file.runtimes[2], 1e5, 1.2e6);
        let verdicts = evaluate(&claims, &file);
        let density = verdicts_of(&verdicts, "container-density");
        assert_eq!(density.len(), 1);
        assert_eq!(density[0].on, "vm:minimal-kvm / docker:runc-none");
        // 200 MB per VM over 4 MB per container: 50×, more than the 3-10× claimed.
        assert_eq!(density[0].figure, Some(Figure::SizeRatio(50.0)));
        assert_eq!(density[0].outcome, Outcome::Above);
        assert!(
            density[0].words().contains("host view"),
            "{}",
            density[0].words()
        );
        let wasm = verdicts_of(&verdicts, "wasm-instance-memory");
        assert_eq!(wasm[0].outcome, Outcome::Above, "1.2 MB is not kilobytes");
        assert!(wasm[0].words().contains("PSS view"));
        let container = verdicts_of(&verdicts, "container-instance-memory");
        assert_eq!(container[0].outcome, Outcome::Holds, "3 MB is megabytes");
        // The same guest under TCG: an upper bound, so "more than claimed" cannot follow.
        file.runtimes[1].variant = "minimal-tcg".into();
        file.runtimes[1]
            .details
            .insert("accel".into(), "tcg".into());
        let verdicts = evaluate(&claims, &file);
        let density = verdicts_of(&verdicts, "container-density");
        assert!(
            matches!(density[0].outcome, Outcome::Inconclusive(_)),
            "{:?}",
            density[0].outcome
        );
        // Without --density: not measured, and says how to measure it.
        file.runtimes[0].density = None;
        let verdicts = evaluate(&claims, &file);
        let density = verdicts_of(&verdicts, "container-density");
        assert!(
            density[0].words().contains("run with --density N"),
            "{}",
            density[0].words()
        );
    }
}
