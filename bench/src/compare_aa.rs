//! `compare-aa`: how often `coldstart compare` cries wolf, and whether it still catches
//! a real change (issue 15), on this machine.
//!
//! Nothing is timed here besides what coldstart times in its runs; what is counted is
//! compare's decisions. `--pairs` pairs, each of `--runs` rounds of four back-to-back
//! runs (`coldstart run ARGS --seed N`, N counting up from 1 over every run): a run
//! into side A, one into side B (the same build and settings), one with
//! `--init-iters INIT_ITERS`, one with `--invoke-iters INVOKE_ITERS`. Then each pair
//! is compared (`coldstart compare BASE CAND --format json --force`: the heavy runs
//! stand in for a slower build by their probe parameters, which compare otherwise
//! refuses as another workload) with all runs a side (the directories) and with one
//! run a side (each side's first run):
//! - A/A, A against B: a comparison flagging any group is a false alarm. Target with
//!   all runs a side: at most 1 pair in 10 (`pairs / 10`, rounded down). One run a
//!   side is reported only: one run cannot show run-to-run noise.
//! - A/B, A against the heavy init runs: the cold total of every variant must be
//!   flagged; against the heavy invocation runs, the warm total. Target: every pair,
//!   with all runs a side and with one.

use crate::exec::{self, Setup, Sink};
use crate::table::{Row, Table, Target};
use anyhow::{Context, Result};
use coldstart::results::Mode;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pairs of sides.
    #[arg(long, env = "PAIRS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pairs: u64,
    /// Runs a side.
    #[arg(long, env = "RUNS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// The flags of every run, split at spaces.
    #[arg(
        long,
        env = "ARGS",
        default_value = "--runtime process,wasm:aot,wasm:pre --cold 30 --warm 100",
        allow_hyphen_values = true
    )]
    run_args: String,
    /// Probe init hash rounds of the heavy-init side.
    #[arg(long, env = "INIT_ITERS", default_value_t = 2_000_000)]
    init_iters: u64,
    /// Hash rounds per invocation of the heavy-invocation side (200000 takes a tenth of
    /// the time and is still a >100x change of a warm round trip).
    #[arg(long, env = "INVOKE_ITERS", default_value_t = 2_000_000)]
    invoke_iters: u64,
}

/// One group of `coldstart compare --format json`, the fields counted here.
/// (`coldstart::analysis::compare::CompareResult` is written by compare, not read back by the crate.)
#[derive(Debug, Clone, Deserialize)]
struct Compared {
    group: Group,
    ratio: f64,
    /// `regression`, `improvement`, `no_change` or `not_gated`.
    change: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Group {
    runtime: String,
    variant: String,
    mode: Mode,
    phase: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Comparison {
    compared: Vec<Compared>,
}

impl Compared {
    fn flagged(&self) -> bool {
        self.change == "regression"
    }
}

/// The groups flagged as regressions, as `runtime:variant mode phase ×ratio`.
fn false_alarms(c: &Comparison) -> Vec<String> {
    c.compared
        .iter()
        .filter(|g| g.flagged())
        .map(|g| {
            format!(
                "{}:{} {} {} ×{:.2}",
                g.group.runtime,
                g.group.variant,
                g.group.mode.name(),
                g.group.phase,
                g.ratio
            )
        })
        .collect()
}

/// Whether the `mode` total of every variant is flagged (and there is one at all),
/// with the ratios of those totals.
fn caught(c: &Comparison, mode: Mode) -> (bool, Vec<f64>) {
    let totals: Vec<&Compared> = c
        .compared
        .iter()
        .filter(|g| g.group.phase == "total" && g.group.mode == mode)
        .collect();
    let all = !totals.is_empty() && totals.iter().all(|g| g.flagged());
    (all, totals.iter().map(|g| g.ratio).collect())
}

/// The dirs of one pair and the first run into each.
struct Pair {
    a: PathBuf,
    b: PathBuf,
    init: PathBuf,
    invoke: PathBuf,
    first: [Option<PathBuf>; 4],
}

pub fn run(setup: &Setup, args: &Args) -> Result<Table> {
    let env = setup.prepare("compare-aa")?;
    let flags: Vec<&str> = args.run_args.split_whitespace().collect();
    let mut seed = 0u64;
    let mut pairs = Vec::new();
    for p in 1..=args.pairs {
        let dir = |kind: &str| env.file(kind).join(p.to_string());
        let mut pair = Pair {
            a: dir("aa").join("a"),
            b: dir("aa").join("b"),
            init: dir("init"),
            invoke: dir("invoke"),
            first: Default::default(),
        };
        for r in 1..=args.runs {
            env.say(format!(
                "pair {p} of {}, round {r} of {}",
                args.pairs, args.runs
            ));
            let init = ["--init-iters".to_string(), args.init_iters.to_string()];
            let invoke = ["--invoke-iters".to_string(), args.invoke_iters.to_string()];
            let sides: [(&Path, &[String]); 4] = [
                (&pair.a, &[]),
                (&pair.b, &[]),
                (&pair.init, &init),
                (&pair.invoke, &invoke),
            ];
            for (i, (dir, extra)) in sides.into_iter().enumerate() {
                seed += 1;
                let path = one_run(&env, dir, &flags, extra, seed)?;
                pair.first[i].get_or_insert(path);
            }
        }
        pairs.push(pair);
    }

    env.say("comparing");
    let compare = |name: &str, base: &Path, cand: &Path| -> Result<Comparison> {
        let out = env.file(format!("{name}.json"));
        // Exit 1 is a flagged regression; the JSON says which.
        env.coldstart(["compare"])
            .arg(base)
            .arg(cand)
            .args(["--format", "json", "--force"])
            .stdout(Sink::File(out.clone()))
            .stderr(Sink::File(env.file(format!("{name}.err"))))
            .code()?;
        let text = std::fs::read_to_string(&out)
            .with_context(|| format!("cannot read {}", out.display()))?;
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: compare wrote no comparison (see {name}.err)",
                out.display()
            )
        })
    };
    let first = |path: &Option<PathBuf>| path.clone().unwrap_or_default();
    let mut results: Vec<[[Result<Comparison>; 3]; 2]> = Vec::new();
    for (p, pair) in pairs.iter().enumerate() {
        let p = p + 1;
        let all_runs = [
            compare(&format!("aa-{p}-runs"), &pair.a, &pair.b),
            compare(&format!("init-{p}-runs"), &pair.a, &pair.init),
            compare(&format!("invoke-{p}-runs"), &pair.a, &pair.invoke),
        ];
        let one_run = [
            compare(
                &format!("aa-{p}-one"),
                &first(&pair.first[0]),
                &first(&pair.first[1]),
            ),
            compare(
                &format!("init-{p}-one"),
                &first(&pair.first[0]),
                &first(&pair.first[2]),
            ),
            compare(
                &format!("invoke-{p}-one"),
                &first(&pair.first[0]),
                &first(&pair.first[3]),
            ),
        ];
        results.push([all_runs, one_run]);
    }

    let mut table = Table::new(format!(
        "compare-aa: {} pairs, {} runs a side (`{}`); counts of comparisons",
        args.pairs, args.runs, args.run_args
    ));
    let allowed = (args.pairs / 10) as f64;
    for (kind, label) in [
        (0, format!("{} runs a side", args.runs)),
        (1, "1 run a side".to_string()),
    ] {
        let of = |which: usize| -> Vec<&Result<Comparison>> {
            results.iter().map(|r| &r[kind][which]).collect()
        };
        // A/A.
        let target = (kind == 0).then_some(Target::AtMost(allowed));
        let what = format!("A/A, {label}: comparisons that flag anything");
        table.push(Row::or_not_measured(what, target, |what| {
            let mut alarms = 0;
            let mut which = Vec::new();
            for (p, c) in of(0).into_iter().enumerate() {
                let c = c
                    .as_ref()
                    .map_err(|e| anyhow::anyhow!("pair {}: {e:#}", p + 1))?;
                let flagged = false_alarms(c);
                if !flagged.is_empty() {
                    alarms += 1;
                    which.push(format!("pair {}: {}", p + 1, flagged.join("; ")));
                }
            }
            let mut measured = format!("{alarms} of {}", args.pairs);
            if !which.is_empty() {
                measured.push_str(&format!(" ({})", which.join(" / ")));
            }
            Ok(Row::count(what, measured, alarms, target))
        }));
        // A/B.
        for (which, change, iters, mode) in [
            (1, "init", args.init_iters, Mode::Cold),
            (2, "invoke", args.invoke_iters, Mode::Warm),
        ] {
            let target = Some(Target::AtLeast(args.pairs as f64));
            let what = format!(
                "A/B `--{change}-iters {iters}`, {label}: pairs with the {} total of every variant flagged",
                mode.name()
            );
            table.push(Row::or_not_measured(what, target, |what| {
                let mut hits = 0;
                let mut ratios = Vec::new();
                for (p, c) in of(which).into_iter().enumerate() {
                    let c = c
                        .as_ref()
                        .map_err(|e| anyhow::anyhow!("pair {}: {e:#}", p + 1))?;
                    let (all, r) = caught(c, mode);
                    hits += u64::from(all);
                    ratios.extend(r);
                }
                let (lo, hi) = ratios.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), r| {
                    (lo.min(*r), hi.max(*r))
                });
                Ok(Row::count(
                    what,
                    format!("{hits} of {} (ratios ×{lo:.0} to ×{hi:.0})", args.pairs),
                    hits,
                    target,
                ))
            }));
        }
    }
    table.note(format!("raw files: {}", env.out.display()));
    Ok(table)
}

/// One more run into `dir`; a failed run is said and the benchmark goes on (compare
/// then reads what the side holds).
fn one_run(
    env: &exec::Env,
    dir: &Path,
    flags: &[&str],
    extra: &[String],
    seed: u64,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("run-{seed:03}.json"));
    let code = env
        .coldstart(["run"])
        .args(flags)
        .args(extra)
        .args(["--seed", &seed.to_string(), "--export-json"])
        .arg(&path)
        .stdout(Sink::Null)
        .stderr(Sink::Null)
        .code()?;
    if code != 0 {
        env.say(format!("a run into {} failed (exit {code})", dir.display()));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(groups: &[(&str, &str, &str, f64)]) -> Comparison {
        let compared: Vec<serde_json::Value> = groups
            .iter()
            .map(|(variant, mode, change, ratio)| {
                serde_json::json!({
                    "group": {"runtime": "wasm", "variant": variant, "mode": mode, "phase": "total"},
                    "ratio": ratio, "change": change, "p_value": 0.01
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({ "compared": compared, "notes": [] })).unwrap()
    }

    #[test]
    fn a_change_is_caught_only_when_every_variants_total_is_flagged() {
        let all = comparison(&[
            ("aot", "cold", "regression", 42.0),
            ("pre", "cold", "regression", 760.0),
            ("pre", "warm", "no_change", 1.01),
        ]);
        assert_eq!(caught(&all, Mode::Cold), (true, vec![42.0, 760.0]));
        assert!(!caught(&all, Mode::Warm).0);
        let one_missed = comparison(&[
            ("aot", "cold", "regression", 42.0),
            ("pre", "cold", "no_change", 1.3),
        ]);
        assert!(!caught(&one_missed, Mode::Cold).0);
        // Nothing compared is nothing caught.
        assert!(!caught(&comparison(&[]), Mode::Cold).0);
    }

    #[test]
    fn any_flagged_group_is_a_false_alarm_and_an_improvement_is_not() {
        let quiet = comparison(&[
            ("aot", "cold", "no_change", 1.02),
            ("pre", "warm", "improvement", 0.7),
        ]);
        assert!(false_alarms(&quiet).is_empty());
        let noisy = comparison(&[
            ("aot", "cold", "regression", 1.42),
            ("pre", "warm", "no_change", 1.0),
        ]);
        assert_eq!(false_alarms(&noisy), vec!["wasm:aot cold total ×1.42"]);
    }
}
