//! The article's claims, judged against a result file.
//!
//! Each claim in `fixtures/claims.toml` names what tests it (a runtime's phase time,
//! a size, or a ratio of two from the same run) and the claimed range. The verdict
//! is read off the measured p50 (p99 is shown beside it): `holds` inside the range,
//! otherwise faster/slower (sizes: smaller/larger; ratios: lower/higher) than
//! claimed. A claim whose runtime was not run, was skipped, or has no valid sample
//! is `not measured`, with the reason: never guessed.

use crate::export::{format_bytes, format_ns};
use crate::results::{Mode, ResultFile, RuntimeResult};
use serde::Deserialize;

/// The claims shipped with coldstart (fixtures/claims.toml).
pub const BUILTIN: &str = include_str!("../../../fixtures/claims.toml");

#[derive(Debug, Deserialize)]
struct ClaimsFile {
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
    Unmeasured {
        what: String,
    },
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
}

/// The claimed range; a missing bound is open.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Range {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// Parses a claims file.
pub fn parse(text: &str) -> Result<Vec<Claim>, String> {
    toml::from_str::<ClaimsFile>(text)
        .map(|f| f.claim)
        .map_err(|e| format!("not a claims file: {e}"))
}

/// How a measured figure relates to the claimed range.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Holds,
    Below,
    Above,
    NotMeasured(String),
}

/// The figure a verdict was read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    Latency { p50_ns: u64, p99_ns: u64 },
    Ratio { p50: f64, p99: f64 },
    Bytes(u64),
    SizeRatio(f64),
}

/// One row of the report: a claim judged on one runtime variant (or pair).
#[derive(Debug, Clone)]
pub struct Verdict {
    pub claim: Claim,
    /// `runtime:variant`, or `a / b` for a ratio; empty when not measured at all.
    pub on: String,
    pub figure: Option<Figure>,
    pub outcome: Outcome,
}

impl Verdict {
    /// The verdict in words, in the claim's own terms.
    pub fn words(&self) -> String {
        let (below, above) = match self.claim.measure {
            Measure::Latency(_) => ("faster than claimed", "slower than claimed"),
            Measure::Size(_) => ("smaller than claimed", "larger than claimed"),
            _ => ("lower than claimed", "higher than claimed"),
        };
        match &self.outcome {
            Outcome::Holds => "holds".into(),
            Outcome::Below => below.into(),
            Outcome::Above => above.into(),
            Outcome::NotMeasured(why) => format!("not measured: {why}"),
        }
    }

    /// The measured figure in words.
    pub fn measured(&self) -> String {
        match self.figure {
            None => "—".into(),
            Some(Figure::Latency { p50_ns, p99_ns }) => format!(
                "p50 {} · p99 {}",
                format_ns(p50_ns as f64),
                format_ns(p99_ns as f64)
            ),
            Some(Figure::Ratio { p50, p99 }) => format!("p50 {} · p99 {}", ratio(p50), ratio(p99)),
            Some(Figure::Bytes(b)) => format_bytes(b),
            Some(Figure::SizeRatio(r)) => ratio(r),
        }
    }

    /// The claimed range in words.
    pub fn claimed(&self) -> String {
        let fmt = |v: f64| match self.claim.measure {
            Measure::Latency(_) => format_ns(v),
            Measure::Size(_) => format_bytes(v as u64),
            Measure::Unmeasured { .. } if v < 1.0 => format!("{:.0}%", v * 100.0),
            _ => ratio(v),
        };
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

/// The entries a target names, or why there are none to judge.
fn entries<'a>(results: &'a ResultFile, t: &Target) -> Result<Vec<&'a RuntimeResult>, String> {
    matching(results, &t.runtime, t.variant.as_deref(), &t.exclude)
}

fn sized<'a>(results: &'a ResultFile, t: &SizeTarget) -> Result<Vec<&'a RuntimeResult>, String> {
    matching(results, &t.runtime, t.variant.as_deref(), &[])
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
            "{which} was run only as {} (not judged: local figures are not the cloud's)",
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
    Ok(measured)
}

fn name(r: &RuntimeResult) -> String {
    format!("{}:{}", r.runtime, r.variant)
}

/// p50 and p99 of a target on one entry, or why there are none.
fn latency(r: &RuntimeResult, t: &Target) -> Result<(u64, u64), String> {
    r.modes
        .get(t.mode)
        .phases
        .get(&t.phase)
        .map(|s| (s.p50_ns, s.p99_ns))
        .ok_or_else(|| {
            format!(
                "{} has no valid {} {} sample",
                name(r),
                t.mode.name(),
                t.phase
            )
        })
}

fn size(r: &RuntimeResult) -> Result<u64, String> {
    r.artifact_bytes
        .ok_or_else(|| format!("{} did not report its artifact size", name(r)))
}

type Judged = Result<(Figure, f64), String>;

/// Every (numerator, denominator) pair of entries with its figure, named `n / d`;
/// one unnamed row with the reason when either side has no measured entry.
fn pairs(
    results: &ResultFile,
    (nr, nv): (&str, &Option<String>),
    (dr, dv): (&str, &Option<String>),
    figure: impl Fn(&RuntimeResult, &RuntimeResult) -> Judged,
) -> Vec<(String, Judged)> {
    let sides = matching(results, nr, nv.as_deref(), &[])
        .and_then(|n| matching(results, dr, dv.as_deref(), &[]).map(|d| (n, d)));
    match sides {
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
        let row = |on: String, figure: Result<(Figure, f64), String>| match figure {
            Ok((figure, value)) => Verdict {
                claim: claim.clone(),
                on,
                figure: Some(figure),
                outcome: judge(claim.range, value),
            },
            Err(why) => Verdict {
                claim: claim.clone(),
                on,
                figure: None,
                outcome: Outcome::NotMeasured(why),
            },
        };
        let missing = |why: String| row(String::new(), Err(why));
        match &claim.measure {
            Measure::Unmeasured { what } => {
                verdicts.push(missing(format!("coldstart does not measure {what} yet")))
            }
            Measure::Latency(t) => match entries(results, t) {
                Err(why) => verdicts.push(missing(why)),
                Ok(found) => verdicts.extend(found.into_iter().map(|r| {
                    let figure = latency(r, t).map(|(p50_ns, p99_ns)| {
                        (Figure::Latency { p50_ns, p99_ns }, p50_ns as f64)
                    });
                    row(name(r), figure)
                })),
            },
            Measure::Size(t) => match sized(results, t) {
                Err(why) => verdicts.push(missing(why)),
                Ok(found) => verdicts.extend(
                    found
                        .into_iter()
                        .map(|r| row(name(r), size(r).map(|b| (Figure::Bytes(b), b as f64)))),
                ),
            },
            Measure::Ratio {
                numerator: n,
                denominator: d,
            } => verdicts.extend(
                pairs(
                    results,
                    (&n.runtime, &n.variant),
                    (&d.runtime, &d.variant),
                    |num, den| {
                        let (n50, n99) = latency(num, n)?;
                        let (d50, d99) = latency(den, d)?;
                        let p50 = n50 as f64 / d50.max(1) as f64;
                        let p99 = n99 as f64 / d99.max(1) as f64;
                        Ok((Figure::Ratio { p50, p99 }, p50))
                    },
                )
                .into_iter()
                .map(|(on, figure)| row(on, figure)),
            ),
            Measure::SizeRatio {
                numerator: n,
                denominator: d,
            } => verdicts.extend(
                pairs(
                    results,
                    (&n.runtime, &n.variant),
                    (&d.runtime, &d.variant),
                    |num, den| {
                        let r = size(num)? as f64 / size(den)?.max(1) as f64;
                        Ok((Figure::SizeRatio(r), r))
                    },
                )
                .into_iter()
                .map(|(on, figure)| row(on, figure)),
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
}
