//! `engines`: the container engines against their own CLIs (issue 14), side by side on
//! this machine.
//!
//! Which of docker:runc-none, docker:crun-none, docker:runsc-none (gVisor) and
//! podman:runc-none can run here is what `coldstart runtimes` (with each variant's
//! preflight) says; the others are reported with its reason. Then `--rounds` rounds
//! of: one `coldstart run` of the runnable ones (`--cold RUNS --warm 100 --warmup 3`;
//! our clock: create to the first verified response, the teardown, stop and remove,
//! apart), then one `hyperfine -N --warmup 3 --runs RUNS` run of each engine's own CLI
//! for the same lifecycle: `docker run --rm --network none --runtime OCI <hardening>
//! IMAGE_ID once` / `podman run --rm --network none <hardening> IMAGE_ID once`, the
//! image by the id that round's run used. The figure per variant: the median over
//! rounds of coldstart's cold p50 + teardown p50 (the span the CLI covers) over the
//! median over rounds of hyperfine's median. Target ≤ 1.0: the harness must not be
//! slower than the CLI for the same lifecycle.

use crate::exec::{self, Setup, Sink};
use crate::hyperfine::{self, Hyperfine};
use crate::read;
use crate::table::{duration, median, rounds, Row, Table, Target};
use anyhow::{bail, Result};
use coldstart::results::Mode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rounds of one coldstart run and one hyperfine run.
    #[arg(long, env = "ROUNDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// Cold starts per round and variant, of each tool.
    #[arg(long, env = "RUNS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Podman's service, for coldstart and the podman CLI alike.
    #[arg(
        long,
        env = "CONTAINER_HOST",
        default_value = "unix:///run/podman/podman.sock"
    )]
    podman_host: String,
}

const RATIO: Target = Target::AtMost(1.0);

/// The variants compared, in this order.
const WANTED: [&str; 4] = [
    "docker:runc-none",
    "docker:crun-none",
    "docker:runsc-none",
    "podman:runc-none",
];

const HARDENING: &str = "--read-only --cap-drop ALL --security-opt no-new-privileges --memory 256m";

/// What `coldstart runtimes` says of one wanted variant.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Availability {
    Runnable,
    NotRunnable(String),
}

/// Reads `coldstart runtimes`' listing: a variant is runnable when its line is the
/// bare `  runtime:variant`; `  runtime:variant  not available: REASON` gives the
/// reason; a runtime's own `runtime   no   REASON` line covers all its variants.
fn availability(listing: &str, wanted: &str) -> Availability {
    let runtime = wanted.split(':').next().unwrap_or(wanted);
    for line in listing.lines() {
        if line == format!("  {wanted}") {
            return Availability::Runnable;
        }
        if let Some(reason) = line
            .trim()
            .strip_prefix(wanted)
            .and_then(|rest| rest.trim_start().strip_prefix("not available: "))
        {
            return Availability::NotRunnable(reason.trim().to_string());
        }
        let mut words = line.split_whitespace();
        if words.next() == Some(runtime) && words.next() == Some("no") {
            let reason: Vec<&str> = words.collect();
            return Availability::NotRunnable(format!("{runtime}: {}", reason.join(" ")));
        }
    }
    Availability::NotRunnable("`coldstart runtimes` does not list it".into())
}

/// The engine CLI's command line for the same lifecycle as coldstart's variant.
fn cli_command(variant: &str, image_id: &str) -> String {
    let (engine, rest) = variant.split_once(':').unwrap_or((variant, ""));
    let oci = rest.strip_suffix("-none").unwrap_or(rest);
    if engine == "docker" {
        format!("docker run --rm --network none --runtime {oci} {HARDENING} {image_id} once")
    } else {
        format!("podman run --rm --network none {HARDENING} {image_id} once")
    }
}

pub fn run(setup: &Setup, args: &Args) -> Result<Table> {
    exec::require("hyperfine", "apt-get install -y hyperfine")?;
    exec::require("podman", "apt-get install -y podman")?;
    // The scripts exported it: coldstart and the podman CLI both read it. This
    // program runs one thread, so nothing reads the environment meanwhile.
    std::env::set_var("CONTAINER_HOST", &args.podman_host);
    let env = setup.prepare("engines")?;

    env.say("which variants can run here (`coldstart runtimes`, with preflights)");
    let listing = env.coldstart(["runtimes"]).stderr(Sink::Null).text()?;
    std::fs::write(env.file("runtimes.txt"), &listing)?;
    let status: Vec<(&str, Availability)> = WANTED
        .iter()
        .map(|v| (*v, availability(&listing, v)))
        .collect();
    let runnable: Vec<&str> = status
        .iter()
        .filter(|(_, a)| *a == Availability::Runnable)
        .map(|(v, _)| *v)
        .collect();
    if runnable.is_empty() {
        bail!(
            "none of {} can run here (see {})",
            WANTED.join(", "),
            env.file("runtimes.txt").display()
        );
    }
    let list = runnable.join(",");
    let runs = args.runs.to_string();
    for round in 1..=args.rounds {
        env.say(format!("round {round} of {}: {list}", args.rounds));
        let results = env.file(format!("engines-{round}.json"));
        env.coldstart(["run", "--runtime", &list, "--cold", &runs, "--warm", "100"])
            .args([
                "--warmup",
                "3",
                "--seed",
                &round.to_string(),
                "--export-json",
            ])
            .arg(&results)
            .stdout(Sink::Null)
            .stderr(Sink::File(env.file(format!("engines-{round}.err"))))
            .check_measured()?;
        let file = read::load(&results)?;
        let commands = runnable
            .iter()
            .map(|v| {
                let (runtime, variant) = v.split_once(':').unwrap_or((v, ""));
                let r = read::measured(&file, runtime, Some(variant))?;
                Ok(cli_command(v, read::detail(r, "image_id")?))
            })
            .collect::<Result<Vec<String>>>()?;
        Hyperfine {
            warmup: 3,
            runs: args.runs,
            export: env.file(format!("hyperfine-{round}.json")),
            commands,
        }
        .step()
        .check()?;
    }

    let mut table = Table::new(format!(
        "engines: medians over {} rounds (coldstart's per-round p50s, the CLI's per-round \
         hyperfine median), {} cold + 100 warm a round",
        args.rounds, args.runs
    ));
    for (variant, availability) in &status {
        let what = format!("{variant}: cold + teardown p50 vs the engine's CLI");
        if let Availability::NotRunnable(reason) = availability {
            table.push(Row::not_measured(
                what,
                format!("cannot run here: {reason}"),
                None,
            ));
            continue;
        }
        let index = runnable.iter().position(|v| v == variant).unwrap_or(0);
        table.push(Row::or_not_measured(what, Some(RATIO), |what| {
            let (mut cold, mut both, mut warm, mut cli) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let (runtime, name) = variant.split_once(':').unwrap_or((variant, ""));
            for round in 1..=args.rounds {
                let file = read::load(&env.file(format!("engines-{round}.json")))?;
                let r = read::measured(&file, runtime, Some(name))?;
                let c = read::p50(r, Mode::Cold, "total")?;
                cold.push(c);
                both.push(c + read::teardown_p50(r)?);
                warm.push(read::p50(r, Mode::Warm, "total")?);
                let path = env.file(format!("hyperfine-{round}.json"));
                cli.push(hyperfine::command(&hyperfine::load(&path)?, index, &path)?.median_ns());
            }
            Ok(Row::ratio(
                what,
                format!(
                    "cold {}, cold + teardown {} ({}); CLI {} ({}); warm {}",
                    duration(median(&cold)),
                    duration(median(&both)),
                    rounds(&both),
                    duration(median(&cli)),
                    rounds(&cli),
                    duration(median(&warm))
                ),
                median(&both) / median(&cli),
                Some(RATIO),
            ))
        }));
    }
    table.note(format!("raw files: {}", env.out.display()));
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "\
process   yes  probe 0.1.0
  process:native
docker    yes  docker 20.10.24
  docker:runc-none
  docker:runc-none-extra
  docker:crun-none  not available: crun: cannot set up cgroups: hybrid
  docker:runsc-none
podman    no   no Podman service at unix:///run/podman/podman.sock
";

    #[test]
    fn the_listing_says_which_variants_run() {
        assert_eq!(
            availability(LISTING, "docker:runc-none"),
            Availability::Runnable
        );
        assert_eq!(
            availability(LISTING, "docker:runsc-none"),
            Availability::Runnable
        );
        assert_eq!(
            availability(LISTING, "docker:crun-none"),
            Availability::NotRunnable("crun: cannot set up cgroups: hybrid".into())
        );
        let Availability::NotRunnable(reason) = availability(LISTING, "podman:runc-none") else {
            panic!("podman has no service here");
        };
        assert!(reason.contains("no Podman service"), "{reason}");
        assert!(matches!(
            availability("", "docker:runc-none"),
            Availability::NotRunnable(_)
        ));
    }

    #[test]
    fn each_engines_cli_gets_the_variants_oci_runtime() {
        assert_eq!(
            cli_command("docker:runsc-none", "sha256:ab"),
            format!("docker run --rm --network none --runtime runsc {HARDENING} sha256:ab once")
        );
        assert!(cli_command("podman:runc-none", "x")
            .starts_with("podman run --rm --network none --read-only"));
    }
}
