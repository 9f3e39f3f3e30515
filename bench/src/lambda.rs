//! `lambda`: what Lambda's Runtime API round trip adds to the same probe (issue 4),
//! measured locally against cargo-lambda's emulator (the figures are this machine's,
//! not AWS's).
//!
//! `--rounds` rounds of one `coldstart run --runtime process,lambda:local-emulator
//! --cold COLD --warm WARM --warmup 5` each (order blocks: both runners in one run).
//! Cold, on our clock: the bootstrap's spawn to the first verified answer through
//! the emulator (process: the probe's spawn to its first response); warm: one
//! invocation's round trip. The figures are the medians over rounds of each p50,
//! their ratios and differences. No target: it reports what the emulator costs.

use crate::exec::{self, Setup, Sink};
use crate::read;
use crate::table::{duration, median, Row, Table};
use anyhow::Result;
use coldstart::results::Mode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rounds, one coldstart run each.
    #[arg(long, env = "ROUNDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// Cold starts per round and runtime.
    #[arg(long, env = "COLD", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    cold: u64,
    /// Warm invocations per round and runtime.
    #[arg(long, env = "WARM", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    warm: u64,
}

pub fn run(setup: &Setup, args: &Args) -> Result<Table> {
    exec::require("cargo-lambda", "pip install cargo-lambda")?;
    let env = setup.prepare("lambda")?;
    for round in 1..=args.rounds {
        env.say(format!("round {round} of {}", args.rounds));
        env.coldstart(["run", "--runtime", "process,lambda:local-emulator"])
            .args([
                "--cold",
                &args.cold.to_string(),
                "--warm",
                &args.warm.to_string(),
            ])
            .args([
                "--warmup",
                "5",
                "--seed",
                &round.to_string(),
                "--export-json",
            ])
            .arg(env.file(format!("round-{round}.json")))
            .stdout(Sink::Null)
            .check_measured()?;
    }

    // Per round: process cold, process warm, lambda cold, lambda warm, its spawn and
    // first_response p50s.
    let mut figures: [Vec<f64>; 7] = Default::default();
    for round in 1..=args.rounds {
        let file = read::load(&env.file(format!("round-{round}.json")))?;
        let process = read::measured(&file, "process", None)?;
        let lambda = read::measured(&file, "lambda", None)?;
        let round_figures = [
            read::p50(process, Mode::Cold, "total")?,
            read::p50(process, Mode::Warm, "total")?,
            read::p50(lambda, Mode::Cold, "total")?,
            read::p50(lambda, Mode::Warm, "total")?,
            read::p50(lambda, Mode::Cold, "spawn")?,
            read::p50(lambda, Mode::Cold, "request")?,
            read::p50(lambda, Mode::Cold, "first_response")?,
        ];
        for (all, one) in figures.iter_mut().zip(round_figures) {
            all.push(one);
        }
    }
    let [pc, pw, lc, lw, spawn, request, first] = figures.map(|f| median(&f));

    let mut table = Table::new(format!(
        "lambda: medians over {} rounds of each p50 ({} cold + {} warm a round and runtime, \
         one run a round)",
        args.rounds, args.cold, args.warm
    ));
    table.push(Row::ratio(
        "lambda:local-emulator vs process, cold total p50",
        format!(
            "{} (spawn {}, request {}, first_response {}) vs {}: the Runtime API adds {} \
             (the SDK building the unsigned request included)",
            duration(lc),
            duration(spawn),
            duration(request),
            duration(first),
            duration(pc),
            duration(lc - pc)
        ),
        lc / pc,
        None,
    ));
    table.push(Row::ratio(
        "lambda:local-emulator vs process, warm total p50",
        format!(
            "{} vs {}: {} per round trip",
            duration(lw),
            duration(pw),
            duration(lw - pw)
        ),
        lw / pw,
        None,
    ));
    table.note(format!("raw files: {}", env.out.display()));
    Ok(table)
}
