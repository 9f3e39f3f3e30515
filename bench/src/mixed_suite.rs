//! `mixed-suite`: what the slow runtimes of the default suite do to its µs rows
//! (issue 21).
//!
//! The default suite (`coldstart run --suite fixtures/suite-default.toml`: every
//! runtime this host has, order `blocks`, Docker, Podman and the VMs among them, and
//! its density; the run a published result is), then right after it, with the same
//! build and suite, the µs variants alone (`--runtime
//! process:native,wasm:jit,wasm:aot,wasm:pre`, no slow runtime beside them). For each
//! µs row (every `wasm:*` cold and warm, `process:native` warm), the suite's total
//! p50 and p99 over the alone run's. Targets: p50 ≤ 1.5, p99 ≤ 2. Every row is
//! `not measured` (and the run fails) unless the suite took valid cold samples of
//! each of `docker:runc-none`, `podman:runc-none` and `vm:minimal-tcg`: without the
//! slow runtimes beside them the targets would pass unchecked.

use crate::exec::{Setup, Sink};
use crate::read;
use crate::table::{duration, Row, Table, Target};
use anyhow::Result;
use coldstart::results::{Mode, ResultFile};

#[derive(Debug, clap::Args)]
pub struct Args {}

const P50: Target = Target::AtMost(1.5);
const P99: Target = Target::AtMost(2.0);

/// The µs variants, run alone after the suite.
const FAST: &str = "process:native,wasm:jit,wasm:aot,wasm:pre";

/// One µs row compared.
struct FastRow {
    runtime: &'static str,
    variant: &'static str,
    mode: Mode,
}

const fn row(runtime: &'static str, variant: &'static str, mode: Mode) -> FastRow {
    FastRow {
        runtime,
        variant,
        mode,
    }
}

const ROWS: &[FastRow] = &[
    row("wasm", "jit", Mode::Cold),
    row("wasm", "jit", Mode::Warm),
    row("wasm", "aot", Mode::Cold),
    row("wasm", "aot", Mode::Warm),
    row("wasm", "pre", Mode::Cold),
    row("wasm", "pre", Mode::Warm),
    row("process", "native", Mode::Warm),
];

/// The slow variants the suite must have measured beside the µs rows.
const SLOW: &[(&str, &str)] = &[
    ("docker", "runc-none"),
    ("podman", "runc-none"),
    ("vm", "minimal-tcg"),
];

pub fn run(setup: &Setup, _args: &Args) -> Result<Table> {
    let env = setup.prepare("mixed-suite")?;
    env.say("1. the default suite");
    // The suite measures whatever this host has; a variant that fails there (exit
    // 1) still leaves the µs rows' figures in the file; a run that could not finish
    // (exit 2 or more) fails the benchmark.
    let suite = env.repo.join("fixtures/suite-default.toml");
    env.coldstart(["run", "--suite"])
        .arg(&suite)
        .arg("--export-json")
        .arg(env.file("default-suite.json"))
        .arg("--export-markdown")
        .arg(env.file("default-suite.md"))
        .stdout(Sink::Null)
        .stderr(Sink::File(env.file("default-suite.log")))
        .check_measured()?;
    env.say(format!("2. {FAST} alone, right after"));
    env.coldstart(["run", "--suite"])
        .arg(&suite)
        .args(["--runtime", FAST, "--export-json"])
        .arg(env.file("fast-alone.json"))
        .stdout(Sink::Null)
        .check_measured()?;

    let suite = read::load(&env.file("default-suite.json"));
    let alone = read::load(&env.file("fast-alone.json"));
    let mut table = Table::new(
        "mixed-suite: total p50 and p99 of each µs row, in the default suite (order blocks) \
         vs alone right after (same build, same suite file)",
    );
    if let Ok(suite) = &suite {
        let names = |available: bool| -> String {
            let keys: Vec<String> = suite
                .runtimes
                .iter()
                .filter(|r| r.available == available)
                .map(read::key)
                .collect();
            if keys.is_empty() {
                "none".into()
            } else {
                keys.join(", ")
            }
        };
        table.note(format!(
            "the default suite (order {}, wall time {:.0} s) measured {}; skipped {}",
            suite.parameters.order.name(),
            suite.wall_time_ns as f64 / 1e9,
            names(true),
            names(false)
        ));
    }
    for &FastRow {
        runtime,
        variant,
        mode,
    } in ROWS
    {
        for (name, target, pick) in [
            (
                "p50",
                P50,
                (|s| s.p50_ns) as fn(&coldstart::stats::Summary) -> u64,
            ),
            ("p99", P99, |s| s.p99_ns),
        ] {
            table.push(Row::or_not_measured(
                format!("{runtime}:{variant} {} total {name}", mode.name()),
                Some(target),
                |what| {
                    let figure = |file: &Result<ResultFile>| -> Result<f64> {
                        let file = file.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
                        let row = read::measured(file, runtime, Some(variant))?;
                        Ok(pick(read::summary(row, mode, "total")?) as f64)
                    };
                    slow_beside(&suite)?;
                    let (in_suite, by_itself) = (figure(&suite)?, figure(&alone)?);
                    Ok(Row::ratio(
                        what,
                        format!("{} vs {}", duration(in_suite), duration(by_itself)),
                        in_suite / by_itself,
                        Some(target),
                    ))
                },
            ));
        }
    }
    table.note(format!("raw files: {}", env.out.display()));
    Ok(table)
}

/// An error unless the suite ran in blocks and took most of its planned samples
/// of every slow variant, cold and warm: they ran beside the µs rows.
fn slow_beside(suite: &Result<ResultFile>) -> Result<()> {
    let suite = suite.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
    anyhow::ensure!(
        suite.parameters.order == coldstart::results::Order::Blocks,
        "the default suite ran in order {}, not blocks",
        suite.parameters.order.name()
    );
    for &(runtime, variant) in SLOW {
        let row = read::measured(suite, runtime, Some(variant)).map_err(|e| {
            let how = match runtime {
                "vm" => "install qemu-system-x86 and a guest kernel (README: VMs)",
                "podman" => "start podman's service (README: Podman)",
                _ => "start dockerd",
            };
            anyhow::anyhow!("{e:#}: {how}")
        })?;
        if let Some(why) = &row.abandoned {
            anyhow::bail!("the default suite abandoned {runtime}:{variant}: {why}");
        }
        for mode in [Mode::Cold, Mode::Warm] {
            let m = row.modes.get(mode);
            anyhow::ensure!(
                2 * m.ok >= m.taken().max(1),
                "the default suite took {} valid {} samples of {runtime}:{variant} of {}",
                m.ok,
                mode.name(),
                m.taken()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_alone_is_in_the_alone_run() {
        for row in ROWS {
            let key = format!("{}:{}", row.runtime, row.variant);
            assert!(FAST.split(',').any(|s| s == key), "{key}");
        }
    }
}
