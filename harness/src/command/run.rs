//! `coldstart run`, as a story: the options are resolved and checked, the result
//! file's header is made, the selected runners are built, the one loop measures
//! them ([`crate::measure`]) while the writer thread checkpoints the exports
//! ([`crate::export::writer`]), density and bursts follow, every runner is closed,
//! and the [`RunOutcome`] becomes the exit code.

use crate::cli::RunArgs;
use crate::error::{UsageError, EXIT_INTERRUPTED, EXIT_OK, EXIT_SAMPLES_FAILED};
use crate::export;
use crate::export::writer::{Exports, Writer};
use crate::host::Host;
use crate::measure::{self, burst, density, progress, verify::Verifier};
use crate::options::{self, RunOptions};
use crate::probes::{Language, LanguageProbe, ProbeArtifacts};
use crate::results::{self, Counts, ResultFile};
use crate::runner::{self, Built, RunContext, Runner, RunnerKey, RuntimeKind};
use anyhow::Context as _;
use probe_core::InitParams;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// How a run ended, and so its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Interrupted (Ctrl-C, SIGTERM): the results hold what was taken.
    Interrupted,
    /// Everything planned was attempted; the counts of what went wrong.
    Finished {
        problems: u64,
        teardowns: u64,
        skipped: u64,
    },
}

impl RunOutcome {
    /// What the finished `results` say.
    pub fn of(results: &ResultFile, complete: bool) -> RunOutcome {
        if !complete {
            return RunOutcome::Interrupted;
        }
        RunOutcome::Finished {
            problems: results.problem_count(),
            teardowns: results.teardown_error_count(),
            skipped: results.skipped_count(),
        }
    }

    pub fn exit_code(self) -> i32 {
        match self {
            RunOutcome::Interrupted => EXIT_INTERRUPTED,
            RunOutcome::Finished {
                problems,
                teardowns,
                skipped,
            } if problems + teardowns + skipped > 0 => EXIT_SAMPLES_FAILED,
            RunOutcome::Finished { .. } => EXIT_OK,
        }
    }
}

/// `coldstart run`: measures, writes the exports, prints the summary.
pub async fn run(args: RunArgs) -> anyhow::Result<i32> {
    let opts = options::resolve(args)?;
    // Read once: it is validated against, and recorded with the results.
    let host = Host::detect();
    options::validate(&opts, &host)?;
    let probes = ProbeArtifacts::locate(opts.probes_dir.as_deref()).map_err(UsageError)?;
    let run_id = results::hex(rand::random());
    let seed = opts.seed.unwrap_or_else(|| rand::random::<u32>() as u64);
    let ctx = run_context(&opts, probes, run_id.clone());
    let mut results = ResultFile::new(run_id, seed, host, opts.parameters());
    if let Some(warning) = results.host.busy_warning() {
        eprintln!("{warning}");
    }
    // Installed before any runner is built: Ctrl-C during a preflight container still
    // reaches the cleanup at the end (runners only measure while it is not set).
    let interrupted = install_signal_handlers()?;

    let languages = language_probes(&opts, &ctx.probes)?;
    let mut ready = Ready::default();
    for selection in opts.selection() {
        for LanguageAvailability {
            language,
            unavailable,
        } in &languages
        {
            let ctx = RunContext {
                language: *language,
                ..ctx.clone()
            };
            let built = match unavailable {
                None => runner::select::build_selection(&selection, &ctx).await?,
                Some(reason) => (selection.variants.iter())
                    .map(|variant| Built::Skipped {
                        variant,
                        reason: reason.clone(),
                    })
                    .collect(),
            };
            ready.add_rows(selection.kind, *language, built, &mut results);
        }
    }
    let Ready { mut runners, slots } = ready;
    if runners.is_empty() {
        return Err(
            UsageError("no runtime can run here; `coldstart runtimes` says why".into()).into(),
        );
    }
    if opts.density.is_some() {
        // A variant the suite's `[density]` names that this run does not measure
        // (not selected, or skipped here) gets no density: said, not silent.
        for named in &opts.density_runtimes {
            if !runners.iter().any(|r| named.selects(r.key())) {
                eprintln!(
                    "density: [density] runtimes names {named}, which this run does not \
                     measure: no density figures for it"
                );
            }
        }
    }
    let exports = Exports {
        json: opts.export_json.clone(),
        markdown: opts.export_markdown.clone(),
        csv: opts.export_csv.clone(),
        time_unit: opts.time_unit,
        failed: None,
    };
    // The first write proves the paths are writable before anything is measured.
    exports.write(&results).map_err(|e| {
        UsageError(format!(
            "{e:#}: pass a writable --export-json/--export-markdown/--export-csv path"
        ))
    })?;

    let plan = sampling_plan(&opts, seed, &runners, &mut results);
    let json_to_stdout = exports.json_to_stdout();
    let bar = progress::bar(
        planned_samples(&plan, &runners),
        std::io::stdout().is_terminal() && !json_to_stdout,
    );
    let mut writer = Writer::start(exports, &results).context("cannot start the writer thread")?;
    // One per run: an instance id seen by the loop is caught in density and bursts too.
    let mut verifier = Verifier::new(ctx.params);
    let complete = measure::measure(
        &mut runners,
        &slots,
        &mut results,
        measure::Context {
            plan: &plan,
            verifier: &mut verifier,
            progress: &bar,
            interrupted: &interrupted,
            sink: &mut writer,
        },
    )
    .await;
    let mut exports = writer.finish();
    bar.finish_and_clear();
    let complete = complete
        && measure::density_and_bursts(
            &runners,
            &slots,
            &mut results,
            &after_samples(&opts),
            &mut verifier,
            &interrupted,
            &mut |results| exports.checkpoint(results),
        )
        .await;
    close(&mut runners, &slots, &mut results).await;
    results.finish(complete);
    exports.checkpoint(&results);

    print_summary(&results, json_to_stdout, opts.export_json.as_deref(), &opts);
    if let Some(e) = exports.failed {
        return Err(e.context("the results could not be written"));
    }
    let outcome = RunOutcome::of(&results, complete);
    say_outcome(outcome, &results);
    Ok(outcome.exit_code())
}

/// Each language of the run, and whether its probe and toolchain are here (why
/// not): untimed, before anything is built. One that `--language` named and cannot
/// run here is bad input.
fn language_probes(
    opts: &RunOptions,
    probes: &ProbeArtifacts,
) -> Result<Vec<LanguageAvailability>, UsageError> {
    let mut out = Vec::new();
    for language in &opts.languages {
        let unavailable = LanguageProbe::locate(*language, &probes.dir).err();
        if let (Some(reason), true) = (&unavailable, opts.languages_named) {
            return Err(UsageError(format!("--language {language}: {reason}")));
        }
        out.push(LanguageAvailability {
            language: *language,
            unavailable,
        });
    }
    Ok(out)
}

/// A language of the run, and why its probe cannot run here, if it cannot.
struct LanguageAvailability {
    language: Language,
    unavailable: Option<String>,
}

/// What every runner is built with.
fn run_context(opts: &RunOptions, probes: ProbeArtifacts, run_id: String) -> RunContext {
    RunContext {
        probes,
        params: InitParams {
            init_kib: opts.init_kib,
            init_iters: opts.init_iters,
        },
        timeout: opts.timeout,
        timeout_given: opts.timeout_given,
        run_id,
        engine: runner::container::Settings {
            memory_bytes: opts.docker_memory_mib << 20,
            hardened: !opts.docker_unhardened,
            podman_host: opts.podman_host.clone(),
        },
        lambda: opts.lambda.clone(),
        vm: opts.vm.clone(),
        most_live: opts
            .density
            .unwrap_or(0)
            .max(opts.burst.iter().copied().max().unwrap_or(0)),
        test_sleep: std::env::var(probe_core::test_sleep::VAR).ok(),
        language: Language::Rust,
    }
}

/// A second signal while the first is being handled exits at once.
fn install_signal_handlers() -> anyhow::Result<Arc<AtomicBool>> {
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(
            signal,
            EXIT_INTERRUPTED,
            interrupted.clone(),
        )
        .context("cannot install the signal handler")?;
        signal_hook::flag::register(signal, interrupted.clone())
            .context("cannot install the signal handler")?;
    }
    Ok(interrupted)
}

/// The runners to measure, and where each one's row is in the results.
#[derive(Default)]
struct Ready {
    runners: Vec<Box<dyn Runner>>,
    /// `slots[i]`: the index of `runners[i]`'s row in `results.runtimes`.
    slots: Vec<usize>,
}

impl Ready {
    /// Adds the rows of one runtime's built variants (a skipped one with its reason,
    /// said once per reason before anything is measured).
    fn add_rows(
        &mut self,
        kind: RuntimeKind,
        language: Language,
        built: Vec<Built>,
        results: &mut ResultFile,
    ) {
        for built in built {
            match built {
                Built::Ready(r) => {
                    self.slots.push(results.runtimes.len());
                    results.runtimes.push(runner::result_row(r.as_ref()));
                    self.runners.push(r);
                }
                Built::Skipped { variant, reason } => {
                    let key = RunnerKey::new(kind.name(), variant).in_language(language);
                    results
                        .runtimes
                        .push(results::RuntimeResult::skipped(&key, reason))
                }
            }
        }
        let of_kind = (results.runtimes.iter())
            .filter(|r| r.runtime == kind.name() && r.language == language);
        for group in export::skipped_groups(of_kind) {
            eprintln!("skipping {}: {}", group.variants, group.reason);
        }
    }
}

/// The plan of the samples; a runtime's own counts (VMs), under the command line's,
/// are recorded with the parameters.
fn sampling_plan(
    opts: &RunOptions,
    seed: u64,
    runners: &[Box<dyn Runner>],
    results: &mut ResultFile,
) -> measure::Plan {
    let own: Vec<Option<Counts>> = runners
        .iter()
        .map(|r| r.own_counts().map(|own| opts.command_line_counts.over(own)))
        .collect();
    for (r, counts) in runners.iter().zip(&own) {
        if let Some(counts) = counts {
            results
                .parameters
                .variant_counts
                .insert(r.key().to_string(), *counts);
        }
    }
    measure::Plan {
        cold: opts.cold,
        warm: opts.warm,
        warmup: opts.warmup,
        own_counts: own,
        invoke_iters: opts.invoke_iters,
        seed,
        order: opts.order,
        block_size: opts.block_size,
        settle: opts.settle,
        max_consecutive_failures: opts.max_consecutive_failures,
        baseline: options::BASELINE_SAMPLES,
    }
}

/// The samples the plan takes (the progress bar's length).
fn planned_samples(plan: &measure::Plan, runners: &[Box<dyn Runner>]) -> u64 {
    (0..runners.len())
        .map(|i| {
            let c = plan.counts(i);
            c.cold
                + if runners[i].supports_warm() {
                    c.warm
                } else {
                    0
                }
        })
        .sum()
}

/// Density and bursts as asked for.
fn after_samples(opts: &RunOptions) -> measure::AfterSamples {
    measure::AfterSamples {
        density: opts.density.map(|instances| density::Plan {
            instances,
            rounds: opts.density_rounds,
            invoke_iters: opts.invoke_iters,
            variants: opts.density_runtimes.clone(),
        }),
        burst: (!opts.burst.is_empty()).then(|| burst::Plan {
            levels: opts.burst.clone(),
            rounds: opts.burst_rounds,
            invoke_iters: opts.invoke_iters,
        }),
    }
}

/// Closes every runner; whatever its final sweep had to remove was not torn down,
/// a problem recorded with its row.
async fn close(runners: &mut Vec<Box<dyn Runner>>, slots: &[usize], results: &mut ResultFile) {
    for (runner, slot) in runners.iter_mut().zip(slots) {
        let leftovers = runner.close().await;
        for note in &leftovers {
            eprintln!("{}: {note}", runner.key());
        }
        results.runtimes[*slot].teardown_errors.extend(leftovers);
    }
    runners.clear();
}

/// The terminal table (on stderr when the JSON goes to stdout) and the one-line summary.
fn print_summary(
    results: &ResultFile,
    json_to_stdout: bool,
    export_json: Option<&Path>,
    opts: &RunOptions,
) {
    let table = export::terminal::render(results, opts.time_unit);
    if json_to_stdout {
        eprint!("{table}");
        print!("{}", export::json::to_string(results));
    } else {
        print!("{table}");
    }
    eprintln!(
        "seed {} · {} samples in {:.1} s{}",
        results.seed,
        results.samples.len(),
        results.wall_time_ns as f64 / 1e9,
        match export_json {
            Some(p) if p != Path::new("-") => format!(" · results in {}", p.display()),
            _ => String::new(),
        }
    );
}

/// What went wrong, one line each, on stderr.
fn say_outcome(outcome: RunOutcome, results: &ResultFile) {
    match outcome {
        RunOutcome::Interrupted => eprintln!(
            "interrupted: the results hold the {} samples taken",
            results.samples.len()
        ),
        RunOutcome::Finished {
            problems,
            teardowns,
            skipped,
        } => {
            if problems > 0 {
                eprintln!("{problems} samples failed or were invalid: see `error` in the samples");
            }
            if teardowns > 0 {
                eprintln!(
                    "{teardowns} teardowns failed or left something behind: see `teardown_errors` in the runtimes"
                );
            }
            if skipped > 0 {
                eprintln!(
                    "{skipped} items were skipped: their variant was abandoned (see `abandoned`)"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_maps_to_its_exit_code() {
        let clean = RunOutcome::Finished {
            problems: 0,
            teardowns: 0,
            skipped: 0,
        };
        assert_eq!(clean.exit_code(), EXIT_OK);
        for (p, t, s) in [(1, 0, 0), (0, 1, 0), (0, 0, 1)] {
            let bad = RunOutcome::Finished {
                problems: p,
                teardowns: t,
                skipped: s,
            };
            assert_eq!(bad.exit_code(), EXIT_SAMPLES_FAILED, "{bad:?}");
        }
        assert_eq!(RunOutcome::Interrupted.exit_code(), EXIT_INTERRUPTED);
    }
}
