//! Exports of a result file: the JSON that is published, a markdown report, the raw
//! samples as CSV and the terminal summary. All of them read the statistics derived from the raw samples.

pub mod crowd;
pub mod csv;
pub mod json;
pub mod markdown;
pub mod table;
pub mod writer;

/// A duration in ns in the unit that suits it, 3 significant digits.
pub fn format_ns(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$} {unit}")
}

/// The unit of the tables' times (`--time-unit`); without one each time gets the
/// unit that suits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimeUnit {
    Ns,
    Us,
    Ms,
    S,
}

/// A duration in ns in `unit` (3 significant digits where the value allows), or
/// in the unit that suits it.
pub fn format_time(ns: f64, unit: Option<TimeUnit>) -> String {
    let (value, name) = match unit {
        None => return format_ns(ns),
        Some(TimeUnit::Ns) => return format!("{ns:.0} ns"),
        Some(TimeUnit::Us) => (ns / 1e3, "µs"),
        Some(TimeUnit::Ms) => (ns / 1e6, "ms"),
        Some(TimeUnit::S) => (ns / 1e9, "s"),
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else if value >= 0.001 || value == 0.0 {
        3
    } else {
        6
    };
    format!("{value:.decimals$} {name}")
}

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
        let variant = format!("{}:{}", r.runtime, r.variant);
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

/// A byte count in the unit that suits it.
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} GiB", b / 1024.0 / 1024.0 / 1024.0)
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// The skipped variants, one entry per runtime and distinct reason, in the order
/// they come: `(runtime:{a, b}, reason)`, so a reason shared by twelve variants is
/// said once.
pub fn skipped_groups<'a>(
    runtimes: impl IntoIterator<Item = &'a crate::results::RuntimeResult>,
) -> Vec<(String, String)> {
    let mut groups: Vec<(&str, Vec<&str>, &str)> = Vec::new();
    for r in runtimes {
        let Some(reason) = r.skipped_reason.as_deref() else {
            continue;
        };
        match groups
            .iter_mut()
            .find(|(rt, _, why)| *rt == r.runtime && *why == reason)
        {
            Some((_, variants, _)) => variants.push(&r.variant),
            None => groups.push((&r.runtime, vec![&r.variant], reason)),
        }
    }
    groups
        .into_iter()
        .map(|(runtime, variants, reason)| {
            let names = match variants.as_slice() {
                [one] => format!("{runtime}:{one}"),
                many => format!("{runtime}:{{{}}}", many.join(", ")),
            };
            (names, reason.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(format_ns(850.0), "850 ns");
        assert_eq!(format_ns(1_234.0), "1.23 µs");
        assert_eq!(format_ns(56_780.0), "56.8 µs");
        assert_eq!(format_ns(1_500_000.0), "1.50 ms");
        assert_eq!(format_ns(2_000_000_000.0), "2.00 s");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(49_357), "48.2 KiB");
        assert_eq!(format_bytes(24 << 30), "24.0 GiB");
    }

    #[test]
    fn a_time_unit_is_kept_for_every_row() {
        assert_eq!(format_time(1_234.0, Some(TimeUnit::Ms)), "0.001 ms");
        assert_eq!(format_time(2_500_000_000.0, Some(TimeUnit::Ms)), "2500 ms");
        assert_eq!(format_time(56_780.0, Some(TimeUnit::Us)), "56.8 µs");
        assert_eq!(format_time(1_234.0, Some(TimeUnit::Ns)), "1234 ns");
        assert_eq!(format_time(1_234.0, None), "1.23 µs");
        assert_eq!(format_time(12.0, Some(TimeUnit::S)), "0.000000 s");
    }

    #[test]
    fn a_reason_shared_by_many_variants_is_said_once() {
        let skipped = |rt: &str, v: &str, why: &str| {
            crate::results::RuntimeResult::skipped(rt, v, why.into())
        };
        let runtimes = [
            skipped("docker", "crun-none", "hybrid cgroups"),
            skipped("docker", "crun-bridge", "hybrid cgroups"),
            skipped("lambda", "x86_64-128mb", "no credentials"),
            skipped("lambda", "arm64-512mb", "no credentials"),
            skipped("lambda", "arm64-1024mb", "no function"),
        ];
        assert_eq!(
            skipped_groups(&runtimes),
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
