//! Bursts (`--burst 1,10,50`): cold starts under concurrency, as SeBS's burst
//! invocations and STeLLAR's bursts measure them.
//!
//! For each level C and each variant, `--burst-rounds` rounds of C cold starts are
//! launched at one instant ([`Runner::burst`]: all issued together, none waiting for
//! another's answer; wasm on a pool of one thread per core, parked
//! until the launch; AWS Lambda after one untimed update that retires every warm
//! environment). Each sample is timed from that common launch instant to its own
//! first response, and verified as any cold start is (a new instance, index 0, the
//! checksum of its own nonce). Its phases: `wait`, the part before the runner began
//! on it (the spawns issued before its own, the pool's queue); the runner's own
//! phases; and, for a runner that spawns from the harness's thread (process, VM,
//! the Lambda emulator), `held` after its spawn: at the round's
//! [`crate::runner::LaunchGate`] while the spawns after its own ran (the instance
//! runs meanwhile), so its later phases run from the gate and absorb no spawn. The round's makespan runs from the
//! launch to its last response. Then every instance is torn down, untimed and one
//! after another, before the next round. No round starts below the memory floor or
//! after Ctrl-C. Each sample's timeout (`--timeout`) runs from its own start: a
//! large burst on few cores needs a longer one than a single cold start.

use crate::measure::record;
use crate::measure::verify::Verifier;
use crate::phase::nanos;
use crate::results::{hex, Burst, Mode, Outcome, Sample, Spread};
use crate::runner::{footprint, BurstStart, Request, Runner, StartRequest};
use crate::stats;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub levels: Vec<u64>,
    pub rounds: u64,
    pub invoke_iters: u64,
}

/// What one variant's bursts gave.
pub struct BurstRun {
    pub bursts: Vec<Burst>,
    pub samples: Vec<Sample>,
    /// Why the variant takes no part in bursts.
    pub skipped: Option<String>,
    /// Teardowns that failed.
    pub teardown_errors: Vec<String>,
}

/// Runs every level's rounds on one runner. `seq` numbers the samples on from the
/// run's last one.
pub async fn run(
    runner: &dyn Runner,
    plan: &Plan,
    verifier: &mut Verifier,
    interrupted: &AtomicBool,
    seq: &mut u64,
) -> BurstRun {
    let key = runner.key().clone();
    let mut taken = BurstRun {
        bursts: Vec::new(),
        samples: Vec::new(),
        skipped: None,
        teardown_errors: Vec::new(),
    };
    for &level in &plan.levels {
        let mut notes = Vec::new();
        let mut samples: Vec<Sample> = Vec::new();
        let mut makespans = Vec::new();
        let mut rates = Vec::new();
        let mut rounds = 0;
        for round in 0..plan.rounds {
            if interrupted.load(Ordering::Relaxed) {
                notes.push(format!("interrupted before round {round}"));
                break;
            }
            if let Some(why) = footprint::below_floor() {
                notes.push(format!("round {round} not taken: {why}"));
                break;
            }
            let starts: Vec<StartRequest> = (0..level)
                .map(|_| StartRequest {
                    instance_nonce: rand::random(),
                    request: Request {
                        seq: {
                            *seq += 1;
                            *seq
                        },
                        nonce: rand::random(),
                        iters: plan.invoke_iters,
                    },
                })
                .collect();
            let outcomes = match runner.burst(&starts).await {
                Ok(outcomes) => outcomes,
                Err(why) => {
                    taken.skipped = Some(why);
                    return taken;
                }
            };
            rounds += 1;
            let mut instances = Vec::new();
            let mut last = None;
            let mut ok_in_round = 0u64;
            for (asked, outcome) in starts.iter().zip(outcomes) {
                let request = &asked.request;
                let mut sample = Sample {
                    concurrency: Some(level),
                    round: Some(round),
                    ..Sample::unanswered(request.seq, &key, Mode::Cold, request.nonce)
                };
                sample.instance_nonce = Some(hex(asked.instance_nonce));
                match outcome {
                    Err(e) => sample.error = Some(e.to_string()),
                    Ok(BurstStart {
                        cold: start,
                        since_launch,
                    }) => {
                        let took_ns = nanos(since_launch);
                        last = Some(last.map_or(took_ns, |l: u64| l.max(took_ns)));
                        let init = verifier.started(&start, asked);
                        let expected = verifier.expect(&init, request);
                        let verdict = verifier
                            .cold(&start.response, &expected)
                            .and(start.not_cold.clone().map_or(Ok(()), Err));
                        record::record_cold(&mut sample, &start);
                        // From the common launch, not from its own start.
                        sample.total_ns = Some(took_ns);
                        sample
                            .phases_ns
                            .insert("wait".into(), took_ns.saturating_sub(start.times.total_ns));
                        record::record_expected(&mut sample, &expected);
                        record::record_verdict(&mut sample, verdict);
                        ok_in_round += u64::from(sample.ok);
                        instances.push(start.instance);
                    }
                }
                samples.push(sample);
            }
            if let Some(makespan) = last {
                makespans.push(makespan);
                rates.push(ok_in_round as f64 / (makespan.max(1) as f64 / 1e9));
            }
            // Untimed: every instance of the round goes before the next round, one
            // after another: a hundred containers exiting and removed at once
            // deadlocked Docker 20.10's network controller here.
            for instance in instances {
                if let Err(e) = instance.teardown().await {
                    taken
                        .teardown_errors
                        .push(format!("{key}: a burst instance ({level} at once): {e}"));
                }
            }
        }
        taken.bursts.push(summarize(
            level, rounds, &samples, &makespans, &rates, runner, notes,
        ));
        taken.samples.extend(samples);
    }
    taken
}

/// One level's figures, derived from its samples.
fn summarize(
    level: u64,
    rounds: u64,
    samples: &[Sample],
    makespans: &[u64],
    rates: &[f64],
    runner: &dyn Runner,
    notes: Vec<String>,
) -> Burst {
    let count = |o: Outcome| samples.iter().filter(|s| s.outcome == o).count() as u64;
    let valid: Vec<&Sample> = samples.iter().filter(|s| s.ok).collect();
    let mut phases = BTreeMap::new();
    let mut names: Vec<String> = vec!["wait".into()];
    names.extend(runner.cold_phases().iter().map(|p| p.to_string()));
    names.push(crate::runner::launch_gate::HELD.into());
    names.push(crate::phase::TOTAL.into());
    for name in names {
        let values = valid.iter().filter_map(|s| {
            if name == crate::phase::TOTAL {
                s.total_ns
            } else {
                s.phases_ns.get(&name).copied()
            }
        });
        if let Some(summary) = stats::summarize(&stats::record(values)) {
            phases.insert(name, summary);
        }
    }
    Burst {
        concurrency: level,
        rounds,
        ok: count(Outcome::Ok),
        invalid: count(Outcome::Invalid),
        failed: count(Outcome::Failed),
        phases,
        makespan_ns: stats::summarize(&stats::record(makespans.iter().copied())),
        starts_per_second: Spread::of(rates),
        method: runner.burst_method(),
        notes,
    }
}
