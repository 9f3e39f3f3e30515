//! `density-bursts`: density and bursts (issue 12) on this machine.
//!
//! 1. 100 concurrent docker:runc-none cold starts, `--burst-rounds` rounds (`coldstart
//!    run --burst 100 --timeout 120s`: each sample's timeout runs from its own start,
//!    and the last of 100 container starts on 2 cores take longer than the default
//!    10 s). A burst sample's clock runs from the common launch to its own verified
//!    first response. Targets: no sample lost (all 100 × rounds answered and
//!    verified) and no container of the run left afterwards (`docker ps -a` by the
//!    run's label).
//! 2. 10,000 concurrent wasm:pre instantiations, 2 rounds (the pooling allocator sized
//!    for them, a pool of one thread per core). Target: no sample lost.
//! 3. Density: `--density DENSITY` live instances of process, wasm:pre,
//!    docker:runc-none and vm:minimal-tcg in one run (`--cold 10 --warm 10`): memory
//!    per instance, host view (MemAvailable) and PSS view, medians over its rounds;
//!    the report's verdicts on the density claims. Reported.
//! 4. Bursts of 1, 10, 50 of process, wasm:pre and docker:runc-none (`--timeout 60s`),
//!    with the HTML report and its plot. Reported.

use crate::exec::{self, Setup, Sink, Step};
use crate::read;
use crate::table::{duration, Row, Table, Target};
use anyhow::Result;
use coldstart::results::{Burst, ResultFile};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rounds of the 100-container burst.
    #[arg(long, env = "BURST_ROUNDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    burst_rounds: u64,
    /// Live instances per density round.
    #[arg(long, env = "DENSITY", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    density: u64,
}

/// Nothing lost, nothing left.
const NONE: Target = Target::AtMost(0.0);

/// Rounds of the 10,000-instantiation burst.
const WASM_ROUNDS: u64 = 2;

/// Samples of a burst level that did not come back verified: of `launched` asked
/// for (concurrency × rounds asked), all those not `ok` (invalid, failed, or in a
/// round not taken).
fn lost(burst: &Burst, launched: u64) -> u64 {
    launched.saturating_sub(burst.ok)
}

/// The lines of `text` from the one starting with `Bursts:` to the next empty line.
fn bursts_section(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.starts_with("Bursts:"))
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

pub fn run(setup: &Setup, args: &Args) -> Result<Table> {
    exec::require("docker", "apt-get install -y docker.io")?;
    let env = setup.prepare("density-bursts")?;
    let rounds = args.burst_rounds.to_string();

    env.say(format!(
        "1. 100 concurrent docker:runc-none cold starts × {rounds} rounds"
    ));
    env.coldstart([
        "run",
        "--runtime",
        "docker:runc-none",
        "--cold",
        "0",
        "--warm",
        "0",
    ])
    .args([
        "--burst",
        "100",
        "--burst-rounds",
        &rounds,
        "--timeout",
        "120s",
    ])
    .arg("--export-json")
    .arg(env.file("docker-100.json"))
    .stdout(Sink::File(env.file("docker-100.txt")))
    .stderr(Sink::File(env.file("docker-100.err")))
    .code()?;
    let docker_100 = read::load(&env.file("docker-100.json"));
    let left = docker_100.as_ref().ok().map(|file| {
        Step::new("docker")
            .args(["ps", "-aq", "--filter"])
            .arg(format!("label=coldstart.run={}", file.run_id))
            .text()
            .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count() as u64)
    });

    env.say("2. 10,000 concurrent wasm:pre instantiations × 2 rounds");
    env.coldstart(["run", "--runtime", "wasm:pre", "--cold", "0", "--warm", "0"])
        .args([
            "--burst",
            "10000",
            "--burst-rounds",
            &WASM_ROUNDS.to_string(),
        ])
        .arg("--export-json")
        .arg(env.file("wasm-10000.json"))
        .stdout(Sink::File(env.file("wasm-10000.txt")))
        .stderr(Sink::File(env.file("wasm-10000.err")))
        .code()?;

    env.say(format!(
        "3. density {}: process, wasm:pre, docker:runc-none, vm:minimal-tcg",
        args.density
    ));
    env.coldstart([
        "run",
        "--runtime",
        "process,wasm:pre,docker:runc-none,vm:minimal-tcg",
    ])
    .args([
        "--cold",
        "10",
        "--warm",
        "10",
        "--density",
        &args.density.to_string(),
    ])
    .arg("--export-json")
    .arg(env.file("density.json"))
    .stdout(Sink::File(env.file("density.txt")))
    .stderr(Sink::File(env.file("density.err")))
    .code()?;
    let verdicts = env
        .coldstart(["report"])
        .arg(env.file("density.json"))
        .stderr(Sink::Null)
        .text_anyway()?;

    env.say("4. bursts 1,10,50: process, wasm:pre, docker:runc-none");
    env.coldstart(["run", "--runtime", "process,wasm:pre,docker:runc-none"])
        .args(["--cold", "10", "--warm", "10", "--burst", "1,10,50"])
        .args(["--timeout", "60s", "--export-json"])
        .arg(env.file("bursts.json"))
        .stdout(Sink::File(env.file("bursts.txt")))
        .stderr(Sink::File(env.file("bursts.err")))
        .code()?;
    env.coldstart(["report"])
        .arg(env.file("bursts.json"))
        .args(["--format", "html", "-o"])
        .arg(env.file("bursts.html"))
        .code()?;

    let mut table = Table::new(
        "density-bursts: burst figures are p50/p99 over every sample of a level and the median \
         makespan and starts/s over its rounds; memory per instance, medians over rounds",
    );
    let burst_row = |what: String, file: &Result<ResultFile>, key: (&str, &str), launched: u64| {
        Row::or_not_measured(what, Some(NONE), |what| {
            let file = file.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
            let r = read::measured(file, key.0, Some(key.1))?;
            let burst = r.bursts.first().ok_or_else(|| {
                anyhow::anyhow!(
                    "no burst measured: {}",
                    r.burst_skipped_reason
                        .as_deref()
                        .unwrap_or("no reason given")
                )
            })?;
            Ok(Row::count(
                what,
                format!("{}; {}", burst_text(burst, launched), pool(r)),
                lost(burst, launched),
                Some(NONE),
            ))
        })
    };
    let docker_launched = 100 * args.burst_rounds;
    table.push(burst_row(
        format!(
            "100 concurrent docker:runc-none cold starts, {} rounds: samples lost",
            args.burst_rounds
        ),
        &docker_100,
        ("docker", "runc-none"),
        docker_launched,
    ));
    let what = "containers of that run left afterwards";
    table.push(match left {
        Some(Ok(n)) => Row::count(what, format!("{n}"), n, Some(NONE)),
        Some(Err(e)) => Row::not_measured(what, e, Some(NONE)),
        None => Row::not_measured(what, "the burst wrote no result file", Some(NONE)),
    });
    table.push(burst_row(
        format!("10,000 concurrent wasm:pre instantiations, {WASM_ROUNDS} rounds: samples lost"),
        &read::load(&env.file("wasm-10000.json")),
        ("wasm", "pre"),
        10_000 * WASM_ROUNDS,
    ));

    let density = read::load(&env.file("density.json"));
    for (runtime, variant) in [
        ("process", "native"),
        ("wasm", "pre"),
        ("docker", "runc-none"),
        ("vm", "minimal-tcg"),
    ] {
        let what = format!(
            "{runtime}:{variant}, --density {}: memory per live instance, host view / PSS view",
            args.density
        );
        table.push(Row::or_not_measured(what, None, |what| {
            let file = density.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
            let r = read::measured(file, runtime, Some(variant))?;
            let d = r
                .density
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("{runtime}:{variant} has no density figures"))?;
            let kib = |s: Option<coldstart::results::Spread>| {
                s.map_or("?".into(), |s| format!("{:.0} KiB", s.median / 1024.0))
            };
            let reached: Vec<String> = d.raw.iter().map(|x| x.reached.to_string()).collect();
            Ok(Row::report(
                what,
                format!(
                    "{} / {} ({} rounds, reached {}); bring-up of all {}",
                    kib(d.host_bytes_per_instance),
                    kib(d.pss_bytes_per_instance),
                    d.rounds,
                    reached.join(", "),
                    d.bring_up_ns.map_or("?".into(), |s| duration(s.median))
                ),
            ))
        }));
    }
    for line in verdicts.lines().filter(|l| {
        [
            "container-density ",
            "wasm-instance-memory ",
            "container-instance-memory ",
        ]
        .iter()
        .any(|claim| l.starts_with(claim))
    }) {
        table.note(format!("verdict: {}", line.trim_end()));
    }
    let bursts = std::fs::read_to_string(env.file("bursts.txt")).unwrap_or_default();
    let section = bursts_section(&bursts);
    if !section.is_empty() {
        table.note(format!("```\n{}\n```", section.join("\n")));
    }
    table.note(format!(
        "raw files and reports (bursts.html: the plot): {}",
        env.out.display()
    ));
    Ok(table)
}

/// A burst level's figures.
fn burst_text(b: &Burst, launched: u64) -> String {
    let p = |q: fn(&coldstart::stats::Summary) -> u64| {
        b.phases
            .get("total")
            .map_or("?".into(), |s| duration(q(s) as f64))
    };
    format!(
        "{} of {launched} answered and verified, {} invalid, {} failed; launch → answer \
         p50 {}, p99 {}; makespan p50 {}; {} starts/s",
        b.ok,
        b.invalid,
        b.failed,
        p(|s| s.p50_ns),
        p(|s| s.p99_ns),
        b.makespan_ns
            .as_ref()
            .map_or("?".into(), |s| duration(s.p50_ns as f64)),
        b.starts_per_second
            .map_or("?".into(), |s| format!("{:.1}", s.median))
    )
}

/// How the burst was launched, and the pool's size where there is one.
fn pool(r: &coldstart::results::RuntimeResult) -> String {
    let method = r.bursts.first().map_or("", |b| b.method.as_str());
    match r.details.get("pool_instances") {
        Some(n) => format!("pool {n}; {method}"),
        None => method.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_is_lost_unless_it_came_back_verified() {
        let burst = Burst {
            concurrency: 100,
            rounds: 2,
            ok: 199,
            invalid: 1,
            failed: 0,
            phases: Default::default(),
            makespan_ns: None,
            starts_per_second: None,
            method: String::new(),
            notes: Vec::new(),
        };
        assert_eq!(lost(&burst, 200), 1);
        // A round that was asked for and not taken loses its samples too.
        assert_eq!(lost(&burst, 300), 101);
        assert!(!NONE.met_by(lost(&burst, 200) as f64));
        assert!(NONE.met_by(lost(&Burst { ok: 200, ..burst }, 200) as f64));
    }

    #[test]
    fn the_bursts_section_ends_at_the_blank_line() {
        let text = "Runs\nx\n\nBursts: cold starts launched at once\n| a |\n| b |\n\nDensity\n";
        assert_eq!(
            bursts_section(text),
            vec!["Bursts: cold starts launched at once", "| a |", "| b |"]
        );
        assert!(bursts_section("nothing here").is_empty());
    }
}
