//! The article's claims, judged against a result file.
//!
//! Each claim in `fixtures/claims.toml` names what tests it (a runtime's phase time,
//! a size, or a ratio of two from the same run) and the claimed range. The verdict
//! is read off the measured p50 (p99 is shown beside it): `holds` inside the range,
//! otherwise faster/slower (sizes: smaller/larger; ratios: lower/higher) than
//! claimed. A claim whose runtime was not run, was skipped, or has no valid sample
//! is `not measured`, with the reason: never guessed.
//!
//! A variant measured under CPU emulation (`details.accel = "tcg"`: QEMU without
//! hardware virtualization) gives only an upper bound of a time: "faster than
//! claimed" still follows from it, anything else is `inconclusive` until a KVM row
//! decides; and it never judges an overhead claim, which is about hardware
//! virtualization.

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
    /// `inside / outside - 1` of two p50s of the same run: the cost of a layer
    /// (a hypervisor), judged only on hardware-virtualized rows and only when the
    /// invocation is CPU-bound enough (`min_invoke_iters`) that the transport's round
    /// trip does not dominate.
    Overhead {
        inside: Target,
        outside: Target,
        min_invoke_iters: u64,
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
    /// The figure cannot decide (an upper bound inside or above the range).
    Inconclusive(String),
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
    /// What qualifies the figure (an upper bound under emulation).
    pub caveat: Option<String>,
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
            Outcome::Inconclusive(why) => return format!("inconclusive: {why}"),
            Outcome::NotMeasured(why) => return format!("not measured: {why}"),
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
            Some(Figure::Overhead {
                inside_ns,
                outside_ns,
                overhead,
            }) => format!(
                "{:+.1}% (p50 {} inside, {} outside)",
                overhead * 100.0,
                format_ns(inside_ns as f64),
                format_ns(outside_ns as f64)
            ),
        }
    }

    /// The claimed range in words.
    pub fn claimed(&self) -> String {
        let fmt = |v: f64| match self.claim.measure {
            Measure::Latency(_) => format_ns(v),
            Measure::Size(_) => format_bytes(v as u64),
            Measure::Unmeasured { .. } | Measure::Overhead { .. } if v < 1.0 => {
                format!("{:.0}%", v * 100.0)
            }
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
                caveat: None,
            },
            Err(why) => Verdict {
                claim: claim.clone(),
                on,
                figure: None,
                outcome: Outcome::NotMeasured(why),
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
                Ok(mut found) => verdicts.extend(
                    {
                        // Sandboxed rows are listed apart, after the plain ones.
                        found.sort_by_key(|r| sandboxed(r).is_some());
                        found
                    }
                    .into_iter()
                    .map(|r| {
                        let figure = latency(r, t).map(|(p50_ns, p99_ns)| {
                            (Figure::Latency { p50_ns, p99_ns }, p50_ns as f64)
                        });
                        bounded(r, row(name(r), figure))
                    }),
                ),
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
                                let figure = latency(i, inside).and_then(|(i50, _)| {
                                    let (o50, _) = latency(o, outside)?;
                                    let overhead = i50 as f64 / o50.max(1) as f64 - 1.0;
                                    Ok((
                                        Figure::Overhead {
                                            inside_ns: i50,
                                            outside_ns: o50,
                                            overhead,
                                        },
                                        overhead,
                                    ))
                                });
                                verdicts.push(row(on, figure));
                            }
                        }
                    }
                }
            }
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

    /// A real run's file with its runtimes replaced by `rows`: (runtime, variant,
    /// accel, cold p50, warm p50), each summary made of 30 equal samples.
    fn results(rows: &[(&str, &str, Option<&str>, u64, u64)], invoke_iters: u64) -> ResultFile {
        let text = include_str!("../../../fixtures/compare/aa-a/run-01.json");
        let mut file = crate::report::load::parse(text).unwrap();
        file.parameters.invoke_iters = invoke_iters;
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
}
