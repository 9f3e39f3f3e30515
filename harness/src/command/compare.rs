//! `coldstart compare`: a baseline against a candidate (each a result file or a
//! directory of runs); exit code 1 on a flagged regression. The decision is
//! [`crate::analysis::compare`]'s.

use crate::cli::{CompareArgs, CompareFormat};
use crate::error::{UsageError, EXIT_OK, EXIT_SAMPLES_FAILED};
use crate::results::{self, ResultFile};
use crate::{analysis, report};
use std::path::Path;

pub fn compare(args: CompareArgs) -> anyhow::Result<i32> {
    if !(args.alpha > 0.0 && args.alpha <= 0.5) {
        return Err(UsageError(format!(
            "--alpha {} must be above 0 and at most 0.5 (e.g. 0.05)",
            args.alpha
        ))
        .into());
    }

    let baseline = load_side(&args.baseline)?;
    let candidate = load_side(&args.candidate)?;
    let history = match &args.noise_from {
        Some(dir) => Some(results::load::load_runs(dir)?.runs),
        None => None,
    };
    let settings = analysis::compare::Settings {
        threshold: args.threshold,
        alpha: args.alpha,
        phases: args.phases,
        history,
        gate_single_run: args.gate_single_run,
    };
    let differences = analysis::compare::differences(&baseline, &candidate);
    if !differences.refuse.is_empty() && !args.force {
        return Err(UsageError(format!(
            "{} and {} measured different workloads: {}; pass --force to compare them anyway",
            args.baseline.display(),
            args.candidate.display(),
            differences.refuse.join("; ")
        ))
        .into());
    }
    let mut result = analysis::compare::compare(&baseline, &candidate, &settings);
    for warning in differences.warn.into_iter().chain(differences.refuse) {
        eprintln!("warning: {warning}");
        result.notes.push(warning);
    }
    let format = match args.format {
        CompareFormat::Text => report::compare::Format::Text,
        CompareFormat::Markdown => report::compare::Format::Markdown,
        CompareFormat::Json => report::compare::Format::Json,
    };
    let text = report::compare::render(
        &result,
        &args.baseline.display().to_string(),
        &args.candidate.display().to_string(),
        format,
    );
    print!("{text}");
    Ok(if result.regressions() > 0 {
        EXIT_SAMPLES_FAILED
    } else {
        EXIT_OK
    })
}

/// One side of a comparison: a result file, or a directory of them (one run each).
fn load_side(path: &Path) -> Result<Vec<ResultFile>, UsageError> {
    if path.is_dir() {
        let results::load::Runs { runs, notes } = results::load::load_runs(path)?;
        for note in notes {
            eprintln!("{note}");
        }
        Ok(runs)
    } else {
        Ok(vec![results::load::load(path)?])
    }
}
