//! Exports of a result file: the JSON that is published, a markdown report, the raw
//! samples as CSV and the terminal summary. All of them read the statistics derived from the raw samples.

pub mod csv;
pub mod json;
pub mod markdown;
pub mod tables;
pub mod terminal;
pub mod writer;

use crate::probes::Language;
#[cfg(test)]
use crate::results::RunnerKey;

/// One figure a platform reported about itself (or a network baseline), for the
/// reports' own table: never mixed with the stopwatch's phases.
pub struct ReportedRow {
    pub variant: String,
    pub mode: String,
    pub figure: String,
    pub n: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    /// Whose clock: the platform's (e.g. Lambda's REPORT line) or coldstart's.
    pub source: String,
}

/// Every platform-reported figure and network baseline of a run.
pub fn reported_rows(results: &crate::results::ResultFile) -> Vec<ReportedRow> {
    use crate::results::Mode;
    let mut rows = Vec::new();
    for r in results.runtimes.iter().filter(|r| r.available) {
        let variant = r.label();
        for mode in [Mode::Cold, Mode::Warm] {
            for (name, s) in &r.modes.get(mode).reported {
                rows.push(ReportedRow {
                    variant: variant.clone(),
                    mode: mode.name().into(),
                    figure: name.clone(),
                    n: s.count,
                    p50_ns: s.p50_ns,
                    p99_ns: s.p99_ns,
                    source: r
                        .reported_source
                        .clone()
                        .unwrap_or_else(|| "the platform".into()),
                });
            }
        }
        if let Some(s) = &r.network_baseline {
            rows.push(ReportedRow {
                variant: variant.clone(),
                mode: "baseline".into(),
                figure: "network round trip (our stopwatch, no function code run)".into(),
                n: s.count,
                p50_ns: s.p50_ns,
                p99_ns: s.p99_ns,
                source: "coldstart".into(),
            });
        }
    }
    rows
}

/// The title of the reported figures' table, and the sentence under it.
pub const REPORTED_TITLE: &str = "Reported by the platform, and network baselines";
pub const REPORTED_NOTE: &str =
    "Not our stopwatch unless said: these never enter the phases or the verdicts.";

/// Skipped variants of one runtime, in one language, that share a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedGroup {
    /// `runtime:variant`, or `runtime:{a, b}`, then `:language` unless it is Rust.
    pub variants: String,
    pub runtime: String,
    /// The variants, comma-separated.
    pub variant_list: String,
    pub language: Language,
    pub reason: String,
}

/// Skipped rows being grouped: one runtime and language, one reason.
struct Grouping<'a> {
    runtime: &'a str,
    language: Language,
    variants: Vec<&'a str>,
    reason: &'a str,
}

/// The skipped variants, one entry per runtime and distinct reason, in the order
/// they come, so a reason shared by twelve variants is said once.
pub fn skipped_groups<'a>(
    runtimes: impl IntoIterator<Item = &'a crate::results::RuntimeResult>,
) -> Vec<SkippedGroup> {
    let mut groups: Vec<Grouping> = Vec::new();
    for r in runtimes {
        let Some(reason) = r.skipped_reason.as_deref() else {
            continue;
        };
        match groups
            .iter_mut()
            .find(|g| g.runtime == r.runtime && g.language == r.language && g.reason == reason)
        {
            Some(g) => g.variants.push(&r.variant),
            None => groups.push(Grouping {
                runtime: &r.runtime,
                language: r.language,
                variants: vec![&r.variant],
                reason,
            }),
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let Grouping {
                runtime,
                language,
                variants,
                reason,
            } = g;
            let mut names = match variants.as_slice() {
                [one] => format!("{runtime}:{one}"),
                many => format!("{runtime}:{{{}}}", many.join(", ")),
            };
            if !language.is_rust() {
                names = format!("{names}:{language}");
            }
            SkippedGroup {
                variants: names,
                runtime: runtime.to_string(),
                variant_list: variants.join(", "),
                language,
                reason: reason.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_shared_by_many_variants_is_said_once() {
        let skipped = |rt: &str, v: &str, why: &str| {
            crate::results::RuntimeResult::skipped(&RunnerKey::new(rt, v), why.into())
        };
        let runtimes = [
            skipped("docker", "crun-none", "hybrid cgroups"),
            skipped("docker", "crun-bridge", "hybrid cgroups"),
            skipped("lambda", "x86_64-128mb", "no credentials"),
            skipped("lambda", "arm64-512mb", "no credentials"),
            skipped("lambda", "arm64-1024mb", "no function"),
        ];
        let groups: Vec<(String, String)> = skipped_groups(&runtimes)
            .into_iter()
            .map(|g| (g.variants, g.reason))
            .collect();
        assert_eq!(
            groups,
            [
                (
                    "docker:{crun-none, crun-bridge}".into(),
                    "hybrid cgroups".into()
                ),
                (
                    "lambda:{x86_64-128mb, arm64-512mb}".into(),
                    "no credentials".into()
                ),
                ("lambda:arm64-1024mb".into(), "no function".into()),
            ]
        );
    }
}
