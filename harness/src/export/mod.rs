//! Exports of a result file: the JSON that is published, a markdown report and the
//! terminal summary. All of them read the statistics derived from the raw samples.

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
