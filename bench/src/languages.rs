//! `languages`: the probe in each language as a process, like for like with
//! hyperfine (issue 23).
//!
//! `--rounds` alternating rounds, so a drift of the machine hits both tools alike:
//! `hyperfine -N --warmup 5 --runs RUNS` over every language's `<probe> once` (its
//! clock: the interpreter's or binary's spawn to its reaping: the language's start,
//! init, one invocation, exit), then `coldstart run --runtime process --language all
//! --cold RUNS --warm 0 --warmup 5` (our clock: the spawn to the first verified
//! response; the teardown, EXIT until reaped, timed apart), each language's probe
//! started as the harness resolves it ([`LanguageProbe`]). Per round and language:
//! hyperfine's median and the median of `total_ns + teardown_ns` over the language's
//! valid cold samples; the ratio is of the medians over rounds. Target: ≤ 1.1 for
//! every language (the harness adds nothing to a 20–150 ms interpreter start).
//! `--pin` runs both tools under `taskset -c 1`, as `foundation --pin` does: on this
//! VM a child woken on the other vCPU is slower, and the two tools' children do not
//! land alike.

use crate::exec::{self, Setup, Sink};
use crate::hyperfine::{self, Hyperfine};
use crate::read;
use crate::table::{duration, median, rounds, Row, Table, Target};
use anyhow::{Context, Result};
use coldstart::probes::{Language, LanguageProbe};
use coldstart::results::{Mode, ResultFile};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Alternating rounds of hyperfine and coldstart.
    #[arg(long, env = "ROUNDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// Runs per round of each tool and language.
    #[arg(long, env = "RUNS", default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Pin both tools to CPU 1 (`taskset -c 1`).
    #[arg(long, env = "PIN")]
    pin: bool,
}

const TAX: Target = Target::AtMost(1.1);

pub fn run(setup: &Setup, args: &Args) -> Result<Table> {
    exec::require("hyperfine", "apt-get install -y hyperfine")?;
    if args.pin {
        exec::require("taskset", "apt-get install -y util-linux")?;
    }
    let env = setup.prepare("languages")?;
    let dir = env.repo.join("probes/out");
    let probes: Vec<LanguageProbe> = Language::ALL
        .into_iter()
        .map(|l| LanguageProbe::locate(l, &dir).map_err(anyhow::Error::msg))
        .collect::<Result<_>>()
        .context("every language's probe is needed (scripts/build-probes.sh, .ci/run)")?;
    let commands: Vec<String> = probes
        .iter()
        .map(|p| {
            let mut words = vec![p.program.display().to_string()];
            words.extend(p.args.iter().cloned());
            words.push("once".into());
            words.join(" ")
        })
        .collect();
    let runs = args.runs.to_string();
    for round in 1..=args.rounds {
        env.say(format!(
            "round {round} of {}: hyperfine, then coldstart",
            args.rounds
        ));
        Hyperfine {
            warmup: 5,
            runs: args.runs,
            export: env.file(format!("hyperfine-{round}.json")),
            commands: commands.clone(),
        }
        .step()
        .pinned(args.pin)
        .check()?;
        env.coldstart(["run", "--runtime", "process", "--language", "all"])
            .args(["--cold", &runs, "--warm", "0", "--warmup", "5"])
            .args(["--seed", &round.to_string(), "--export-json"])
            .arg(env.file(format!("process-{round}.json")))
            .pinned(args.pin)
            .stdout(Sink::Null)
            .check_measured()?;
    }
    let mut table = Table::new(format!(
        "languages: medians ({} alternating rounds of {} runs; per round hyperfine's median \
         and the median of our cold total + teardown, then the median over rounds{})",
        args.rounds,
        args.runs,
        if args.pin {
            "; both tools pinned to CPU 1"
        } else {
            ""
        }
    ));
    for (i, probe) in probes.iter().enumerate() {
        let what = format!(
            "process:native:{} cold + teardown vs `hyperfine -N '{}'`",
            probe.language, commands[i]
        );
        table.push(Row::or_not_measured(what, Some(TAX), |what| {
            let mut ours = Vec::new();
            let mut theirs = Vec::new();
            for round in 1..=args.rounds {
                let path = env.file(format!("hyperfine-{round}.json"));
                theirs.push(hyperfine::command(&hyperfine::load(&path)?, i, &path)?.median_ns());
                let file = read::load(&env.file(format!("process-{round}.json")))?;
                ours.push(cold_with_teardown(&file, probe.language)?);
            }
            Ok(Row::ratio(
                what,
                format!(
                    "{} vs hyperfine {} ({} vs {})",
                    duration(median(&ours)),
                    duration(median(&theirs)),
                    rounds(&ours),
                    rounds(&theirs)
                ),
                median(&ours) / median(&theirs),
                Some(TAX),
            ))
        }));
    }
    table.note(format!("raw files: {}", env.out.display()));
    Ok(table)
}

/// The median of cold total + teardown over one language's valid cold samples.
fn cold_with_teardown(file: &ResultFile, language: Language) -> Result<f64> {
    let values: Vec<f64> = (file.samples.iter())
        .filter(|s| s.ok && s.mode == Mode::Cold && s.language == language)
        .filter_map(|s| Some((s.total_ns? + s.teardown_ns?) as f64))
        .collect();
    if values.is_empty() {
        anyhow::bail!(
            "run {} has no valid {language} cold sample with a teardown",
            file.run_id
        );
    }
    Ok(median(&values))
}
