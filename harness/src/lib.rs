//! coldstart: measures the real startup overhead of compute models side by side on
//! one probe workload.
//!
//! `main.rs` only parses the command line and calls [`run`]; integration tests drive
//! [`run`] in-process or the binary. The pieces, one concept per module:
//! [`runner`] (how each compute model is started), [`measure`] (the one loop that
//! samples them), [`verify`] (what makes a sample valid), [`stats`] (histograms and
//! summaries derived from raw samples), [`results`] (the published file) and
//! [`export`] (JSON, markdown, terminal table).

pub mod cli;
pub mod compare;
pub mod export;
pub mod host;
pub mod measure;
pub mod merge;
pub mod phase;
pub mod probes;
pub mod report;
pub mod results;
pub mod runner;
pub mod stats;
pub mod suite;
pub mod verify;

use anyhow::Context as _;
use cli::{Cli, Command, RunArgs, RuntimesArgs};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use probe_core::InitParams;
use probes::ProbeArtifacts;
use results::{Parameters, ResultFile, RunStatus, RuntimeResult, Tool};
use runner::{RunContext, RunnerKey, RuntimeKind};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::SystemTime;

/// Bad input: a flag, a file, a runtime that cannot run. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit code: everything measured and valid.
pub const EXIT_OK: i32 = 0;
/// Exit code: some samples failed or were invalid (they are in the results).
pub const EXIT_SAMPLES_FAILED: i32 = 1;
/// Exit code: bad input; nothing was measured.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: interrupted; what was measured is in the results.
pub const EXIT_INTERRUPTED: i32 = 130;

/// The largest init memory accepted (the `pre` pool's memory limit is 1 GiB).
const MAX_INIT_KIB: u64 = 512 * 1024;

/// Runs one command; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(args) => run_suite(args).await,
        Command::Runtimes(args) => list_runtimes(args).await,
        Command::Report(args) => report(args),
        Command::Compare(args) => compare(args),
        Command::Merge(args) => merge(args),
        Command::History(args) => history(args),
        Command::Lambda(command) => runner::lambda::deploy::run(command).await,
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

/// Writes `text` to `path`, or to stdout.
fn emit(text: &str, path: Option<&Path>) -> anyhow::Result<()> {
    match path {
        Some(path) => export::json::write_atomic(path, text.as_bytes())
            .map_err(|e| UsageError(format!("{e:#}")).into()),
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
        cli::ReportFormat::Text => report::text(&results, &verdicts),
        cli::ReportFormat::Markdown => report::markdown(&results, &verdicts),
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
    let baseline = report::load::load(&args.baseline)?;
    let candidate = report::load::load(&args.candidate)?;
    let result = compare::compare(&baseline, &candidate, args.threshold, args.alpha);
    let text = compare::render(
        &result,
        &args.baseline.display().to_string(),
        &args.candidate.display().to_string(),
        args.format == cli::CompareFormat::Markdown,
    );
    print!("{text}");
    Ok(if result.regressions() > 0 {
        EXIT_SAMPLES_FAILED
    } else {
        EXIT_OK
    })
}

fn merge(args: cli::MergeArgs) -> anyhow::Result<i32> {
    let mut files = Vec::new();
    for path in &args.files {
        files.push((path.clone(), report::load::load(path)?));
    }
    let merged = merge::merge(&files)?;
    export::json::write(&args.output, &merged).map_err(|e| UsageError(format!("{e:#}")))?;
    eprintln!(
        "merged {} runs ({} samples) into {}",
        files.len(),
        merged.samples.len(),
        args.output.display()
    );
    Ok(EXIT_OK)
}

async fn list_runtimes(args: RuntimesArgs) -> anyhow::Result<i32> {
    let probes = ProbeArtifacts::locate(args.probes.probes_dir.as_deref());
    for kind in RuntimeKind::ALL {
        let a = runner::detect(kind, &probes, &args.lambda.settings()).await;
        let versions: Vec<String> = a.versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
        match &a.unavailable {
            Some(reason) => {
                println!("{:<8}  no   {reason}", kind.name());
                continue;
            }
            None => println!("{:<8}  yes  {}", kind.name(), versions.join(", ")),
        }
        for variant in a.variants {
            match a.unavailable_variants.iter().find(|(v, _)| v == variant) {
                None => println!("  {kind}:{variant}"),
                Some((_, reason)) => println!("  {kind}:{variant}  not available: {reason}"),
            }
        }
    }
    Ok(EXIT_OK)
}

fn validate(args: &suite::Resolved) -> Result<(), UsageError> {
    if args.cold == 0 && args.warm == 0 {
        return Err(UsageError(
            "--cold and --warm are both 0: nothing to measure; give at least one of them a count"
                .into(),
        ));
    }
    if args.timeout.is_zero() {
        return Err(UsageError(
            "--timeout must be longer than 0 (e.g. 10s)".into(),
        ));
    }
    if args.init_kib > MAX_INIT_KIB {
        return Err(UsageError(format!(
            "--init-kib {} is more than the {MAX_INIT_KIB} KiB a Wasm instance may grow to",
            args.init_kib
        )));
    }
    Ok(())
}

/// The runtimes and variants to measure: as named, or all of them.
fn selection(args: &suite::Resolved) -> Vec<(RuntimeKind, Vec<&'static str>)> {
    if args.runtime.is_empty() {
        return RuntimeKind::ALL
            .into_iter()
            .map(|k| (k, k.variants().to_vec()))
            .collect();
    }
    let mut picked: Vec<(RuntimeKind, Vec<&'static str>)> = Vec::new();
    for sel in &args.runtime {
        let variants: Vec<&'static str> = match sel.variant {
            Some(v) => vec![v],
            None => sel.runtime.named_variants().to_vec(),
        };
        match picked.iter_mut().find(|(k, _)| *k == sel.runtime) {
            Some((_, have)) => {
                for v in variants {
                    if !have.contains(&v) {
                        have.push(v);
                    }
                }
            }
            None => picked.push((sel.runtime, variants)),
        }
    }
    picked
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Where the exports go; writes them at every checkpoint.
struct Exports {
    json: Option<PathBuf>,
    markdown: Option<PathBuf>,
    failed: Option<anyhow::Error>,
}

impl Exports {
    fn json_to_stdout(&self) -> bool {
        self.json.as_deref() == Some(Path::new("-"))
    }

    fn write(&self, results: &ResultFile) -> anyhow::Result<()> {
        if let Some(path) = self.json.as_deref().filter(|p| *p != Path::new("-")) {
            export::json::write(path, results)?;
        }
        if let Some(path) = &self.markdown {
            export::json::write_atomic(path, export::markdown::render(results).as_bytes())?;
        }
        Ok(())
    }

    /// A checkpoint: a failure is reported once and remembered; measuring goes on.
    fn checkpoint(&mut self, results: &ResultFile) {
        if let Err(e) = self.write(results) {
            if self.failed.is_none() {
                eprintln!("Error: writing the results failed (measuring goes on): {e:#}");
                self.failed = Some(e);
            }
        }
    }
}

async fn run_suite(args: RunArgs) -> anyhow::Result<i32> {
    let args = suite::resolve(args)?;
    validate(&args)?;
    let probes = ProbeArtifacts::locate(args.probes_dir.as_deref()).map_err(UsageError)?;
    let params = InitParams {
        init_kib: args.init_kib,
        init_iters: args.init_iters,
    };
    let run_id = results::hex(rand::random());
    let ctx = RunContext {
        probes: probes.clone(),
        params,
        timeout: args.timeout,
        run_id: run_id.clone(),
        docker: runner::docker::Settings {
            memory_bytes: args.docker_memory_mib << 20,
            hardened: !args.docker_unhardened,
        },
        lambda: args.lambda.clone(),
    };
    let seed = args.seed.unwrap_or_else(|| rand::random::<u32>() as u64);
    let explicit = !args.runtime.is_empty();
    let expected = probe_core::expected_checksum(params, args.invoke_iters);

    let mut results = ResultFile {
        schema_version: results::SCHEMA_VERSION,
        tool: Tool::this(),
        run_id,
        seed,
        started_at: now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        wall_time_ns: 0,
        host: host::Host::detect(),
        parameters: Parameters {
            cold_samples: args.cold,
            warm_samples: args.warm,
            warmup: args.warmup,
            init_kib: args.init_kib,
            init_iters: args.init_iters,
            invoke_iters: args.invoke_iters,
            timeout_ns: phase::nanos(args.timeout),
            expected_checksum: results::hex(expected),
            suite: args.suite.as_ref().map(|p| p.display().to_string()),
            runtimes: if explicit {
                args.runtime
                    .iter()
                    .map(|s| match s.variant {
                        Some(v) => format!("{}:{v}", s.runtime),
                        None => s.runtime.to_string(),
                    })
                    .collect()
            } else {
                vec!["all available".into()]
            },
        },
        runtimes: Vec::new(),
        samples: Vec::new(),
        merged_from: None,
    };

    // Installed before any runner is built: Ctrl-C during a preflight container still
    // reaches the cleanup at the end (runners only measure while it is not set).
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while the first is being handled exits at once.
        signal_hook::flag::register_conditional_shutdown(
            signal,
            EXIT_INTERRUPTED,
            interrupted.clone(),
        )
        .context("cannot install the signal handler")?;
        signal_hook::flag::register(signal, interrupted.clone())
            .context("cannot install the signal handler")?;
    }

    let mut runners = Vec::new();
    let mut slots = Vec::new();
    for (kind, variants) in selection(&args) {
        let available = runner::detect(kind, &Ok(probes.clone()), &ctx.lambda).await;
        let built = match available.unavailable {
            Some(reason) => Err(reason),
            None => runner::build(kind, &variants, &ctx)
                .await
                .map_err(|e| format!("{e:#}")),
        };
        let built = match built {
            Ok(built) => built,
            Err(reason) if explicit => {
                return Err(UsageError(format!("runtime {kind} cannot run here: {reason}")).into())
            }
            Err(reason) => {
                eprintln!("skipping {kind}: {reason}");
                variants
                    .iter()
                    .map(|variant| runner::Built::Skipped {
                        variant,
                        reason: reason.clone(),
                    })
                    .collect()
            }
        };
        // `--runtime docker` or `--runtime lambda` with none of its variants able to run
        // is bad input, as a named variant that cannot run is.
        let named_bare = args
            .runtime
            .iter()
            .any(|s| s.runtime == kind && s.variant.is_none());
        if named_bare && !built.iter().any(|b| matches!(b, runner::Built::Ready(_))) {
            let mut reasons: Vec<&str> = Vec::new();
            for b in &built {
                if let runner::Built::Skipped { reason, .. } = b {
                    if !reasons.contains(&reason.as_str()) {
                        reasons.push(reason);
                    }
                }
            }
            return Err(UsageError(format!(
                "runtime {kind} cannot run here: {}",
                reasons.join("; ")
            ))
            .into());
        }
        for b in built {
            match b {
                runner::Built::Ready(r) => {
                    let info = r.info();
                    let RunnerKey { runtime, variant } = r.key().clone();
                    let mut phase_order: Vec<String> =
                        r.cold_phases().iter().map(|p| p.to_string()).collect();
                    phase_order.push(phase::TOTAL.into());
                    slots.push(results.runtimes.len());
                    results.runtimes.push(RuntimeResult {
                        available: true,
                        skipped_reason: None,
                        versions: info.versions,
                        artifact_bytes: info.artifact_bytes,
                        details: info.details,
                        phase_order,
                        ..RuntimeResult::skipped(&runtime, &variant, String::new())
                    });
                    runners.push(r);
                }
                runner::Built::Skipped { variant, reason } => {
                    let named = args
                        .runtime
                        .iter()
                        .any(|s| s.runtime == kind && s.variant == Some(variant));
                    if named {
                        return Err(UsageError(format!(
                            "{kind}:{variant} cannot run here: {reason}"
                        ))
                        .into());
                    }
                    eprintln!("skipping {kind}:{variant}: {reason}");
                    results
                        .runtimes
                        .push(RuntimeResult::skipped(kind.name(), variant, reason));
                }
            }
        }
    }
    if runners.is_empty() {
        return Err(
            UsageError("no runtime can run here; `coldstart runtimes` says why".into()).into(),
        );
    }

    let mut exports = Exports {
        json: args.export_json.clone(),
        markdown: args.export_markdown.clone(),
        failed: None,
    };
    // The first write proves the paths are writable before anything is measured.
    exports.write(&results).map_err(|e| {
        UsageError(format!(
            "{e:#}: pass a writable --export-json/--export-markdown path"
        ))
    })?;

    let plan = measure::Plan {
        cold: args.cold,
        warm: args.warm,
        warmup: args.warmup,
        invoke_iters: args.invoke_iters,
        seed,
    };
    let total = runners.len() as u64 * (args.cold + args.warm);
    let progress = if std::io::stdout().is_terminal() && !exports.json_to_stdout() {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} samples ({eta} left)",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };

    let complete = {
        let mut checkpoint = |r: &ResultFile| exports.checkpoint(r);
        measure::measure(
            &mut runners,
            &slots,
            &mut results,
            measure::Context {
                plan: &plan,
                verifier: verify::Verifier::new(expected),
                progress: &progress,
                interrupted: &interrupted,
                checkpoint: &mut checkpoint,
            },
        )
        .await
    };
    progress.finish_and_clear();
    for (runner, slot) in runners.iter_mut().zip(&slots) {
        let notes = runner.close().await;
        if !notes.is_empty() {
            for note in &notes {
                eprintln!("{}: {note}", runner.key());
            }
            results.runtimes[*slot]
                .details
                .insert("cleanup".into(), notes.into());
        }
    }
    drop(runners);
    results.status = if complete {
        RunStatus::Complete
    } else {
        RunStatus::Interrupted
    };
    results.finished_at = Some(now_rfc3339());
    exports.checkpoint(&results);

    let table = export::table::render(&results);
    if exports.json_to_stdout() {
        eprint!("{table}");
        print!("{}", export::json::to_string(&results));
    } else {
        print!("{table}");
    }
    eprintln!(
        "seed {seed} · {} samples in {:.1} s{}",
        results.samples.len(),
        results.wall_time_ns as f64 / 1e9,
        match args.export_json.as_deref() {
            Some(p) if p != Path::new("-") => format!(" · results in {}", p.display()),
            _ => String::new(),
        }
    );
    if let Some(e) = exports.failed {
        return Err(e.context("the results could not be written"));
    }
    let problems = results.problem_count();
    if !complete {
        eprintln!(
            "interrupted: the results hold the {} samples taken",
            results.samples.len()
        );
        return Ok(EXIT_INTERRUPTED);
    }
    if problems > 0 {
        eprintln!("{problems} samples failed or were invalid: see `error` in the samples");
        return Ok(EXIT_SAMPLES_FAILED);
    }
    Ok(EXIT_OK)
}
