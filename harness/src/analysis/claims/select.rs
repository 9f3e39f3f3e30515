//! Which rows of a result file a claim reads, and what it reads off each: a phase's
//! samples, an artifact size, memory per instance. What a row is comes from the
//! result file, not the claims file: a local stand-in for a cloud platform
//! (`details.location` says `local`) is never selected, whatever a claim's
//! `exclude` says; emulated (TCG) and sandboxed rows are marked for the judge.

use super::file::{MemoryTarget, MemoryView, SizeTarget, Target};
use crate::probes::Language;
use crate::results::{ResultFile, RuntimeResult};
use crate::stats::block_bootstrap::RunBlocks;

/// The rows a claim reads, or why it has none to judge.
pub(super) type Entries<'a> = Result<Vec<&'a RuntimeResult>, String>;

/// Whether an entry ran under CPU emulation (QEMU's TCG), not hardware virtualization.
pub(super) fn emulated(r: &RuntimeResult) -> bool {
    r.details.get("accel").and_then(|v| v.as_str()) == Some("tcg")
}

/// A sandboxed container (gVisor): judged by the container claims, but another tier.
pub(super) fn sandboxed(r: &RuntimeResult) -> Option<String> {
    r.details.get("sandbox").and_then(|v| v.as_str()).map(|s| {
        format!(
            "sandboxed ({s}: system calls served in user space), a different isolation tier \
                 than a plain container"
        )
    })
}

/// Why a variant's figures are never judged against any claim: it ran locally in
/// place of a cloud platform (`details.location` says `local`, as the Lambda
/// emulator's does). Read from the result file, whatever a claims file says.
pub(super) fn local_stand_in(r: &RuntimeResult) -> Option<String> {
    let location = r.details.get("location")?.as_str()?;
    location
        .starts_with("local")
        .then(|| format!("{} ran locally ({location})", name(r)))
}

/// The entries a target names, or why there are none to judge.
pub(super) fn entries<'a>(results: &'a ResultFile, t: &Target) -> Entries<'a> {
    matching(
        results,
        &t.runtime,
        t.variant.as_deref(),
        t.language,
        &t.exclude,
    )
}

pub(super) fn sized<'a>(results: &'a ResultFile, t: &SizeTarget) -> Entries<'a> {
    matching(
        results,
        &t.runtime,
        t.variant.as_deref(),
        t.language,
        &t.exclude,
    )
}

/// The entries a memory target names, or why there are none to judge. A run that
/// measured density for some variants only (a suite's `[density] runtimes`) is read
/// on those: the others were left out by design, not unmeasured.
pub(super) fn memory_entries<'a>(results: &'a ResultFile, t: &MemoryTarget) -> Entries<'a> {
    let found = matching(
        results,
        &t.runtime,
        t.variant.as_deref(),
        t.language,
        &t.exclude,
    )?;
    let Some(named) = &results.parameters.density_runtimes else {
        return Ok(found);
    };
    let with_density: Vec<&RuntimeResult> = found
        .iter()
        .copied()
        .filter(|r| r.density.is_some())
        .collect();
    if with_density.is_empty() {
        return Err(format!(
            "density was measured for {} only, not for {}",
            named.join(", "),
            found.iter().map(|r| name(r)).collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(with_density)
}

/// The measured entries of `runtime` (one `variant`, or all) in `language` that
/// are not in `exclude` and not local stand-ins, or why there are none.
fn matching<'a>(
    results: &'a ResultFile,
    runtime: &str,
    variant: Option<&str>,
    language: Language,
    exclude: &[String],
) -> Entries<'a> {
    let all: Vec<&RuntimeResult> = results
        .runtimes
        .iter()
        .filter(|r| r.runtime == runtime && variant.is_none_or(|v| r.variant == v))
        .filter(|r| r.language == language)
        .collect();
    let named: Vec<&RuntimeResult> = all
        .iter()
        .copied()
        .filter(|r| !exclude.contains(&r.variant))
        .collect();
    let mut which = match variant {
        Some(v) => format!("{runtime}:{v}"),
        None => runtime.to_string(),
    };
    if !language.is_rust() {
        which = format!("{which} ({language})");
    }
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

/// An entry's name in a verdict: `runtime:variant`.
pub(super) fn name(r: &RuntimeResult) -> String {
    r.label()
}

/// What a time is judged from on one entry: its p50 and p99, how many valid
/// samples, and the values themselves (for the interval).
pub(super) struct Side {
    pub(super) p50_ns: u64,
    pub(super) p99_ns: u64,
    pub(super) n: u64,
    /// The valid values of each run the file holds, in the harness's blocks.
    pub(super) runs: Vec<RunBlocks>,
}

/// A target's side on one entry, or why there is none.
pub(super) fn side(results: &ResultFile, r: &RuntimeResult, t: &Target) -> Result<Side, String> {
    let summary = r.modes.get(t.mode).phases.get(&t.phase).ok_or_else(|| {
        format!(
            "{} has no valid {} {} sample",
            name(r),
            t.mode.name(),
            t.phase
        )
    })?;
    Ok(Side {
        p50_ns: summary.p50_ns,
        p99_ns: summary.p99_ns,
        n: summary.count,
        runs: results.group_runs(&r.key(), t.mode, &t.phase),
    })
}

/// An entry's artifact size in bytes, or why it has none.
pub(super) fn size(r: &RuntimeResult) -> Result<u64, String> {
    r.artifact_bytes
        .ok_or_else(|| format!("{} did not report its artifact size", name(r)))
}

/// The rounds a memory claim is judged on, read from one entry's density.
pub(super) struct MemoryRounds {
    /// Per-instance figures of the rounds that count: every instance asked for
    /// came up, nothing stopped the round, and (host view) the drop stood out of
    /// its readings' noise (`settled`).
    pub(super) values: Vec<f64>,
    /// Instances asked for in each round.
    pub(super) instances: u64,
}

/// Memory per instance of one entry in a view, round by round, or why none.
pub(super) fn memory(r: &RuntimeResult, view: MemoryView) -> Result<MemoryRounds, String> {
    let d = r
        .density
        .as_ref()
        .ok_or_else(|| format!("{} has no density figures: run with --density N", name(r)))?;
    let values: Vec<f64> = d
        .raw
        .iter()
        .filter(|round| round.reached == d.instances && round.stopped.is_none())
        .filter(|round| view == MemoryView::Pss || round.host_view_settled())
        .filter_map(|round| match view {
            MemoryView::Host => round.host_bytes_per_instance(),
            MemoryView::Pss => round.pss_bytes_per_instance(),
        })
        .collect();
    if d.raw.is_empty() {
        return Err(format!("{} recorded no density rounds", name(r)));
    }
    if values.is_empty() {
        return Err(format!(
            "{} has no {} round to judge: none of its {} rounds reached all {} instances{}",
            name(r),
            view.words(),
            d.raw.len(),
            d.instances,
            if view == MemoryView::Host {
                " with a drop out of its readings' noise (settled)"
            } else {
                ""
            }
        ));
    }
    Ok(MemoryRounds {
        values,
        instances: d.instances,
    })
}

/// One row of a figure read from two entries, named `numerator / denominator`.
pub(super) struct Pair<T> {
    pub(super) on: String,
    pub(super) figure: Result<T, String>,
}

/// Every (numerator, denominator) pair of entries with its figure, named `n / d`;
/// one unnamed row with the reason when either side has no measured entry.
pub(super) fn pairs<'a, T>(
    nums: Entries<'a>,
    dens: impl FnOnce() -> Entries<'a>,
    figure: impl Fn(&RuntimeResult, &RuntimeResult) -> Result<T, String>,
) -> Vec<Pair<T>> {
    match nums.and_then(|n| dens().map(|d| (n, d))) {
        Err(why) => vec![Pair {
            on: String::new(),
            figure: Err(why),
        }],
        Ok((nums, dens)) => nums
            .iter()
            .flat_map(|n| dens.iter().map(move |d| (*n, *d)))
            .map(|(n, d)| Pair {
                on: format!("{} / {}", name(n), name(d)),
                figure: figure(n, d),
            })
            .collect(),
    }
}
