//! `docker`: the Docker runner against `docker run --rm` (issue 3), side by side on
//! this machine.
//!
//! 1. `--rounds` alternating rounds: `hyperfine -N --warmup 3 --runs RUNS 'docker run
//!    --rm --network none --runtime runc --read-only --cap-drop ALL --security-opt
//!    no-new-privileges --memory 256m IMAGE once'` (the CLI's whole life: its process,
//!    the daemon's create and start, the probe's init, one invocation and exit, the
//!    removal), then `coldstart run --runtime docker:runc-none --cold RUNS --warm 0
//!    --warmup 3` of the same image and settings (our clock: create to the first
//!    verified response, the teardown apart). The figure: the median over rounds of
//!    coldstart's cold total p50, over the median over rounds of hyperfine's mean.
//!    Target ≤ 0.9 (the harness times the start itself, without the CLI's process and
//!    round trips). Cold p50 + teardown p50 is shown for scale: what `docker run --rm`
//!    also waits for.
//! 2. crun against runc: `--runtime docker:runc-none,docker:crun-none --cold 2×RUNS`
//!    interleaved in one run; cold total, start and create p50 (no target).

use crate::exec::{self, Setup, Sink};
use crate::hyperfine::{self, Hyperfine};
use crate::read;
use crate::table::{duration, median, rounds, Row, Table, Target};
use anyhow::Result;
use coldstart::results::Mode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Alternating rounds of hyperfine and coldstart.
    #[arg(long, env = "ROUNDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// Cold starts per round of each tool.
    #[arg(long, env = "RUNS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
}

const RATIO: Target = Target::AtMost(0.9);

/// The container settings coldstart's docker:runc-none uses, as `docker run` flags.
pub const SAME_SETTINGS: &str = "--rm --network none --runtime runc --read-only --cap-drop ALL \
     --security-opt no-new-privileges --memory 256m";

pub fn run(setup: &Setup, args: &Args) -> Result<Table> {
    exec::require("hyperfine", "apt-get install -y hyperfine")?;
    exec::require_docker_daemon()?;
    let env = setup.prepare("docker")?;
    let runs = args.runs.to_string();

    env.say("building the image (one cold start)");
    env.coldstart(["run", "--runtime", "docker:runc-none", "--cold", "1"])
        .args(["--warm", "0", "--warmup", "0", "--export-json"])
        .arg(env.file("image.json"))
        .stdout(Sink::Null)
        .check_measured()?;
    let image_file = read::load(&env.file("image.json"))?;
    let image = read::detail(
        read::measured(&image_file, "docker", Some("runc-none"))?,
        "image",
    )?
    .to_string();

    for round in 1..=args.rounds {
        env.say(format!("round {round} of {}", args.rounds));
        Hyperfine {
            warmup: 3,
            runs: args.runs,
            export: env.file(format!("hyperfine-{round}.json")),
            commands: vec![format!("docker run {SAME_SETTINGS} {image} once")],
        }
        .step()
        .check()?;
        env.coldstart(["run", "--runtime", "docker:runc-none", "--cold", &runs])
            .args(["--warm", "0", "--warmup", "3", "--seed", &round.to_string()])
            .arg("--export-json")
            .arg(env.file(format!("docker-{round}.json")))
            .stdout(Sink::Null)
            .check_measured()?;
    }
    env.say("crun vs runc");
    let crun_code = env
        .coldstart(["run", "--runtime", "docker:runc-none,docker:crun-none"])
        .args(["--cold", &(args.runs * 2).to_string(), "--warm", "0"])
        .args(["--warmup", "3", "--seed", "7", "--export-json"])
        .arg(env.file("runc-vs-crun.json"))
        .stdout(Sink::Null)
        .stderr(Sink::File(env.file("runc-vs-crun.err")))
        .code()?;

    let mut table = Table::new(format!(
        "docker: medians over {} alternating rounds of {} (coldstart's per-round p50, \
         hyperfine's per-round mean)",
        args.rounds, args.runs
    ));
    table.push(Row::or_not_measured(
        "docker cold total p50 (coldstart, runc, network none) vs `hyperfine -N` mean of \
         `docker run --rm` of the same image one-shot, the same settings",
        Some(RATIO),
        |what| {
            let (mut hf, mut cold, mut cold_td) = (Vec::new(), Vec::new(), Vec::new());
            for round in 1..=args.rounds {
                let path = env.file(format!("hyperfine-{round}.json"));
                hf.push(hyperfine::command(&hyperfine::load(&path)?, 0, &path)?.mean_ns());
                let file = read::load(&env.file(format!("docker-{round}.json")))?;
                let r = read::measured(&file, "docker", Some("runc-none"))?;
                let c = read::p50(r, Mode::Cold, "total")?;
                cold.push(c);
                cold_td.push(c + read::teardown_p50(r)?);
            }
            Ok(Row::ratio(
                what,
                format!(
                    "{} vs {} ({} / {}); coldstart cold + teardown p50 {}",
                    duration(median(&cold)),
                    duration(median(&hf)),
                    rounds(&cold),
                    rounds(&hf),
                    duration(median(&cold_td))
                ),
                median(&cold) / median(&hf),
                Some(RATIO),
            ))
        },
    ));
    let crun = read::load(&env.file("runc-vs-crun.json"));
    for variant in ["runc-none", "crun-none"] {
        let what = format!(
            "docker:{variant} cold total p50, interleaved with the other ({} each)",
            args.runs * 2
        );
        table.push(Row::or_not_measured(what, None, |what| {
            if crun_code != 0 {
                anyhow::bail!(
                    "the run exited with {crun_code}: {}",
                    exec::last_line(&env.file("runc-vs-crun.err"))
                );
            }
            let file = crun.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
            let r = read::measured(file, "docker", Some(variant))?;
            Ok(Row::report(
                what,
                format!(
                    "{} (start {}, create {}), n={}",
                    duration(read::p50(r, Mode::Cold, "total")?),
                    duration(read::p50(r, Mode::Cold, "start")?),
                    duration(read::p50(r, Mode::Cold, "create")?),
                    r.modes.cold.ok
                ),
            ))
        }));
    }
    table.note(format!("raw files: {}", env.out.display()));
    Ok(table)
}
