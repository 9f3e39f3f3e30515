//! `foundation`: the measurement itself, like for like with hyperfine on this machine
//! (issues 2 and 10).
//!
//! 1. Harness tax. `--rounds` alternating rounds, so a drift of the machine hits both
//!    tools alike: `hyperfine -N --warmup 20 --runs RUNS '<probe> once'` (its clock:
//!    the probe's spawn to its reaping: init, one invocation, exit), then `coldstart
//!    run --runtime process --cold RUNS --warm 0 --warmup 20` (our clock: the spawn to
//!    the first verified response; the teardown, EXIT until reaped, timed apart).
//!    Per round: hyperfine's median, and the median over coldstart's valid cold samples
//!    of `total_ns` and of `total_ns + teardown_ns`; the ratios are of the medians of
//!    those per-round medians. Targets: cold / hyperfine ≤ 1.0 (cold stops before the
//!    exit), cold + teardown / hyperfine ≤ 1.15 (the span hyperfine times).
//!    `--pin` runs both under `taskset -c 1`: on a VM whose vCPUs are costly to cross,
//!    hyperfine's child landing on the other vCPU slows hyperfine itself, so the
//!    unpinned ratio flatters coldstart.
//! 2. Scaling. The wall time of the whole `coldstart run --runtime wasm:pre --cold 0
//!    --warm N --warmup 3` command, spawn to exit, for N = 10,000 and 100,000. Target:
//!    ≤ 11 (the checkpoints run off the measuring thread).

use crate::exec::{self, Setup, Sink};
use crate::hyperfine::{self, Hyperfine};
use crate::read;
use crate::table::{duration, median, rounds, Row, Table, Target};
use anyhow::Result;
use coldstart::results::{Mode, ResultFile};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Alternating rounds of hyperfine and coldstart in step 1.
    #[arg(long, env = "ROUNDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// Runs per round of each tool in step 1.
    #[arg(long, env = "RUNS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Pin both tools of step 1 to CPU 1 (`taskset -c 1`).
    #[arg(long, env = "PIN")]
    pin: bool,
}

const COLD: Target = Target::AtMost(1.0);
const TAX: Target = Target::AtMost(1.15);
const SCALING: Target = Target::AtMost(11.0);

/// One round of step 1, ns.
struct TaxRound {
    hyperfine_median: f64,
    hyperfine_mean: f64,
    cold: f64,
    cold_teardown: f64,
    samples: usize,
}

pub fn run(setup: &Setup, args: &Args) -> Result<Table> {
    exec::require("hyperfine", "apt-get install -y hyperfine")?;
    if args.pin {
        exec::require("taskset", "apt-get install -y util-linux")?;
    }
    let env = setup.prepare("foundation")?;
    let probe = env.repo.join("probes/out/coldstart-probe");
    let runs = args.runs.to_string();

    for round in 1..=args.rounds {
        env.say(format!(
            "1. harness tax, round {round} of {}{}",
            args.rounds,
            if args.pin { " (pinned to CPU 1)" } else { "" }
        ));
        Hyperfine {
            warmup: 20,
            runs: args.runs,
            export: env.file(format!("hyperfine-{round}.json")),
            commands: vec![format!("{} once", probe.display())],
        }
        .step()
        .pinned(args.pin)
        .check()?;
        env.coldstart(["run", "--runtime", "process", "--cold", &runs])
            .args([
                "--warm",
                "0",
                "--warmup",
                "20",
                "--seed",
                &round.to_string(),
            ])
            .arg("--export-json")
            .arg(env.file(format!("process-{round}.json")))
            .pinned(args.pin)
            .stdout(Sink::Null)
            .check_measured()?;
    }

    env.say("2. scaling: wasm:pre with 10,000 and 100,000 warm samples");
    let scaling = |warm: &str, name: &str| -> Result<Duration> {
        env.coldstart([
            "run",
            "--runtime",
            "wasm:pre",
            "--cold",
            "0",
            "--warm",
            warm,
        ])
        .args(["--warmup", "3", "--seed", "1", "--export-json"])
        .arg(env.file(format!("{name}.json")))
        .stdout(Sink::Null)
        .wall()
    };
    let w10k = scaling("10000", "warm-10k")?;
    let w100k = scaling("100000", "warm-100k")?;

    let mut table = Table::new(format!(
        "foundation: medians ({} alternating rounds of {}{}; step 1 per-sample medians \
         per round, hyperfine's median per round, then the median over rounds)",
        args.rounds,
        args.runs,
        if args.pin {
            "; both tools pinned to CPU 1"
        } else {
            ""
        }
    ));
    tax_rows(&env, args, &mut table);
    table.push(Row::or_not_measured(
        "process phases (medians over every round's valid cold samples)",
        None,
        |what| phases_row(&env, args, what),
    ));
    table.push(Row::ratio(
        "wasm:pre 10,000 vs 100,000 warm samples, wall time of the whole command",
        format!(
            "{:.2} s vs {:.2} s",
            w10k.as_secs_f64(),
            w100k.as_secs_f64()
        ),
        w100k.as_secs_f64() / w10k.as_secs_f64(),
        Some(SCALING),
    ));
    for name in ["warm-10k", "warm-100k"] {
        table.push(Row::or_not_measured(
            format!("{name}: measurement wall time, warm p50"),
            None,
            |what| {
                let file = read::load(&env.file(format!("{name}.json")))?;
                let pre = read::measured(&file, "wasm", Some("pre"))?;
                Ok(Row::report(
                    what,
                    format!(
                        "{:.2} s, warm p50 {}",
                        file.wall_time_ns as f64 / 1e9,
                        duration(read::p50(pre, Mode::Warm, "total")?)
                    ),
                ))
            },
        ));
    }
    table.note(format!("raw files: {}", env.out.display()));
    Ok(table)
}

/// Step 1's rows: read every round's files, then the medians over rounds.
fn tax_rows(env: &exec::Env, args: &Args, table: &mut Table) {
    let read_rounds = || -> Result<Vec<TaxRound>> {
        (1..=args.rounds)
            .map(|round| {
                let path = env.file(format!("hyperfine-{round}.json"));
                let h = hyperfine::command(&hyperfine::load(&path)?, 0, &path)?;
                let file = read::load(&env.file(format!("process-{round}.json")))?;
                let (cold, cold_teardown, samples) = cold_medians(&file)?;
                Ok(TaxRound {
                    hyperfine_median: h.median_ns(),
                    hyperfine_mean: h.mean_ns(),
                    cold,
                    cold_teardown,
                    samples,
                })
            })
            .collect()
    };
    let what_cold = "process cold total vs `hyperfine -N 'coldstart-probe once'`";
    let what_td = "process cold total + teardown (the span hyperfine times) vs the same";
    let rounds_read = match read_rounds() {
        Ok(r) => r,
        Err(e) => {
            table.push(Row::not_measured(what_cold, &e, Some(COLD)));
            table.push(Row::not_measured(what_td, &e, Some(TAX)));
            return;
        }
    };
    let of = |f: fn(&TaxRound) -> f64| -> Vec<f64> { rounds_read.iter().map(f).collect() };
    let (hf, hf_mean) = (of(|r| r.hyperfine_median), of(|r| r.hyperfine_mean));
    let (cold, cold_td) = (of(|r| r.cold), of(|r| r.cold_teardown));
    let fewest = rounds_read.iter().map(|r| r.samples).min().unwrap_or(0);
    let hf_text = format!(
        "hyperfine {} (mean {}; {})",
        duration(median(&hf)),
        duration(median(&hf_mean)),
        rounds(&hf)
    );
    table.push(Row::ratio(
        format!("{what_cold} (≥ {fewest} valid cold samples a round)"),
        format!(
            "coldstart {} ({}); {hf_text}",
            duration(median(&cold)),
            rounds(&cold)
        ),
        median(&cold) / median(&hf),
        Some(COLD),
    ));
    table.push(Row::ratio(
        what_td,
        format!(
            "coldstart {} ({}); hyperfine {}",
            duration(median(&cold_td)),
            rounds(&cold_td),
            duration(median(&hf))
        ),
        median(&cold_td) / median(&hf),
        Some(TAX),
    ));
}

/// The medians over a file's valid cold samples of `total_ns` and of `total_ns +
/// teardown_ns` (samples whose teardown was not timed are left out of the second),
/// and how many samples the first holds.
fn cold_medians(file: &ResultFile) -> Result<(f64, f64, usize)> {
    let cold: Vec<_> = file
        .samples
        .iter()
        .filter(|s| s.ok && s.mode == Mode::Cold)
        .collect();
    let total: Vec<f64> = cold
        .iter()
        .filter_map(|s| s.total_ns)
        .map(|t| t as f64)
        .collect();
    let with_teardown: Vec<f64> = cold
        .iter()
        .filter_map(|s| Some((s.total_ns? + s.teardown_ns?) as f64))
        .collect();
    if total.is_empty() || with_teardown.is_empty() {
        anyhow::bail!(
            "run {} has no valid cold sample with a teardown",
            file.run_id
        );
    }
    Ok((median(&total), median(&with_teardown), total.len()))
}

/// The process runner's cold phases and teardown over all rounds of step 1.
fn phases_row(env: &exec::Env, args: &Args, what: String) -> Result<Row> {
    let files: Vec<ResultFile> = (1..=args.rounds)
        .map(|round| read::load(&env.file(format!("process-{round}.json"))))
        .collect::<Result<_>>()?;
    let order = &read::measured(&files[0], "process", None)?.phase_order;
    let valid = || {
        files
            .iter()
            .flat_map(|f| &f.samples)
            .filter(|s| s.ok && s.mode == Mode::Cold)
    };
    let mut parts: Vec<String> = order
        .iter()
        .filter(|p| p.as_str() != "total")
        .map(|phase| {
            let values: Vec<f64> = valid()
                .filter_map(|s| s.phases_ns.get(phase).map(|v| *v as f64))
                .collect();
            format!("{phase} {}", duration(median(&values)))
        })
        .collect();
    let teardown: Vec<f64> = valid()
        .filter_map(|s| s.teardown_ns.map(|v| v as f64))
        .collect();
    parts.push(format!("teardown {}", duration(median(&teardown))));
    Ok(Row::report(
        format!("{what}, n={}", valid().count()),
        parts.join(", "),
    ))
}
