//! `compare-aa`: how often `coldstart compare` cries wolf on fresh runs of this
//! machine, and whether it still catches a real change (issue 22), at the side sizes
//! people use: 5v5, 5v3 (the scheduled workflow's), 3v3, 5v1 and 1v1.
//!
//! Nothing is timed here besides what coldstart times in its runs; what is counted is
//! compare's decisions. `--pairs` pairs, each of five rounds of three back-to-back
//! runs (`coldstart run ARGS --seed N`, N counting up over every run): one into side A,
//! one into side B (the same build and settings), one with `--init-iters INIT_ITERS`
//! (heavy init, standing in for a slower build; `--force`, since compare otherwise
//! refuses another workload). Then each pair is compared at each size, the sides
//! being the first runs of A and of B (or of the heavy runs):
//! - A/A: a comparison that flags anything (a regression or an improvement) is a
//!   false alarm. Target with 3 runs a side or more: at most 5% of pairs (rounded
//!   down). With one run a side, compare is advisory: the target is that it never
//!   fails the gate (exit 1); `--gate-single-run --noise-from A` on 5v1 is reported.
//! - A/B: a pair is caught when the cold total of every variant is flagged. Target
//!   with 3 runs a side or more: at least 90% of pairs.
//!
//! Every rate has its exact (Clopper–Pearson) 95% interval: 0 of 30 still allows 12%.

use crate::exec::{self, Setup, Sink};
use crate::table::{Row, Table, Target};
use anyhow::{Context, Result};
use coldstart::results::Mode;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pairs of sides.
    #[arg(long, env = "PAIRS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pairs: u64,
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
}

/// Runs a side, the most any size below takes.
const RUNS: usize = 5;

/// The side sizes compared, baseline × candidate.
const SIZES: [Size; 5] = [
    Size { base: 5, cand: 5 },
    Size { base: 5, cand: 3 },
    Size { base: 3, cand: 3 },
    Size { base: 5, cand: 1 },
    Size { base: 1, cand: 1 },
];

#[derive(Debug, Clone, Copy, PartialEq)]
struct Size {
    base: usize,
    cand: usize,
}

impl Size {
    fn name(self) -> String {
        format!("{}v{}", self.base, self.cand)
    }

    /// Whether compare can gate it without `--gate-single-run`.
    fn gates(self) -> bool {
        self.base.min(self.cand) >= coldstart::analysis::compare::MIN_RUNS
    }
}

/// One group of `coldstart compare --format json`, the fields counted here.
/// (`coldstart::analysis::compare::CompareResult` is written by compare, not read back by the crate.)
#[derive(Debug, Clone, Deserialize)]
struct Compared {
    group: Group,
    ratio: f64,
    /// `regression`, `improvement`, `no_change`, `advisory` or `not_gated`.
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
    /// Gated groups tested (the rest of the gated ones were advisory).
    tested: usize,
}

impl Comparison {
    /// For a size that gates: every total was tested (a failed run can leave a side
    /// below 3 runs, and then nothing is tested and nothing can flag).
    fn all_tested(&self) -> Result<()> {
        let totals = self
            .compared
            .iter()
            .filter(|g| g.group.phase == "total")
            .count();
        if totals == 0 || self.tested < totals {
            anyhow::bail!(
                "{} of {totals} totals tested: a side lost runs (see the run files)",
                self.tested
            );
        }
        Ok(())
    }
}

/// A comparison and the exit code compare gave it.
struct Decided {
    comparison: Comparison,
    code: i32,
}

impl Compared {
    fn flagged(&self) -> bool {
        self.change == "regression" || self.change == "improvement"
    }

    fn name(&self) -> String {
        format!(
            "{}:{} {} {} {} ×{:.2}",
            self.group.runtime,
            self.group.variant,
            self.group.mode.name(),
            self.group.phase,
            self.change,
            self.ratio
        )
    }
}

/// The groups flagged either way.
fn false_alarms(c: &Comparison) -> Vec<String> {
    c.compared
        .iter()
        .filter(|g| g.flagged())
        .map(Compared::name)
        .collect()
}

/// Whether the `mode` total of every variant is flagged as a regression (and there
/// is one at all).
fn caught(c: &Comparison, mode: Mode) -> bool {
    let totals: Vec<&Compared> = c
        .compared
        .iter()
        .filter(|g| g.group.phase == "total" && g.group.mode == mode)
        .collect();
    !totals.is_empty() && totals.iter().all(|g| g.change == "regression")
}

/// The runs of one pair, in the order they were taken.
struct Pair {
    a: Vec<PathBuf>,
    b: Vec<PathBuf>,
    heavy: Vec<PathBuf>,
}

/// What is compared against side A.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Against {
    B,
    Heavy,
}

pub fn run(setup: &Setup, args: &Args) -> Result<Table> {
    let env = setup.prepare("compare-aa")?;
    let flags: Vec<&str> = args.run_args.split_whitespace().collect();
    let init = ["--init-iters".to_string(), args.init_iters.to_string()];
    let mut seed = 0u64;
    let mut pairs = Vec::new();
    for p in 1..=args.pairs {
        let dir = env.file(format!("runs/{p}"));
        let mut pair = Pair {
            a: Vec::new(),
            b: Vec::new(),
            heavy: Vec::new(),
        };
        for r in 1..=RUNS {
            env.say(format!("pair {p} of {}, round {r} of {RUNS}", args.pairs));
            for (side, extra) in [
                (&mut pair.a, &[][..]),
                (&mut pair.b, &[][..]),
                (&mut pair.heavy, &init[..]),
            ] {
                seed += 1;
                side.push(one_run(&env, &dir, &flags, extra, seed)?);
            }
        }
        pairs.push(pair);
    }

    env.say("comparing");
    let compare =
        |name: &str, base: &[PathBuf], cand: &[PathBuf], gate_single: bool| -> Result<Decided> {
            let dir = env.file(format!("sides/{name}"));
            let side = |which: &str, runs: &[PathBuf]| -> Result<PathBuf> {
                let d = dir.join(which);
                std::fs::create_dir_all(&d)
                    .with_context(|| format!("cannot create {}", d.display()))?;
                // A run that failed wrote nothing: the side holds the others.
                for run in runs.iter().filter(|r| r.is_file()) {
                    let to = d.join(run.file_name().expect("a run file"));
                    std::fs::copy(run, &to)
                        .with_context(|| format!("cannot copy {}", run.display()))?;
                }
                Ok(d)
            };
            let (base, cand) = (side("base", base)?, side("cand", cand)?);
            let out = env.file(format!("{name}.json"));
            let mut step = env
                .coldstart(["compare"])
                .arg(&base)
                .arg(&cand)
                .args(["--format", "json", "--force"]);
            if gate_single {
                step = step.args(["--gate-single-run", "--noise-from"]).arg(&base);
            }
            let code = step
                .stdout(Sink::File(out.clone()))
                .stderr(Sink::File(env.file(format!("{name}.err"))))
                .code()?;
            let text = std::fs::read_to_string(&out)
                .with_context(|| format!("cannot read {}", out.display()))?;
            let comparison = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: compare wrote no comparison (exit {code}; see {name}.err)",
                    out.display()
                )
            })?;
            Ok(Decided { comparison, code })
        };
    // Every pair's comparison at `size`; where the size gates (`gates`), one whose
    // totals were not all tested is an error, not a comparison that flags nothing.
    let decide =
        |against: Against, size: Size, gate_single: bool, gates: bool| -> Result<Vec<Decided>> {
            pairs
                .iter()
                .enumerate()
                .map(|(p, pair)| {
                    let cand = match against {
                        Against::B => &pair.b,
                        Against::Heavy => &pair.heavy,
                    };
                    let name = format!(
                        "{}-{}{}-{}",
                        if against == Against::B { "aa" } else { "heavy" },
                        size.name(),
                        if gate_single { "-gated" } else { "" },
                        p + 1
                    );
                    let decided =
                        compare(&name, &pair.a[..size.base], &cand[..size.cand], gate_single)?;
                    if gates {
                        decided
                            .comparison
                            .all_tested()
                            .with_context(|| format!("pair {}", p + 1))?;
                    }
                    Ok(decided)
                })
                .collect()
        };

    let n = args.pairs;
    let mut table = Table::new(format!(
        "compare-aa: {n} pairs of fresh runs (`{}`), compared at each side size; counts of \
         pairs, with exact 95% intervals",
        args.run_args
    ));
    let allowed = (n as f64 * 0.05).floor();
    let must_catch = (n as f64 * 0.9).ceil();
    for size in SIZES {
        let mut cases = vec![(false, size.gates())];
        if size == (Size { base: 5, cand: 1 }) {
            cases.push((true, true));
        }
        for (gate_single, gates) in cases {
            let how = if gate_single {
                format!("{}, --gate-single-run --noise-from A", size.name())
            } else {
                size.name()
            };
            // A/A.
            let what = if gates {
                format!("A/A {how}: pairs that flag anything")
            } else {
                format!("A/A {how} (advisory): pairs whose compare fails the gate (exit 1)")
            };
            let target = match (gates, gate_single) {
                (true, false) => Some(Target::AtMost(allowed)),
                (false, _) => Some(Target::AtMost(0.0)),
                (true, true) => None,
            };
            table.push(Row::or_not_measured(what, target, |what| {
                let decided = decide(Against::B, size, gate_single, gates)?;
                let mut which = Vec::new();
                let mut count = 0u64;
                for (p, d) in decided.iter().enumerate() {
                    let alarms = false_alarms(&d.comparison);
                    let counted = if gates {
                        !alarms.is_empty()
                    } else {
                        d.code == 1
                    };
                    if counted {
                        count += 1;
                        which.push(format!("pair {}: {}", p + 1, alarms.join("; ")));
                    }
                }
                let mut measured = rate(count, n);
                if !which.is_empty() {
                    measured.push_str(&format!(" ({})", which.join(" / ")));
                }
                Ok(match target {
                    Some(_) => Row::count(what, measured, count, target),
                    None => Row::report(what, measured),
                })
            }));
            // A/B: heavy init.
            let what = format!(
                "A/B `--init-iters {}` {how}: pairs with the cold total of every variant flagged",
                args.init_iters
            );
            let target = (gates && !gate_single).then_some(Target::AtLeast(must_catch));
            table.push(Row::or_not_measured(what, target, |what| {
                let decided = decide(Against::Heavy, size, gate_single, gates)?;
                let hits = decided
                    .iter()
                    .filter(|d| caught(&d.comparison, Mode::Cold))
                    .count() as u64;
                let warm = decided
                    .iter()
                    .filter(|d| {
                        d.comparison
                            .compared
                            .iter()
                            .any(|g| g.group.mode == Mode::Warm && g.flagged())
                    })
                    .count();
                let measured = format!("{}; {warm} with a warm total flagged", rate(hits, n));
                Ok(match target {
                    Some(_) => Row::count(what, measured, hits, target),
                    None => Row::report(what, measured),
                })
            }));
        }
    }
    table.note(format!("raw files: {}", env.out.display()));
    Ok(table)
}

/// `k of n (95% CI lo–hi%)`, the exact interval.
fn rate(k: u64, n: u64) -> String {
    let ci = coldstart::stats::clopper_pearson(k, n, 0.95);
    format!(
        "{k} of {n} ({:.1}%, 95% CI {:.1}–{:.1}%)",
        100.0 * k as f64 / n as f64,
        100.0 * ci.lo,
        100.0 * ci.hi
    )
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
                    "ratio": ratio, "change": change
                })
            })
            .collect();
        let tested = groups.iter().filter(|g| g.2 != "advisory").count();
        serde_json::from_value(serde_json::json!({ "compared": compared, "tested": tested }))
            .unwrap()
    }

    #[test]
    fn a_change_is_caught_only_when_every_variants_total_is_flagged() {
        let all = comparison(&[
            ("aot", "cold", "regression", 42.0),
            ("pre", "cold", "regression", 760.0),
            ("pre", "warm", "no_change", 1.01),
        ]);
        assert!(caught(&all, Mode::Cold));
        assert!(!caught(&all, Mode::Warm));
        let one_missed = comparison(&[
            ("aot", "cold", "regression", 42.0),
            ("pre", "cold", "advisory", 1.3),
        ]);
        assert!(!caught(&one_missed, Mode::Cold));
        // A comparison with an advisory total cannot count for a size that gates.
        assert!(all.all_tested().is_ok());
        assert!(one_missed.all_tested().is_err());
        // Nothing compared is nothing caught.
        assert!(!caught(&comparison(&[]), Mode::Cold));
    }

    #[test]
    fn any_flag_either_way_is_a_false_alarm_and_advisory_is_not() {
        let quiet = comparison(&[
            ("aot", "cold", "no_change", 1.02),
            ("pre", "warm", "advisory", 0.7),
        ]);
        assert!(false_alarms(&quiet).is_empty());
        let noisy = comparison(&[
            ("aot", "cold", "regression", 1.42),
            ("pre", "warm", "improvement", 0.8),
        ]);
        assert_eq!(
            false_alarms(&noisy),
            vec![
                "wasm:aot cold total regression ×1.42",
                "wasm:pre warm total improvement ×0.80"
            ]
        );
    }

    #[test]
    fn only_three_runs_a_side_gate_and_rates_carry_their_interval() {
        assert!(Size { base: 5, cand: 3 }.gates());
        assert!(!Size { base: 5, cand: 1 }.gates());
        assert_eq!(rate(0, 30), "0 of 30 (0.0%, 95% CI 0.0–11.6%)");
    }
}
