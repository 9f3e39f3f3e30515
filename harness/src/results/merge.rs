//! Merging result files: a history of scheduled runs becomes one distribution.
//!
//! Runtime variants are matched by (runtime, variant); each mode's phase histograms
//! are added (HdrHistogram add, so nothing is re-estimated) and the summaries are read
//! off the sums; counts of valid, invalid and failed samples are added; raw samples
//! are concatenated. Files of another schema version are refused when loaded; runs
//! of different probe parameters are refused here, since they measured different
//! workloads, and runs of different hosts unless `--allow-mixed-hosts`. Each run's
//! host, versions and details are kept in `merged_from`; a merged row keeps only
//! the versions and details every run agrees on, and says where they differ.

use crate::error::UsageError;
use crate::results::{
    hex, Density, MergedRun, ModeResult, ResultFile, RunStatus, RuntimeResult, Setup,
};
use crate::stats;
use std::path::PathBuf;

/// The sum of two serialized histograms. A decoded histogram keeps the range it was
/// written with and does not grow, so both are added into a new auto-resizing one:
/// two runs with different maxima add up (adding into the first alone fails with
/// `OtherAddendValueExceedsRange` as soon as the second run's maximum is larger).
fn add_histograms(a: &str, b: &str) -> Result<hdrhistogram::Histogram<u64>, String> {
    let mut sum = stats::histogram();
    for text in [a, b] {
        sum.add(stats::decode(text)?)
            .map_err(|e| format!("{e:?}"))?;
    }
    Ok(sum)
}

fn add_summaries(
    into: &mut std::collections::BTreeMap<String, stats::Summary>,
    from: &std::collections::BTreeMap<String, stats::Summary>,
) -> Result<(), String> {
    for (phase, summary) in from {
        let merged = match into.get(phase) {
            None => summary.clone(),
            Some(existing) => {
                let hist = add_histograms(&existing.histogram, &summary.histogram)
                    .map_err(|e| format!("adding {phase} histograms: {e}"))?;
                stats::summarize(&hist)
                    .ok_or_else(|| format!("the {phase} histograms hold no sample"))?
            }
        };
        into.insert(phase.clone(), merged);
    }
    Ok(())
}

fn add_mode(into: &mut ModeResult, from: &ModeResult) -> Result<(), String> {
    into.ok += from.ok;
    into.invalid += from.invalid;
    into.failed += from.failed;
    into.skipped += from.skipped;
    into.unrecorded_invalid += from.unrecorded_invalid;
    into.unrecorded_failed += from.unrecorded_failed;
    add_summaries(&mut into.phases, &from.phases)?;
    add_summaries(&mut into.reported, &from.reported)
}

fn add_runtime(into: &mut RuntimeResult, from: &RuntimeResult) -> Result<(), String> {
    if !from.available {
        return Ok(());
    }
    if !into.available {
        *into = from.clone();
        return Ok(());
    }
    add_mode(&mut into.modes.cold, &from.modes.cold)?;
    add_mode(&mut into.modes.warm, &from.modes.warm)?;
    into.teardown_errors
        .extend(from.teardown_errors.iter().cloned());
    if into.abandoned.is_none() {
        into.abandoned = from.abandoned.clone();
    }
    into.teardown = match (into.teardown.take(), &from.teardown) {
        (Some(a), Some(b)) => {
            let hist = add_histograms(&a.histogram, &b.histogram)
                .map_err(|e| format!("adding teardown histograms: {e}"))?;
            stats::summarize(&hist)
        }
        (a, b) => a.or_else(|| b.clone()),
    };
    for phase in &from.phase_order {
        if !into.phase_order.contains(phase) {
            into.phase_order
                .insert(into.phase_order.len().saturating_sub(1), phase.clone());
        }
    }
    // Only what every run agrees on describes the merged row; each run's own setup
    // is in `merged_from`.
    for (k, v) in &from.versions {
        if into.versions.get(k).is_some_and(|have| have != v) {
            into.versions.insert(k.clone(), DIFFERS.into());
        }
    }
    for (k, v) in &from.details {
        if into.details.get(k).is_some_and(|have| have != v) {
            into.details.insert(k.clone(), DIFFERS.into());
        }
    }
    if into.artifact_bytes != from.artifact_bytes {
        into.artifact_bytes = None;
    }
    add_density_and_bursts(into, from)
}

/// Density rounds of the same N are pooled and summarized anew; bursts of the same
/// level add their counts and histograms.
fn add_density_and_bursts(into: &mut RuntimeResult, from: &RuntimeResult) -> Result<(), String> {
    match (&mut into.density, &from.density) {
        (None, Some(d)) => into.density = Some(d.clone()),
        (Some(a), Some(b)) if a.instances == b.instances => {
            let mut raw = a.raw.clone();
            raw.extend(b.raw.iter().cloned());
            for (i, r) in raw.iter_mut().enumerate() {
                r.round = i as u64;
            }
            *a = Density::summarize(a.instances, raw);
        }
        (Some(a), Some(b)) => a.method.push(format!(
            "merge: a run that held {} instances (not {}) was left out of these figures",
            b.instances, a.instances
        )),
        _ => {}
    }
    for b in &from.bursts {
        match into
            .bursts
            .iter_mut()
            .find(|a| a.concurrency == b.concurrency)
        {
            None => into.bursts.push(b.clone()),
            Some(a) => {
                a.rounds += b.rounds;
                a.ok += b.ok;
                a.invalid += b.invalid;
                a.failed += b.failed;
                add_summaries(&mut a.phases, &b.phases)?;
                a.makespan_ns = match (a.makespan_ns.take(), &b.makespan_ns) {
                    (Some(x), Some(y)) => {
                        let hist = add_histograms(&x.histogram, &y.histogram)
                            .map_err(|e| format!("adding makespan histograms: {e}"))?;
                        stats::summarize(&hist)
                    }
                    (x, y) => x.or_else(|| y.clone()),
                };
                // A median of rounds cannot be made from two medians: none is
                // claimed; each run's stays in its own file.
                if a.starts_per_second.take().is_some() || b.starts_per_second.is_some() {
                    let note = "merge: starts_per_second is not derivable from merged runs' medians; see each run";
                    if !a.notes.iter().any(|n| n == note) {
                        a.notes.push(note.into());
                    }
                }
                a.notes.extend(b.notes.iter().cloned());
            }
        }
    }
    into.bursts.sort_by_key(|b| b.concurrency);
    if into.burst_skipped_reason.is_none() {
        into.burst_skipped_reason = from.burst_skipped_reason.clone();
    }
    Ok(())
}

/// A merged row's version or detail where its runs disagree.
const DIFFERS: &str = "differs between the merged runs: see merged_from[].setups";

/// Merges loaded files, in the order given.
pub fn merge(
    files: &[(PathBuf, ResultFile)],
    allow_mixed_hosts: bool,
) -> Result<ResultFile, UsageError> {
    let (first_path, first) = files
        .first()
        .ok_or_else(|| UsageError("merge needs at least one result file".into()))?;
    let mut merged = first.clone();
    // Written by this coldstart: in its format, whatever version the inputs had.
    merged.schema_version = crate::results::SCHEMA_VERSION;
    merged.merged_from = Some(Vec::new());
    // Every input's languages, first seen first.
    merged.parameters.languages = Vec::new();
    for (_, file) in files {
        for language in &file.parameters.languages {
            if !merged.parameters.languages.contains(language) {
                merged.parameters.languages.push(language.clone());
            }
        }
    }
    merged.runtimes.clear();
    merged.samples.clear();
    merged.burst_samples.clear();
    merged.wall_time_ns = 0;
    merged.settles = None;
    merged.parameters.cold_samples = 0;
    merged.parameters.warm_samples = 0;
    for (path, file) in files {
        let (a, b) = (&first.parameters, &file.parameters);
        if (a.init_kib, a.init_iters, a.invoke_iters) != (b.init_kib, b.init_iters, b.invoke_iters)
        {
            return Err(UsageError(format!(
                "{} and {} were run with different probe parameters (init {} KiB + {} rounds, {} per invocation vs init {} KiB + {} rounds, {} per invocation): merging them would mix different workloads",
                first_path.display(), path.display(),
                a.init_kib, a.init_iters, a.invoke_iters, b.init_kib, b.init_iters, b.invoke_iters
            )));
        }
        if !allow_mixed_hosts && file.host.identity() != first.host.identity() {
            return Err(UsageError(format!(
                "{} and {} ran on different hosts ({} vs {}): their figures are not one distribution; pass --allow-mixed-hosts to merge them anyway",
                first_path.display(),
                path.display(),
                first.host.identity(),
                file.host.identity()
            )));
        }
        for r in &file.runtimes {
            let slot = merged.runtimes.iter().position(|m| m.is(&r.key()));
            match slot {
                None => merged.runtimes.push(r.clone()),
                Some(i) => add_runtime(&mut merged.runtimes[i], r)
                    .map_err(|e| UsageError(format!("{}: {e}", path.display())))?,
            }
        }
        merged.samples.extend(file.samples.iter().cloned());
        merged
            .burst_samples
            .extend(file.burst_samples.iter().cloned());
        merged.wall_time_ns += file.wall_time_ns;
        if let Some(settles) = file.settles {
            merged.settles = Some(settles.plus(merged.settles.take().unwrap_or_default()));
        }
        merged.parameters.cold_samples += b.cold_samples;
        merged.parameters.warm_samples += b.warm_samples;
        merged.started_at = merged.started_at.clone().min(file.started_at.clone());
        merged.finished_at = merged.finished_at.clone().max(file.finished_at.clone());
        if file.status != RunStatus::Complete {
            merged.status = file.status;
        }
        merged
            .merged_from
            .as_mut()
            .expect("set above")
            .push(MergedRun {
                run_id: file.run_id.clone(),
                started_at: file.started_at.clone(),
                source: path.display().to_string(),
                host: Some(file.host.clone()),
                setups: file
                    .runtimes
                    .iter()
                    .filter(|r| r.available)
                    .map(|r| {
                        (
                            r.label(),
                            Setup {
                                versions: r.versions.clone(),
                                details: r.details.clone(),
                                artifact_bytes: r.artifact_bytes,
                            },
                        )
                    })
                    .collect(),
            });
    }
    merged.run_id = hex(rand::random());
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::Language;
    use crate::results::{load, Mode, RunnerKey};

    fn fixture(name: &str) -> ResultFile {
        let path = format!("{}/../fixtures/compare/{name}", env!("CARGO_MANIFEST_DIR"));
        load::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn rows_of_another_language_are_rows_of_their_own() {
        // Two real runs of one machine, the second relabelled as the Python probe's:
        // merged, its rows stay apart from the Rust rows of the same runtime:variant
        // (rows matched by runtime and variant alone would pool them).
        let rust = fixture("aa-a/run-01.json");
        let mut python = fixture("aa-b/run-02.json");
        for r in &mut python.runtimes {
            r.language = Language::Python;
        }
        for s in &mut python.samples {
            s.language = Language::Python;
        }
        python.parameters.languages = vec!["python".into()];
        let merged = merge(
            &[
                (PathBuf::from("rust.json"), rust.clone()),
                (PathBuf::from("python.json"), python.clone()),
            ],
            false,
        )
        .unwrap();
        assert_eq!(merged.parameters.languages, ["rust", "python"]);
        assert_eq!(
            merged.runtimes.len(),
            rust.runtimes.len() + python.runtimes.len()
        );
        let key = RunnerKey::new("process", "native");
        let of = |file: &ResultFile, key: &RunnerKey| {
            let r = file.runtimes.iter().find(|r| r.is(key)).unwrap();
            r.modes.get(Mode::Cold).ok
        };
        assert_eq!(of(&merged, &key), of(&rust, &key));
        let in_python = key.clone().in_language(Language::Python);
        assert_eq!(of(&merged, &in_python), of(&python, &in_python));
        let runs = merged.group_runs(&in_python, Mode::Cold, "total");
        assert_eq!(runs.len(), 1, "only the Python run's samples");
    }
}
