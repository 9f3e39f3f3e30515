//! `checkpoints`: whether writing the exports during a run disturbs µs samples
//! (issue 21, item 7).
//!
//! `--rounds` rounds of two `coldstart run --runtime wasm:pre --cold 10 --warm WARM
//! --warmup 100`, in alternating order (on first in odd rounds, off first in even):
//!
//! * **on**: `--export-json`, `--export-markdown` and `--export-csv` to files, so the
//!   writer thread appends every sample to the run's journal and syncs it every 5 s
//!   while the samples are taken;
//! * **off**: `--export-json -` (standard output, written once at the end: no
//!   checkpoint).
//!
//! The figures: the median over rounds of the warm total's p99 and p99.9, on over
//! off. Target ≤ 1.1 for each: a run that checkpoints measures the same tail as one
//! that does not.

use crate::exec::{Setup, Sink};
use crate::read;
use crate::table::{duration, median, rounds, Row, Table, Target};
use anyhow::Result;
use coldstart::results::Mode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rounds of one run with checkpoints and one without.
    #[arg(long, env = "ROUNDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// Warm samples per run.
    #[arg(long, env = "WARM", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    warm: u64,
}

const RATIO: Target = Target::AtMost(1.1);

/// One run's warm tail, and how long it measured.
struct Tail {
    p99: f64,
    p999: f64,
    wall_ns: f64,
}

pub fn run(setup: &Setup, args: &Args) -> Result<Table> {
    let env = setup.prepare("checkpoints")?;
    let mut on = Vec::new();
    let mut off = Vec::new();
    for round in 1..=args.rounds {
        env.say(format!("round {round} of {}", args.rounds));
        let order = if round % 2 == 1 {
            [true, false]
        } else {
            [false, true]
        };
        for checkpoints in order {
            let name = if checkpoints { "on" } else { "off" };
            let json = env.file(format!("{name}-{round}.json"));
            let mut step = env
                .coldstart(["run", "--runtime", "wasm:pre", "--cold", "10"])
                .args(["--warm", &args.warm.to_string(), "--warmup", "100"])
                .args(["--seed", &round.to_string()]);
            step = if checkpoints {
                step.arg("--export-json")
                    .arg(&json)
                    .arg("--export-markdown")
                    .arg(env.file(format!("{name}-{round}.md")))
                    .arg("--export-csv")
                    .arg(env.file(format!("{name}-{round}.csv")))
                    .stdout(Sink::Null)
            } else {
                step.args(["--export-json", "-"])
                    .stdout(Sink::File(json.clone()))
            };
            step.stderr(Sink::File(env.file(format!("{name}-{round}.err"))))
                .check_measured()?;
            let file = read::load(&json)?;
            let warm = read::measured(&file, "wasm", Some("pre"))?
                .modes
                .get(Mode::Warm)
                .phases
                .get("total")
                .ok_or_else(|| anyhow::anyhow!("{name}-{round}: no valid warm sample"))?;
            let tail = Tail {
                p99: warm.p99_ns as f64,
                p999: warm.p999_ns as f64,
                wall_ns: file.wall_time_ns as f64,
            };
            if checkpoints {
                on.push(tail);
            } else {
                off.push(tail);
            }
        }
    }
    let p99 = |tails: &[Tail]| tails.iter().map(|t| t.p99).collect::<Vec<_>>();
    let p999 = |tails: &[Tail]| tails.iter().map(|t| t.p999).collect::<Vec<_>>();
    let mut table = Table::new(format!(
        "checkpoints: wasm:pre warm total, {} warm samples a run, medians over {} rounds of \
         each run's p99 and p99.9 (on: JSON, markdown and CSV exports to files; off: JSON \
         to standard output at the end)",
        args.warm, args.rounds
    ));
    for (what, figures) in [
        ("p99", [p99(&on), p99(&off)]),
        ("p99.9", [p999(&on), p999(&off)]),
    ] {
        let [on, off] = figures;
        let (m_on, m_off) = (median(&on), median(&off));
        table.push(Row::ratio(
            format!("wasm:pre warm total {what}, checkpoints on vs off"),
            format!(
                "{} ({}) vs {} ({})",
                duration(m_on),
                rounds(&on),
                duration(m_off),
                rounds(&off)
            ),
            m_on / m_off,
            Some(RATIO),
        ));
    }
    // The journal syncs every 5 s: a run shorter than that would never show one.
    let walls: Vec<f64> = on.iter().map(|t| t.wall_ns).collect();
    table.push(Row::report(
        "runs with checkpoints: wall time of the whole run (a journal sync every 5 s)",
        rounds(&walls),
    ));
    table.note(format!("raw files: {}", env.out.display()));
    Ok(table)
}
