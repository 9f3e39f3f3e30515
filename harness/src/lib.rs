//! coldstart: measures the real startup overhead of compute models side by side on
//! one probe workload.
//!
//! `main.rs` only parses the command line and calls [`run`]; integration tests drive
//! [`run`] in-process or the binary. The pieces, one concept per module:
//! [`runner`] (how each compute model is started), [`measure`] (the one loop that
//! samples them), [`verify`] (what makes a sample valid), [`stats`] (histograms and
//! summaries derived from raw samples), [`results`] (the published file, and in
//! [`results_values`] the values of one of its groups),
//! [`export`] (JSON, markdown, terminal table, the checkpoint writer), [`density`]
//! and [`burst`] (memory per live instance, cold starts under concurrency), [`run`]
//! (the `run` command that ties them together) and [`runtimes`] (what can run here).

pub mod burst;
pub mod cli;
pub mod compare;
pub mod density;
pub mod export;
pub mod host;
pub mod lambda_deploy;
pub mod measure;
pub mod merge;
pub mod phase;
pub mod probes;
pub mod report;
pub mod results;
pub mod results_values;
pub mod run;
pub mod runner;
pub mod runtimes;
pub mod stats;
pub mod suite;
pub mod verify;

use cli::{Cli, Command};
use std::path::Path;

/// Bad input: a flag, a file, a runtime that cannot run. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit code: success (everything measured and valid; no regression flagged).
pub const EXIT_OK: i32 = 0;
/// Exit code: what was measured says something is wrong: some samples failed or
/// were invalid, a teardown failed or left something behind, a variant was abandoned
/// (all of it is in the results), or `compare` flagged a regression.
pub const EXIT_SAMPLES_FAILED: i32 = 1;
/// Exit code: bad input (a flag, a file, a runtime named that cannot run); nothing
/// was measured.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: an internal or environment failure (the results could not be
/// written, a resource of the system failed); what was measured is kept where it
/// could be.
pub const EXIT_ENVIRONMENT: i32 = 3;
/// Exit code: interrupted (Ctrl-C, SIGTERM); what was measured is in the results.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Runs one command; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(args) => run::run_suite(*args).await,
        Command::Runtimes(args) => runtimes::list(args).await,
        Command::Report(args) => report(args),
        Command::Compare(args) => compare(args),
        Command::Merge(args) => merge(args),
        Command::History(args) => history(args),
        Command::Lambda(command) => lambda_deploy::run(command).await,
    }
}

fn history(args: cli::HistoryArgs) -> anyhow::Result<i32> {
    let (runs, notes) = report::history::load_runs(&args.dir)?;
    for note in notes {
        eprintln!("{note}");
    }
    let trends = report::history::trends(&runs);
    let text = match args.format {
        cli::HistoryFormat::Markdown => report::history::markdown(&runs, &trends),
        cli::HistoryFormat::Html => {
            report::history::html(&runs, &trends).map_err(anyhow::Error::msg)?
        }
    };
    emit(&text, args.output.as_deref())?;
    Ok(EXIT_OK)
}

/// Writes `text` to `path`, or to stdout (a failed write is exit code 3).
fn emit(text: &str, path: Option<&Path>) -> anyhow::Result<()> {
    match path {
        Some(path) => export::json::write_atomic(path, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn report(args: cli::ReportArgs) -> anyhow::Result<i32> {
    let results = report::load::load(&args.results)?;
    let claims_text = match &args.claims {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?,
        None => report::claims::BUILTIN.to_string(),
    };
    let claims = report::claims::parse(&claims_text).map_err(|e| {
        let file = args.claims.as_ref().map(|p| p.display().to_string());
        UsageError(format!(
            "{}: {e}",
            file.unwrap_or_else(|| "built-in claims".into())
        ))
    })?;
    let verdicts = report::claims::evaluate(&claims, &results);
    let text = match args.format {
        cli::ReportFormat::Text => report::text(&results, &verdicts, args.time_unit),
        cli::ReportFormat::Markdown => report::markdown(&results, &verdicts, args.time_unit),
        cli::ReportFormat::Html => {
            report::html::render(&results, &verdicts).map_err(anyhow::Error::msg)?
        }
    };
    emit(&text, args.output.as_deref())?;
    Ok(EXIT_OK)
}

fn compare(args: cli::CompareArgs) -> anyhow::Result<i32> {
    if !(0.0..1.0).contains(&args.alpha) || args.alpha == 0.0 {
        return Err(UsageError(format!(
            "--alpha {} must be between 0 and 1 (e.g. 0.05)",
            args.alpha
        ))
        .into());
    }
    let baseline = load_side(&args.baseline)?;
    let candidate = load_side(&args.candidate)?;
    let history = match &args.noise_from {
        Some(dir) => Some(report::history::load_runs(dir)?.0),
        None => None,
    };
    let settings = compare::Settings {
        threshold: args.threshold,
        alpha: args.alpha,
        phases: args.phases,
        history,
    };
    let differences = compare::differences(&baseline, &candidate);
    if !differences.refuse.is_empty() && !args.force {
        return Err(UsageError(format!(
            "{} and {} measured different workloads: {}; pass --force to compare them anyway",
            args.baseline.display(),
            args.candidate.display(),
            differences.refuse.join("; ")
        ))
        .into());
    }
    let mut result = compare::compare(&baseline, &candidate, &settings);
    for warning in differences.warn.into_iter().chain(differences.refuse) {
        eprintln!("warning: {warning}");
        result.notes.push(warning);
    }
    let format = match args.format {
        cli::CompareFormat::Text => report::compare::Format::Text,
        cli::CompareFormat::Markdown => report::compare::Format::Markdown,
        cli::CompareFormat::Json => report::compare::Format::Json,
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
fn load_side(path: &Path) -> Result<Vec<results::ResultFile>, UsageError> {
    if path.is_dir() {
        let (runs, notes) = report::history::load_runs(path)?;
        for note in notes {
            eprintln!("{note}");
        }
        Ok(runs)
    } else {
        Ok(vec![report::load::load(path)?])
    }
}

fn merge(args: cli::MergeArgs) -> anyhow::Result<i32> {
    let mut files = Vec::new();
    for path in &args.files {
        files.push((path.clone(), report::load::load(path)?));
    }
    let merged = merge::merge(&files, args.allow_mixed_hosts)?;
    export::json::write(&args.output, &merged)?;
    eprintln!(
        "merged {} runs ({} samples) into {}",
        files.len(),
        merged.samples.len(),
        args.output.display()
    );
    Ok(EXIT_OK)
}
