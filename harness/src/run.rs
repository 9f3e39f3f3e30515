//! `coldstart run`: resolves the flags and suite, detects and builds the runners,
//! measures them through the one loop ([`crate::measure`]), and writes the exports
//! (a writer thread checkpoints them while measuring, [`crate::export::writer`]).

use crate::cli::RunArgs;
use crate::export::writer::{Exports, Writer};
use crate::probes::ProbeArtifacts;
use crate::results::{self, Order, Parameters, ResultFile, RunStatus, RuntimeResult, Tool};
use crate::runner::{self, RunContext, RunnerKey, RuntimeKind};
use crate::{burst, density, export, host, measure, phase, suite, verify, UsageError};
use crate::{EXIT_INTERRUPTED, EXIT_OK, EXIT_SAMPLES_FAILED};
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use probe_core::InitParams;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::SystemTime;

/// The largest init memory accepted (the `pre` pool's memory limit is 1 GiB).
const MAX_INIT_KIB: u64 = 512 * 1024;

/// The most samples of one kind a variant may take: every sample is kept in memory
/// and in the result file (10 million is about 5 GB of JSON).
const MAX_COUNT: u64 = 10_000_000;

/// The most instances of one variant held at once (density) or launched at once (burst).
const MAX_LIVE: u64 = 100_000;

/// The longest per-sample timeout and settle pause accepted.
const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);
const MAX_SETTLE: std::time::Duration = std::time::Duration::from_secs(60);

/// The most hash rounds of init or of an invocation (about a minute of work).
const MAX_ITERS: u64 = 10_000_000_000;

/// Timed round trips of a runtime's network baseline (Lambda's DryRun invokes).
const BASELINE_SAMPLES: u64 = 20;

/// Checks the resolved settings against each other and against this `host`.
fn validate(args: &suite::Resolved, host: &host::Host) -> Result<(), UsageError> {
    if args.density.is_none() && args.burst.is_empty() && args.cold == 0 && args.warm == 0 {
        return Err(UsageError(
            "--cold and --warm are both 0: nothing to measure; give at least one of them a count"
                .into(),
        ));
    }
    // 0 would shift to "no limit" unnoticed, and a limit above the host's memory
    // limits nothing; below 6 MiB the daemon itself refuses, with its reason.
    let host_mib = host.memory_bytes >> 20;
    if args.docker_memory_mib == 0 || (host_mib > 0 && args.docker_memory_mib > host_mib) {
        return Err(UsageError(format!(
            "--docker-memory-mib {} is outside what a container can be given here: 1 to {host_mib} MiB (e.g. 256)",
            args.docker_memory_mib
        )));
    }
    for (flag, n) in [
        ("--cold", args.cold),
        ("--warm", args.warm),
        ("--warmup", args.warmup),
        ("--block-size", args.block_size),
    ] {
        if n > MAX_COUNT {
            return Err(UsageError(format!(
                "{flag} {n} is more than {MAX_COUNT}: every sample is kept in memory and in the results; split the run and `coldstart merge` the files"
            )));
        }
    }
    for (flag, n) in [
        ("--init-iters", args.init_iters),
        ("--invoke-iters", args.invoke_iters),
    ] {
        if n > MAX_ITERS {
            return Err(UsageError(format!(
                "{flag} {n} is more than {MAX_ITERS} hash rounds (about a minute of work each time)"
            )));
        }
    }
    if args.timeout > MAX_TIMEOUT {
        return Err(UsageError(format!(
            "--timeout {} is longer than an hour: a sample that takes that long has hung",
            humantime::format_duration(args.timeout)
        )));
    }
    if args.settle > MAX_SETTLE {
        return Err(UsageError(format!(
            "--settle {} is longer than a minute (e.g. 20ms)",
            humantime::format_duration(args.settle)
        )));
    }
    if let Some(n) = args.density {
        if n == 0 || n > MAX_LIVE {
            return Err(UsageError(format!(
                "--density {n}: hold 1 to {MAX_LIVE} live instances per variant (e.g. --density 20)"
            )));
        }
    }
    for &level in &args.burst {
        if level == 0 || level > MAX_LIVE {
            return Err(UsageError(format!(
                "--burst level {level}: a burst launches 1 to {MAX_LIVE} cold starts at once (e.g. --burst 1,10,50)"
            )));
        }
    }
    for (flag, n) in [
        ("--density-rounds", args.density_rounds),
        ("--burst-rounds", args.burst_rounds),
    ] {
        if n == 0 || n > 1000 {
            return Err(UsageError(format!(
                "{flag} {n}: take 1 to 1000 rounds (e.g. 3)"
            )));
        }
    }
    if args.order == Order::Blocks && args.block_size == 0 {
        return Err(UsageError(
            "--block-size 0: a block holds at least one item (e.g. --block-size 10)".into(),
        ));
    }
    if args.timeout.is_zero() {
        return Err(UsageError(
            "--timeout must be longer than 0 (e.g. 10s)".into(),
        ));
    }
    let host_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    if args.vm.cpus == 0 || args.vm.cpus > host_cpus.max(1) * 4 {
        return Err(UsageError(format!(
            "--vm-cpus {} is outside 1 to {} (four per host CPU)",
            args.vm.cpus,
            host_cpus.max(1) * 4
        )));
    }
    if args.vm.memory_mib < 64 || (host_mib > 0 && args.vm.memory_mib > host_mib) {
        return Err(UsageError(format!(
            "--vm-memory-mib {} is outside what a guest can be given here: 64 to {host_mib} MiB (e.g. 256)",
            args.vm.memory_mib
        )));
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
            None => sel.runtime.variants().to_vec(),
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

/// `coldstart run`: measures, writes the exports, prints the summary.
pub async fn run_suite(args: RunArgs) -> anyhow::Result<i32> {
    let args = suite::resolve(args)?;
    // Read once: it is validated against, and recorded with the results.
    let host = host::Host::detect();
    validate(&args, &host)?;
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
        timeout_given: args.timeout_given,
        run_id: run_id.clone(),
        engine: runner::container::Settings {
            memory_bytes: args.docker_memory_mib << 20,
            hardened: !args.docker_unhardened,
            podman_host: args.podman_host.clone(),
        },
        lambda: args.lambda.clone(),
        vm: args.vm.clone(),
        most_live: args
            .density
            .unwrap_or(0)
            .max(args.burst.iter().copied().max().unwrap_or(0)),
        test_sleep: std::env::var(probe_core::test_sleep::VAR).ok(),
    };
    let seed = args.seed.unwrap_or_else(|| rand::random::<u32>() as u64);
    let explicit = !args.runtime.is_empty();

    let mut results = ResultFile {
        schema_version: results::SCHEMA_VERSION,
        tool: Tool::this(),
        run_id,
        seed,
        started_at: now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        wall_time_ns: 0,
        host,
        parameters: Parameters {
            cold_samples: args.cold,
            warm_samples: args.warm,
            warmup: args.warmup,
            init_kib: args.init_kib,
            init_iters: args.init_iters,
            invoke_iters: args.invoke_iters,
            timeout_ns: phase::nanos(args.timeout),
            expected_checksum: None,
            variant_counts: Default::default(),
            order: args.order,
            block_size: (args.order == Order::Blocks).then_some(args.block_size),
            settle_ns: phase::nanos(args.settle),
            max_consecutive_failures: args.max_consecutive_failures,
            suite: args.suite.as_ref().map(|p| p.display().to_string()),
            density: args.density,
            density_rounds: args.density.map(|_| args.density_rounds),
            burst: args.burst.clone(),
            burst_rounds: (!args.burst.is_empty()).then_some(args.burst_rounds),
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
        burst_samples: Vec::new(),
        merged_from: None,
    };

    if let Some(warning) = results.host.busy_warning() {
        eprintln!("{warning}");
    }

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
        let available =
            runner::detect(kind, &Ok(probes.clone()), &ctx.lambda, &ctx.engine, &ctx.vm).await;
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
            Err(reason) => variants
                .iter()
                .map(|variant| runner::Built::Skipped {
                    variant,
                    reason: reason.clone(),
                })
                .collect(),
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
                        reported_source: info.reported_source,
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
                    results
                        .runtimes
                        .push(RuntimeResult::skipped(kind.name(), variant, reason));
                }
            }
        }
        // Before the (long) measurement: each reason once, with the variants it skips.
        let of_kind = results.runtimes.iter().filter(|r| r.runtime == kind.name());
        for (names, reason) in export::skipped_groups(of_kind) {
            eprintln!("skipping {names}: {reason}");
        }
    }
    if runners.is_empty() {
        return Err(
            UsageError("no runtime can run here; `coldstart runtimes` says why".into()).into(),
        );
    }

    let exports = Exports {
        json: args.export_json.clone(),
        markdown: args.export_markdown.clone(),
        csv: args.export_csv.clone(),
        time_unit: args.time_unit,
        failed: None,
    };
    // The first write proves the paths are writable before anything is measured.
    exports.write(&results).map_err(|e| {
        UsageError(format!(
            "{e:#}: pass a writable --export-json/--export-markdown/--export-csv path"
        ))
    })?;

    // A runtime's own counts (VMs) fill in what the command line does not give.
    let (cli_cold, cli_warm, cli_warmup) = args.cli_counts;
    let own: Vec<Option<runner::Counts>> = runners
        .iter()
        .map(|r| {
            r.own_counts().map(|own| runner::Counts {
                cold: cli_cold.unwrap_or(own.cold),
                warm: cli_warm.unwrap_or(own.warm),
                warmup: cli_warmup.unwrap_or(own.warmup),
            })
        })
        .collect();
    for (r, counts) in runners.iter().zip(&own) {
        if let Some(counts) = counts {
            results
                .parameters
                .variant_counts
                .insert(r.key().to_string(), *counts);
        }
    }
    let plan = measure::Plan {
        cold: args.cold,
        warm: args.warm,
        warmup: args.warmup,
        own_counts: own,
        invoke_iters: args.invoke_iters,
        seed,
        order: args.order,
        block_size: args.block_size,
        settle: args.settle,
        max_consecutive_failures: args.max_consecutive_failures,
        baseline: BASELINE_SAMPLES,
    };
    let total: u64 = (0..runners.len())
        .map(|i| {
            let c = plan.counts(i);
            c.cold
                + if runners[i].supports_warm() {
                    c.warm
                } else {
                    0
                }
        })
        .sum();
    let progress = if std::io::stdout().is_terminal() && !exports.json_to_stdout() {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} samples ({msg})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message("estimating time left");
        bar
    } else {
        ProgressBar::hidden()
    };

    let json_to_stdout = exports.json_to_stdout();
    let mut writer = Writer::start(exports, &results).context("cannot start the writer thread")?;
    let complete = measure::measure(
        &mut runners,
        &slots,
        &mut results,
        measure::Context {
            plan: &plan,
            verifier: verify::Verifier::new(params),
            progress: &progress,
            interrupted: &interrupted,
            sink: &mut writer,
        },
    )
    .await;
    let mut exports = writer.finish();
    progress.finish_and_clear();
    let complete = complete
        && crowd(
            &runners,
            &slots,
            &mut results,
            &args,
            params,
            &interrupted,
            &mut exports,
        )
        .await;
    for (runner, slot) in runners.iter_mut().zip(&slots) {
        let leftovers = runner.close().await;
        for note in &leftovers {
            eprintln!("{}: {note}", runner.key());
        }
        // Whatever the final sweep had to remove was not torn down: a problem.
        results.runtimes[*slot].teardown_errors.extend(leftovers);
    }
    drop(runners);
    results.status = if complete {
        RunStatus::Complete
    } else {
        RunStatus::Interrupted
    };
    results.finished_at = Some(now_rfc3339());
    results.host.load_average_end = host::load_average();
    exports.checkpoint(&results);

    let table = export::table::render(&results, args.time_unit);
    if json_to_stdout {
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
    if !complete {
        eprintln!(
            "interrupted: the results hold the {} samples taken",
            results.samples.len()
        );
        return Ok(EXIT_INTERRUPTED);
    }
    let problems = results.problem_count();
    let teardowns = results.teardown_error_count();
    let skipped = results.skipped_count();
    if problems > 0 {
        eprintln!("{problems} samples failed or were invalid: see `error` in the samples");
    }
    if teardowns > 0 {
        eprintln!(
            "{teardowns} teardowns failed or left something behind: see `teardown_errors` in the runtimes"
        );
    }
    if skipped > 0 {
        eprintln!("{skipped} items were skipped: their variant was abandoned (see `abandoned`)");
    }
    if problems + teardowns + skipped > 0 {
        return Ok(EXIT_SAMPLES_FAILED);
    }
    Ok(EXIT_OK)
}

/// Density and bursts (`--density`, `--burst`), variant after variant, after the
/// samples; the results are checkpointed after each variant. Returns false when
/// interrupted.
async fn crowd(
    runners: &[Box<dyn runner::Runner>],
    slots: &[usize],
    results: &mut ResultFile,
    args: &suite::Resolved,
    params: InitParams,
    interrupted: &AtomicBool,
    exports: &mut Exports,
) -> bool {
    use std::sync::atomic::Ordering;
    if args.density.is_none() && args.burst.is_empty() {
        return true;
    }
    let mut verifier = verify::Verifier::new(params);
    let mut seq = results
        .samples
        .iter()
        .map(|s| s.seq)
        .max()
        .map_or(0, |s| s + 1);
    for (runner, slot) in runners.iter().zip(slots) {
        let key = runner.key().clone();
        if let Some(instances) = args.density {
            if interrupted.load(Ordering::Relaxed) {
                return false;
            }
            eprintln!(
                "density: {key}, {instances} live instances × {} rounds",
                args.density_rounds
            );
            let plan = density::Plan {
                instances,
                rounds: args.density_rounds,
                invoke_iters: args.invoke_iters,
            };
            let taken =
                density::run(runner.as_ref(), &plan, &mut verifier, interrupted, &mut seq).await;
            let row = &mut results.runtimes[*slot];
            row.density = Some(taken.density);
            row.teardown_errors.extend(taken.teardown_errors);
            exports.checkpoint(results);
        }
        if !args.burst.is_empty() {
            if interrupted.load(Ordering::Relaxed) {
                return false;
            }
            eprintln!(
                "bursts: {key}, {} at once × {} rounds",
                args.burst
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                args.burst_rounds
            );
            let plan = burst::Plan {
                levels: args.burst.clone(),
                rounds: args.burst_rounds,
                invoke_iters: args.invoke_iters,
            };
            let taken =
                burst::run(runner.as_ref(), &plan, &mut verifier, interrupted, &mut seq).await;
            if let Some(why) = &taken.skipped {
                eprintln!("bursts: {key} skipped: {why}");
            }
            let row = &mut results.runtimes[*slot];
            if taken.skipped.is_none() {
                // How its bursts were launched (wasm: on a pool sized to the cores).
                row.details
                    .insert("burst_method".into(), runner.burst_method().into());
            }
            row.bursts = taken.bursts;
            row.burst_skipped_reason = taken.skipped;
            row.teardown_errors.extend(taken.teardown_errors);
            results.burst_samples.extend(taken.samples);
            exports.checkpoint(results);
        }
    }
    !interrupted.load(Ordering::Relaxed)
}
