//! Our side's figures, read from coldstart's result files with the crate's own types
//! (`coldstart::results::load` checks the file and every histogram against its
//! summary; `coldstart::results` holds the types). A p50 here is the summary's
//! `p50_ns`, read off the variant's HdrHistogram of its verified samples.

use anyhow::{Context, Result};
use coldstart::results::{Mode, ResultFile, RuntimeResult};
use std::path::Path;

/// Reads and checks one result file.
pub fn load(path: &Path) -> Result<ResultFile> {
    coldstart::results::load::load(path)
        .with_context(|| format!("cannot use the result file {}", path.display()))
}

/// A row's label: `runtime:variant`, and `:language` unless it is Rust.
pub fn key(r: &RuntimeResult) -> String {
    r.label()
}

/// The Rust probe's row of `runtime:variant` (`variant` `None`: the first row of
/// `runtime`); a run with `--language` has other languages' rows of the same name.
pub fn variant<'a>(
    file: &'a ResultFile,
    runtime: &str,
    variant: Option<&str>,
) -> Result<&'a RuntimeResult> {
    file.runtimes
        .iter()
        .filter(|r| r.language.is_rust())
        .find(|r| r.runtime == runtime && variant.is_none_or(|v| r.variant == v))
        .with_context(|| {
            format!(
                "run {} holds no {runtime}{}",
                file.run_id,
                variant.map(|v| format!(":{v}")).unwrap_or_default()
            )
        })
}

/// A measured row: an error with its skip reason when it was not measured.
pub fn measured<'a>(
    file: &'a ResultFile,
    runtime: &str,
    variant_name: Option<&str>,
) -> Result<&'a RuntimeResult> {
    let r = variant(file, runtime, variant_name)?;
    if !r.available {
        anyhow::bail!(
            "{} was skipped: {}",
            key(r),
            r.skipped_reason.as_deref().unwrap_or("no reason given")
        );
    }
    Ok(r)
}

/// The summary of one phase of one mode.
pub fn summary<'a>(
    r: &'a RuntimeResult,
    mode: Mode,
    phase: &str,
) -> Result<&'a coldstart::stats::Summary> {
    let m = r.modes.get(mode);
    m.phases.get(phase).with_context(|| {
        format!(
            "{} has no valid {} sample with a {phase} ({} ok, {} invalid, {} failed)",
            key(r),
            mode.name(),
            m.ok,
            m.invalid,
            m.failed
        )
    })
}

/// The p50 of one phase of one mode, ns.
pub fn p50(r: &RuntimeResult, mode: Mode, phase: &str) -> Result<f64> {
    summary(r, mode, phase).map(|s| s.p50_ns as f64)
}

/// The p50 of the cold samples' teardowns, ns.
pub fn teardown_p50(r: &RuntimeResult) -> Result<f64> {
    r.teardown
        .as_ref()
        .map(|s| s.p50_ns as f64)
        .with_context(|| format!("{} has no teardown timed", key(r)))
}

/// A string in a row's `details`.
pub fn detail<'a>(r: &'a RuntimeResult, name: &str) -> Result<&'a str> {
    r.details
        .get(name)
        .and_then(|v| v.as_str())
        .with_context(|| format!("{} has no `{name}` in its details", key(r)))
}
