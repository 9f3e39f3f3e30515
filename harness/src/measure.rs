//! The measurement loop: one loop for every runner, so every runtime is sampled,
//! verified and recorded the same way.
//!
//! 1. Warm-up, not recorded: per variant, `warmup` cold starts (each torn down), then
//!    the live instance for warm samples is started and invoked `warmup` times.
//! 2. The work list holds `cold` cold items and `warm` warm items per variant,
//!    shuffled with a ChaCha8 generator seeded by `seed` (recorded in the results),
//!    so runtimes interleave and slow drifts of the machine hit them all alike.
//! 3. A cold item starts a new instance, records its phases, then tears it down
//!    (timed apart). A warm item is one round trip on the variant's live instance;
//!    if that instance fails, it is torn down and a new one is started, unrecorded,
//!    for the next warm item.
//! 4. Every response is verified ([`crate::verify`]); a sample that fails is kept
//!    with its reason, counted and left out of the histograms.
//! 5. After the last item of each variant (and at most every few seconds), the
//!    statistics are derived from the samples and the results are checkpointed, so
//!    a crash or Ctrl-C later loses nothing already measured.

use crate::phase::nanos;
use crate::results::{hex, Mode, Outcome, ResultFile, Sample};
use crate::runner::{Instance, Request, Response, Runner, SampleError};
use crate::verify::Verifier;
use indicatif::ProgressBar;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long at most between two checkpoints of the results.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);

/// The sampling plan shared by every runner.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cold: u64,
    pub warm: u64,
    pub warmup: u64,
    pub invoke_iters: u64,
    pub seed: u64,
}

/// One unit of work: a cold start or a warm invocation of runner `runner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub runner: usize,
    pub mode: Mode,
}

/// The shuffled work order; `warm[i]` says whether runner `i` takes warm samples.
pub fn work_order(plan: &Plan, warm: &[bool]) -> Vec<Item> {
    let mut items = Vec::new();
    for (runner, takes_warm) in warm.iter().enumerate() {
        let cold = (0..plan.cold).map(|_| Item {
            runner,
            mode: Mode::Cold,
        });
        let warm_count = if *takes_warm { plan.warm } else { 0 };
        let warm = (0..warm_count).map(|_| Item {
            runner,
            mode: Mode::Warm,
        });
        items.extend(cold.chain(warm));
    }
    items.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(plan.seed));
    items
}

/// The live instance a variant's warm samples go to.
struct Live {
    instance: Box<dyn Instance>,
    id: u64,
    last_index: u64,
}

/// Hands out request sequence numbers, unique within the run.
struct Requests {
    next: u64,
    iters: u64,
}

impl Requests {
    fn next(&mut self) -> Request {
        self.next += 1;
        Request {
            seq: self.next,
            iters: self.iters,
        }
    }
}

/// What the loop needs besides the runners and the results it fills.
pub struct Context<'a> {
    pub plan: &'a Plan,
    pub verifier: Verifier,
    pub progress: &'a ProgressBar,
    pub interrupted: &'a AtomicBool,
    /// Called with the results after statistics were derived; writes the exports.
    pub checkpoint: &'a mut dyn FnMut(&ResultFile),
}

/// Runs the plan over `runners`, whose entries in `results.runtimes` are at
/// `slots[i]`. Returns false when interrupted.
pub async fn measure(
    runners: &mut [Box<dyn Runner>],
    slots: &[usize],
    results: &mut ResultFile,
    mut cx: Context<'_>,
) -> bool {
    let started = Instant::now();
    let mut requests = Requests {
        next: 0,
        iters: cx.plan.invoke_iters,
    };
    let mut live: Vec<Option<Live>> = Vec::new();
    for (i, runner) in runners.iter_mut().enumerate() {
        if cx.interrupted.load(Ordering::Relaxed) {
            live.push(None); // interrupted before measuring: start nothing more
            continue;
        }
        let mut notes = Vec::new();
        for _ in 0..cx.plan.warmup {
            match cold_verified(runner.as_mut(), &mut requests, &mut cx.verifier, false).await {
                Ok((instance, _, _)) => {
                    if let Err(e) = instance.teardown().await {
                        notes.push(format!("warm-up teardown: {e}"));
                    }
                }
                Err(e) => notes.push(format!("warm-up cold start: {e}")),
            }
            if cx.interrupted.load(Ordering::Relaxed) {
                break;
            }
        }
        let slot = if !runner.supports_warm() || cx.plan.warm == 0 {
            None
        } else {
            match start_live(runner.as_mut(), &mut requests, &mut cx).await {
                Ok(slot) => Some(slot),
                Err(e) => {
                    notes.push(format!("starting the warm instance: {e}"));
                    None
                }
            }
        };
        live.push(slot);
        if !notes.is_empty() {
            eprintln!("warning: {}: {}", runner.key(), notes.join("; "));
            results.runtimes[slots[i]]
                .details
                .insert("warmup_errors".into(), notes.into());
        }
    }

    let warm: Vec<bool> = runners.iter().map(|r| r.supports_warm()).collect();
    let order = work_order(cx.plan, &warm);
    let last_of: Vec<Option<usize>> = (0..runners.len())
        .map(|r| order.iter().rposition(|item| item.runner == r))
        .collect();
    let mut last_checkpoint = Instant::now();
    let mut complete = true;
    for (position, item) in order.iter().enumerate() {
        if cx.interrupted.load(Ordering::Relaxed) {
            complete = false;
            break;
        }
        let runner = runners[item.runner].as_mut();
        let mut sample = Sample {
            seq: position as u64,
            runtime: runner.key().runtime.clone(),
            variant: runner.key().variant.clone(),
            mode: item.mode,
            instance_id: None,
            invocation_index: None,
            checksum: None,
            total_ns: None,
            phases_ns: Default::default(),
            teardown_ns: None,
            reported: Default::default(),
            ok: false,
            outcome: Outcome::Failed,
            error: None,
        };
        match item.mode {
            Mode::Cold => cold_sample(runner, &mut requests, &mut cx, &mut sample).await,
            Mode::Warm => {
                let slot = &mut live[item.runner];
                warm_sample(runner, slot, &mut requests, &mut cx, &mut sample).await
            }
        }
        results.samples.push(sample);
        cx.progress.inc(1);
        if last_of[item.runner] == Some(position) || last_checkpoint.elapsed() > CHECKPOINT_EVERY {
            results.wall_time_ns = nanos(started.elapsed());
            results.derive_statistics();
            (cx.checkpoint)(results);
            last_checkpoint = Instant::now();
        }
    }
    for slot in live.into_iter().flatten() {
        let _ = slot.instance.teardown().await;
    }
    results.wall_time_ns = nanos(started.elapsed());
    results.derive_statistics();
    complete
}

/// A cold start whose first response is verified; the instance is torn down on
/// a verification failure.
async fn cold_verified(
    runner: &mut dyn Runner,
    requests: &mut Requests,
    verifier: &mut Verifier,
    live: bool,
) -> Result<(Box<dyn Instance>, Response, crate::phase::PhaseTimes), String> {
    let request = requests.next();
    let start = if live {
        runner.start_live(request).await
    } else {
        runner.cold_start(request).await
    }
    .map_err(|e| e.to_string())?;
    match verifier.cold(&start.response) {
        Ok(()) => Ok((start.instance, start.response, start.times)),
        Err(e) => {
            let _ = start.instance.teardown().await;
            Err(format!("invalid: {e}"))
        }
    }
}

/// Starts the live instance for warm samples and invokes it `warmup` times.
async fn start_live(
    runner: &mut dyn Runner,
    requests: &mut Requests,
    cx: &mut Context<'_>,
) -> Result<Live, String> {
    let (instance, response, _) = cold_verified(runner, requests, &mut cx.verifier, true).await?;
    let mut live = Live {
        instance,
        id: response.instance_id,
        last_index: response.index,
    };
    for _ in 0..cx.plan.warmup {
        let answer = live.instance.invoke(requests.next()).await;
        let checked = match &answer {
            Ok((response, _)) => cx.verifier.warm(response, live.id, live.last_index),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = checked {
            let _ = live.instance.teardown().await;
            return Err(e);
        }
        live.last_index += 1;
    }
    Ok(live)
}

fn record_response(sample: &mut Sample, response: &Response) {
    sample.instance_id = Some(hex(response.instance_id));
    sample.invocation_index = Some(response.index);
    sample.checksum = Some(hex(response.checksum));
}

fn reported(times: &crate::phase::PhaseTimes) -> std::collections::BTreeMap<String, u64> {
    times
        .reported
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect()
}

fn record_verdict(sample: &mut Sample, verdict: Result<(), String>) {
    match verdict {
        Ok(()) => {
            sample.ok = true;
            sample.outcome = Outcome::Ok;
        }
        Err(e) => {
            sample.outcome = Outcome::Invalid;
            sample.error = Some(e);
        }
    }
}

async fn cold_sample(
    runner: &mut dyn Runner,
    requests: &mut Requests,
    cx: &mut Context<'_>,
    sample: &mut Sample,
) {
    match runner.cold_start(requests.next()).await {
        Err(e) => sample.error = Some(e.to_string()),
        Ok(start) => {
            record_response(sample, &start.response);
            sample.total_ns = Some(start.times.total_ns);
            sample.phases_ns = start
                .times
                .phases
                .iter()
                .map(|(name, ns)| (name.to_string(), *ns))
                .collect();
            sample.reported = reported(&start.times);
            let verdict = cx.verifier.cold(&start.response);
            record_verdict(sample, verdict.and(start.not_cold.map_or(Ok(()), Err)));
            match start.instance.teardown().await {
                Ok(took) => sample.teardown_ns = took.map(nanos),
                Err(e) => {
                    // The start was measured; the failed teardown is said, not hidden.
                    sample.error = Some(match sample.error.take() {
                        Some(earlier) => format!("{earlier}; teardown failed: {e}"),
                        None => format!("teardown failed: {e}"),
                    });
                }
            }
        }
    }
}

async fn warm_sample(
    runner: &mut dyn Runner,
    slot: &mut Option<Live>,
    requests: &mut Requests,
    cx: &mut Context<'_>,
    sample: &mut Sample,
) {
    if slot.is_none() {
        match start_live(runner, requests, cx).await {
            Ok(live) => *slot = Some(live),
            Err(e) => {
                sample.error = Some(format!("no live instance: {e}"));
                return;
            }
        }
    }
    let live = slot.as_mut().expect("started above");
    let answer: Result<_, SampleError> = live.instance.invoke(requests.next()).await;
    match answer {
        Err(e) => {
            sample.error = Some(e.to_string());
            if let Some(dead) = slot.take() {
                let _ = dead.instance.teardown().await;
            }
        }
        Ok((response, times)) => {
            record_response(sample, &response);
            sample.total_ns = Some(times.total_ns);
            sample.reported = reported(&times);
            let verdict = cx.verifier.warm(&response, live.id, live.last_index);
            if verdict.is_ok() {
                live.last_index = response.index;
            }
            record_verdict(sample, verdict);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_order_is_seeded_and_complete() {
        let plan = Plan {
            cold: 3,
            warm: 5,
            warmup: 0,
            invoke_iters: 1,
            seed: 42,
        };
        let all_warm = [true; 3];
        let a = work_order(&plan, &all_warm);
        assert_eq!(a, work_order(&plan, &all_warm));
        let other_seed = Plan {
            seed: 43,
            ..plan.clone()
        };
        assert_ne!(a, work_order(&other_seed, &all_warm));
        assert_eq!(a.len(), 24);
        let cold_only = work_order(&plan, &[true, false]);
        assert_eq!(cold_only.len(), 8 + 3);
        assert!(!cold_only
            .iter()
            .any(|i| i.runner == 1 && i.mode == Mode::Warm));
        for r in 0..3 {
            let mine = |m| a.iter().filter(|i| i.runner == r && i.mode == m).count();
            assert_eq!((mine(Mode::Cold), mine(Mode::Warm)), (3, 5));
        }
        // Interleaved: the runners' items are not in blocks.
        assert!(a.windows(2).any(|w| w[0].runner != w[1].runner));
        assert!(a.iter().take(8).any(|i| i.runner != a[0].runner));
    }
}
