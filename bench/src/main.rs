//! `coldstart-bench`: the benchmarks of coldstart against peer tools on this machine,
//! one subcommand each. Each runs the peer (hyperfine, an engine's CLI, QEMU) and
//! coldstart side by side, reads the result files with coldstart's own types, prints
//! a table of medians and ratios, and exits 1 when a stated target is missed.

mod checkpoints;
mod compare_aa;
mod density_bursts;
mod docker;
mod engines;
mod exec;
mod foundation;
mod hyperfine;
mod lambda;
mod languages;
mod mixed_suite;
mod read;
mod table;
mod vm;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Benchmarks coldstart against peer tools on this machine and checks the targets.
///
/// Builds the probes and coldstart (release) first, unless --coldstart-bin is
/// given. Prints a table of medians and ratios (each row says which medians);
/// raw files (hyperfine's exports, result files, logs) stay in --out.
#[derive(Debug, Parser)]
#[command(
    name = "coldstart-bench",
    version,
    after_help = "Examples:\n  \
        cargo run --release -p coldstart-bench -- foundation --out /tmp/bench\n  \
        PIN=1 cargo run --release -p coldstart-bench -- foundation\n  \
        PAIRS=10 cargo run --release -p coldstart-bench -- compare-aa\n\n\
        Exit codes: 0 every stated target met (or none stated), 1 a target missed or not \
        measured, 2 a tool or service it needs is missing (the message says how to get \
        it), 3 a step failed (the message names it and its log)."
)]
struct Cli {
    /// Directory for the raw files; default: a new directory under $TMPDIR.
    #[arg(long, env = "OUT", global = true)]
    out: Option<PathBuf>,
    /// A built coldstart binary to use as it is: nothing is built, and the probes are
    /// found as that binary finds them (e.g. COLDSTART_PROBES_DIR).
    #[arg(long, env = "COLDSTART_BIN", global = true)]
    coldstart_bin: Option<PathBuf>,
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// The measurement itself: harness tax against hyperfine (≤ 1.0 cold, ≤ 1.15 cold +
    /// teardown), scaling with the sample count (≤ 11).
    Foundation(foundation::Args),
    /// How often `coldstart compare` cries wolf on A/A pairs (≤ 1 in 10) and whether it
    /// catches heavy init and invocation work (every pair).
    CompareAa(compare_aa::Args),
    /// docker:runc-none against `docker run --rm` under hyperfine (≤ 0.9), crun vs runc.
    Docker(docker::Args),
    /// Each container engine's cold + teardown against its own CLI under hyperfine (≤ 1.0).
    Engines(engines::Args),
    /// lambda:local-emulator against process: what the Runtime API adds (no target).
    Lambda(lambda::Args),
    /// The VM variants next to process and Docker, QEMU's own boot under hyperfine, a
    /// CPU-bound invocation inside and outside the guest (no target).
    Vm(vm::Args),
    /// The probe in every language as a process against hyperfine -N of its `once`
    /// mode (≤ 1.1 each).
    Languages(languages::Args),
    /// Whether checkpointing the exports during a run changes a 100k-sample wasm:pre
    /// warm run's p99 and p99.9 (on vs off ≤ 1.1).
    Checkpoints(checkpoints::Args),
    /// Density and bursts: 100 concurrent Docker cold starts and 10,000 wasm:pre
    /// instantiations with no sample lost and no container left; memory per instance.
    DensityBursts(density_bursts::Args),
    /// The µs rows (wasm:* cold and warm, process warm) in the default suite vs alone
    /// right after: total p50 ≤ 1.5, p99 ≤ 2.
    MixedSuite(mixed_suite::Args),
}

fn run(cli: Cli) -> anyhow::Result<table::Table> {
    let setup = exec::Setup {
        out: cli.out,
        coldstart_bin: cli.coldstart_bin,
    };
    match cli.bench {
        Bench::Foundation(args) => foundation::run(&setup, &args),
        Bench::CompareAa(args) => compare_aa::run(&setup, &args),
        Bench::Docker(args) => docker::run(&setup, &args),
        Bench::Engines(args) => engines::run(&setup, &args),
        Bench::Lambda(args) => lambda::run(&setup, &args),
        Bench::Vm(args) => vm::run(&setup, &args),
        Bench::DensityBursts(args) => density_bursts::run(&setup, &args),
        Bench::Checkpoints(args) => checkpoints::run(&setup, &args),
        Bench::MixedSuite(args) => mixed_suite::run(&setup, &args),
        Bench::Languages(args) => languages::run(&setup, &args),
    }
}

fn main() {
    let code = match run(Cli::parse()) {
        Ok(table) => {
            print!("{}", table.render());
            println!("{}", table.summary());
            table.exit_code()
        }
        Err(e) => {
            eprintln!("Error: {e:#}");
            if e.downcast_ref::<exec::Missing>().is_some() {
                2
            } else {
                3
            }
        }
    };
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
