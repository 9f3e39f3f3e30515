//! The measurement loop: one loop for every runner, so every runtime is sampled,
//! verified and recorded the same way.
//!
//! 1. Warm-up, not recorded: per variant, `warmup` cold starts (each torn down), the
//!    network baseline where the runtime has one, then the live instance for warm
//!    samples is started and invoked `warmup` times.
//! 2. The work list holds `cold` cold items and `warm` warm items per variant, in
//!    the plan's [`Order`]: `blocks` (default) cuts each variant's items into blocks
//!    of `block_size` and shuffles the blocks of all variants with a ChaCha8
//!    generator seeded by `seed` (recorded); `interleave` shuffles single items;
//!    `sequential` runs variant after variant. Before each block the previous
//!    block's instances are gone (every teardown is awaited, Docker's containers
//!    removed), after a block of cold starts the loop sleeps `settle` (a warm block
//!    starts and stops nothing), and the block's first item is taken unrecorded: a
//!    µs-scale sample never runs in the shadow of a container start that dockerd
//!    and the kernel are still finishing on the other core.
//! 3. A cold item starts a new instance, records its phases, then tears it down
//!    (timed apart). A warm item is one round trip on the variant's live instance.
//!    A warm answer that fails or does not verify retires that instance (torn down,
//!    untimed), and the next warm item gets a fresh one, so one bad answer costs one
//!    sample, not the rest of the column.
//! 4. Every request carries a fresh nonce, and every response is verified against
//!    it ([`crate::verify`]); a sample that fails is kept with its reason, counted
//!    and left out of the histograms. A teardown that fails marks its sample.
//! 5. Circuit breaker: after `max_consecutive_failures` failed or invalid cold
//!    starts in a row (recorded or not, including the starts of live instances) a
//!    variant is abandoned; its remaining items are counted as skipped, never tried.
//! 6. Nothing heavy runs between two samples: each sample is handed to a [`Sink`]
//!    (the checkpoint writer thread, [`crate::export::writer`]), which rewrites the
//!    result file from its own copy; statistics are derived once, at the end.

use crate::phase::nanos;
use crate::phase::PhaseTimes;
use crate::results::{hex, Mode, Order, Outcome, ResultFile, RuntimeResult, Sample};
use crate::runner::{ColdStart, Counts, Instance, Request, Response, Runner, SampleError};
use crate::verify::{Expected, Verifier};
use indicatif::ProgressBar;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The sampling plan shared by every runner.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cold: u64,
    pub warm: u64,
    pub warmup: u64,
    /// Per runner: counts of its own (a slow runtime's) instead of the three above.
    /// Empty, or one entry per runner.
    pub own_counts: Vec<Option<Counts>>,
    pub invoke_iters: u64,
    pub seed: u64,
    pub order: Order,
    /// Items per block (order `blocks`).
    pub block_size: u64,
    /// Pause before each block (orders `blocks` and `sequential`).
    pub settle: Duration,
    /// Failed or invalid cold starts in a row that abandon a variant (0: never).
    pub max_consecutive_failures: u64,
    /// Untimed-connection-then-timed round trips of a runtime's network baseline.
    pub baseline: u64,
}

impl Plan {
    /// The counts runner `i` takes.
    pub fn counts(&self, i: usize) -> Counts {
        self.own_counts.get(i).copied().flatten().unwrap_or(Counts {
            cold: self.cold,
            warm: self.warm,
            warmup: self.warmup,
        })
    }
}

/// One unit of work: a cold start or a warm invocation of runner `runner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub runner: usize,
    pub mode: Mode,
    /// The block it belongs to (orders `blocks` and `sequential`).
    pub block: Option<u64>,
    /// The first item of its block: preceded by the settle and an unrecorded item.
    pub block_start: bool,
}

/// The work order; `warm[i]` says whether runner `i` takes warm samples.
pub fn work_order(plan: &Plan, warm: &[bool]) -> Vec<Item> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(plan.seed);
    // (runner, mode, items) runs, each later one block or single items.
    let mut runs: Vec<(usize, Mode, u64)> = Vec::new();
    for (runner, takes_warm) in warm.iter().enumerate() {
        let counts = plan.counts(runner);
        runs.push((runner, Mode::Cold, counts.cold));
        runs.push((
            runner,
            Mode::Warm,
            if *takes_warm { counts.warm } else { 0 },
        ));
    }
    runs.retain(|(_, _, n)| *n > 0);
    let blocks: Vec<(usize, Mode, u64)> = match plan.order {
        Order::Sequential => runs,
        Order::Interleave => runs
            .iter()
            .flat_map(|&(r, m, n)| (0..n).map(move |_| (r, m, 1)))
            .collect(),
        Order::Blocks => {
            let size = plan.block_size.max(1);
            let mut blocks: Vec<(usize, Mode, u64)> = runs
                .iter()
                .flat_map(|&(r, m, n)| {
                    (0..n.div_ceil(size)).map(move |b| (r, m, size.min(n - b * size)))
                })
                .collect();
            blocks.shuffle(&mut rng);
            blocks
        }
    };
    let mut items: Vec<Item> = Vec::new();
    for (index, (runner, mode, n)) in blocks.into_iter().enumerate() {
        let in_blocks = plan.order != Order::Interleave;
        items.extend((0..n).map(|i| Item {
            runner,
            mode,
            block: in_blocks.then_some(index as u64),
            block_start: in_blocks && i == 0,
        }));
    }
    if plan.order == Order::Interleave {
        items.shuffle(&mut rng);
    }
    items
}

/// The time left, from what each (variant, mode) has taken per item so far: a VM's
/// seconds-long cold starts and a process's microsecond round trips are not averaged
/// into one rate, which would make the estimate wrong by orders of magnitude.
struct Eta {
    /// Per runner and mode (cold, warm): items left, time spent, items done.
    left: Vec<[(u64, Duration, u64); 2]>,
}

impl Eta {
    fn new(order: &[Item], runners: usize) -> Eta {
        let mut left = vec![[(0, Duration::ZERO, 0); 2]; runners];
        for item in order {
            left[item.runner][item.mode as usize].0 += 1;
        }
        Eta { left }
    }

    fn done(&mut self, item: &Item, took: Duration) {
        let slot = &mut self.left[item.runner][item.mode as usize];
        slot.0 = slot.0.saturating_sub(1);
        slot.1 += took;
        slot.2 += 1;
    }

    /// "12s left", or "?" while a group with items left has none done yet.
    fn remaining(&self) -> String {
        let mut total = Duration::ZERO;
        for slot in self.left.iter().flatten() {
            let (left, spent, done) = *slot;
            if left == 0 {
                continue;
            }
            if done == 0 {
                return "estimating time left".into();
            }
            total += spent / done as u32 * left as u32;
        }
        format!(
            "{} left",
            humantime::format_duration(Duration::from_secs(total.as_secs()))
        )
    }
}

/// Where each sample goes as soon as it is taken, and the runtimes' entries when
/// something beyond their samples changes (a note, an abandonment): the checkpoint
/// writer, off the measuring thread.
pub trait Sink {
    fn sample(&mut self, sample: &Sample);
    fn runtimes(&mut self, runtimes: &[RuntimeResult]);
}

/// The live instance a variant's warm samples go to.
struct Live {
    instance: Box<dyn Instance>,
    id: u64,
    last_index: u64,
}

/// A verified or not yet judged answer: the response, its times, what it had to be.
type Answered = (Response, PhaseTimes, Expected);

/// Why a warm round trip gave no sample to count as valid.
enum WarmError {
    /// No answer (crash, timeout, runtime error).
    Failed(String),
    /// An answer that did not verify (kept raw in the sample).
    Invalid(String),
}

impl std::fmt::Display for WarmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WarmError::Failed(e) => f.write_str(e),
            WarmError::Invalid(e) => write!(f, "invalid: {e}"),
        }
    }
}

/// Per variant: its live instance and its circuit breaker.
#[derive(Default)]
struct VariantState {
    live: Option<Live>,
    failures_in_row: u64,
    abandoned: bool,
}

/// Hands out requests: sequence numbers unique within the run, fresh nonces.
struct Requests {
    next: u64,
    iters: u64,
    nonces: rand_chacha::ChaCha8Rng,
}

impl Requests {
    fn next(&mut self) -> Request {
        use rand::Rng as _;
        self.next += 1;
        Request {
            seq: self.next,
            nonce: self.nonces.random(),
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
    pub sink: &'a mut dyn Sink,
}

/// Runs the plan over `runners`, whose entries in `results.runtimes` are at
/// `slots[i]`. Returns false when interrupted.
pub async fn measure(
    runners: &mut [Box<dyn Runner>],
    slots: &[usize],
    results: &mut ResultFile,
    cx: Context<'_>,
) -> bool {
    let started = Instant::now();
    let mut run = Loop {
        states: (0..runners.len())
            .map(|_| VariantState::default())
            .collect(),
        runners,
        slots,
        results,
        requests: Requests {
            next: 0,
            iters: cx.plan.invoke_iters,
            // Unpredictable to the probe: drawn from the OS, not from the order's seed.
            nonces: rand_chacha::ChaCha8Rng::from_os_rng(),
        },
        runtimes_changed: false,
        cx,
    };
    let complete = run.all().await;
    run.results.wall_time_ns = nanos(started.elapsed());
    run.results.derive_statistics();
    complete
}

struct Loop<'a, 'c> {
    runners: &'a mut [Box<dyn Runner>],
    slots: &'a [usize],
    results: &'a mut ResultFile,
    states: Vec<VariantState>,
    requests: Requests,
    /// Set when a runtime's entry changed beyond its samples (a teardown error, an
    /// abandonment): the writer is sent the runtimes once the item is done.
    runtimes_changed: bool,
    cx: Context<'c>,
}

impl Loop<'_, '_> {
    fn interrupted(&self) -> bool {
        self.cx.interrupted.load(Ordering::Relaxed)
    }

    fn entry(&mut self, runner: usize) -> &mut RuntimeResult {
        &mut self.results.runtimes[self.slots[runner]]
    }

    async fn all(&mut self) -> bool {
        for i in 0..self.runners.len() {
            if self.interrupted() {
                return false; // interrupted before measuring: start nothing more
            }
            self.prepare(i).await;
        }
        self.cx.sink.runtimes(&self.results.runtimes);

        let warm: Vec<bool> = self.runners.iter().map(|r| r.supports_warm()).collect();
        let order = work_order(self.cx.plan, &warm);
        let mut complete = true;
        let mut eta = Eta::new(&order, self.runners.len());
        // Whether the last block started cold instances (whose teardowns dockerd and
        // the kernel may still be finishing): only then is a settle needed.
        let mut after_cold = false;
        for (position, item) in order.iter().enumerate() {
            if self.interrupted() {
                complete = false;
                break;
            }
            let started = Instant::now();
            if item.block_start && !self.states[item.runner].abandoned {
                if after_cold && !self.cx.plan.settle.is_zero() {
                    tokio::time::sleep(self.cx.plan.settle).await;
                }
                after_cold = item.mode == Mode::Cold;
                self.unrecorded(item.runner, item.mode).await;
            }
            // Abandoned before or by the block's unrecorded first item: not attempted.
            if self.states[item.runner].abandoned {
                self.entry(item.runner).modes.get_mut(item.mode).skipped += 1;
            } else {
                let sample = self.sample(position as u64, item).await;
                self.cx.sink.sample(&sample);
                self.results.samples.push(sample);
            }
            self.cx.progress.inc(1);
            eta.done(item, started.elapsed());
            self.cx.progress.set_message(eta.remaining());
            if std::mem::take(&mut self.runtimes_changed) {
                self.cx.sink.runtimes(&self.results.runtimes);
            }
        }
        for i in 0..self.runners.len() {
            if let Some(live) = self.states[i].live.take() {
                self.retire(i, live, "the warm instance at the end").await;
            }
        }
        complete
    }

    /// Warm-up, baseline and the live instance of one variant, all unrecorded.
    async fn prepare(&mut self, i: usize) {
        let mut notes = Vec::new();
        for _ in 0..self.cx.plan.counts(i).warmup {
            if let Err(e) = self.unrecorded_cold(i).await {
                notes.push(format!("warm-up cold start: {e}"));
            }
            if self.interrupted() || self.states[i].abandoned {
                break;
            }
        }
        if self.cx.plan.baseline > 0 {
            let runner = &mut self.runners[i];
            match runner.network_baseline(self.cx.plan.baseline).await {
                None => {}
                Some(Ok(values)) => {
                    self.entry(i).network_baseline =
                        crate::stats::summarize(&crate::stats::record(values));
                }
                Some(Err(e)) => notes.push(format!("network baseline: {e}")),
            }
        }
        let wants_live = self.runners[i].supports_warm() && self.cx.plan.counts(i).warm > 0;
        if wants_live && !self.states[i].abandoned && !self.interrupted() {
            if let Err(e) = self.start_live(i).await {
                notes.push(format!("starting the warm instance: {e}"));
            }
        }
        if !notes.is_empty() {
            eprintln!("warning: {}: {}", self.runners[i].key(), notes.join("; "));
            self.entry(i)
                .details
                .insert("warmup_errors".into(), notes.into());
        }
    }

    /// Counts one cold start (recorded or not) for the circuit breaker.
    fn breaker(&mut self, i: usize, outcome: Result<(), &str>) {
        let max = self.cx.plan.max_consecutive_failures;
        let state = &mut self.states[i];
        match outcome {
            Ok(()) => state.failures_in_row = 0,
            Err(e) => {
                state.failures_in_row += 1;
                if max > 0 && state.failures_in_row >= max && !state.abandoned {
                    state.abandoned = true;
                    let reason = format!(
                        "abandoned after {max} failed or invalid cold starts in a row \
                         (--max-consecutive-failures); the last: {e}"
                    );
                    eprintln!("warning: {}: {reason}", self.runners[i].key());
                    self.entry(i).abandoned = Some(reason);
                    self.runtimes_changed = true;
                }
            }
        }
    }

    fn teardown_failed(&mut self, i: usize, what: &str, e: &SampleError) {
        let note = format!("{what}: {e}");
        self.entry(i).teardown_errors.push(note);
        self.runtimes_changed = true;
    }

    /// Tears down an instance that will take no more samples, untimed.
    async fn retire(&mut self, i: usize, live: Live, what: &str) {
        if let Err(e) = live.instance.teardown().await {
            self.teardown_failed(i, what, &e);
        }
    }

    /// A cold start whose first response is verified, counted by the breaker; the
    /// instance is torn down on a verification failure.
    async fn cold_verified(
        &mut self,
        i: usize,
        live: bool,
    ) -> Result<(Box<dyn Instance>, Response), String> {
        let request = self.requests.next();
        let runner = &mut self.runners[i];
        let start = if live {
            runner.start_live(request).await
        } else {
            runner.cold_start(request).await
        };
        let start = match start {
            Ok(start) => start,
            Err(e) => {
                let e = e.to_string();
                self.breaker(i, Err(&e));
                return Err(e);
            }
        };
        match self.cold_verdict(i, &start, &request).1 {
            Ok(()) => Ok((start.instance, start.response)),
            Err(e) => {
                let e = format!("invalid: {e}");
                if let Err(te) = start.instance.teardown().await {
                    self.teardown_failed(i, "an invalid unrecorded instance", &te);
                }
                Err(e)
            }
        }
    }

    /// Verifies a cold start's first response against its request (and the
    /// runtime's own word that it was cold) and counts it for the breaker.
    fn cold_verdict(
        &mut self,
        i: usize,
        start: &ColdStart,
        request: &Request,
    ) -> (Expected, Result<(), String>) {
        let expected = self.cx.verifier.expect(request);
        let verdict = self
            .cx
            .verifier
            .cold(&start.response, &expected)
            .and(start.not_cold.clone().map_or(Ok(()), Err));
        let counted = match &verdict {
            Ok(()) => Ok(()),
            Err(e) => Err(format!("invalid: {e}")),
        };
        self.breaker(i, counted.as_ref().map(|_| ()).map_err(String::as_str));
        (expected, verdict)
    }

    async fn unrecorded_cold(&mut self, i: usize) -> Result<(), String> {
        let (instance, _) = self.cold_verified(i, false).await?;
        if let Err(e) = instance.teardown().await {
            self.teardown_failed(i, "an unrecorded cold start", &e);
        }
        Ok(())
    }

    /// One unrecorded item at the start of a block: the block's first cold start
    /// or round trip pays for whatever the previous block left cold or hot.
    async fn unrecorded(&mut self, i: usize, mode: Mode) {
        match mode {
            Mode::Cold => {
                let _ = self.unrecorded_cold(i).await;
            }
            Mode::Warm => {
                if self.states[i].live.is_none() && self.start_live(i).await.is_err() {
                    return;
                }
                let request = self.requests.next();
                let _ = self.warm_round_trip(i, request).await;
            }
        }
    }

    /// Starts the live instance for warm samples and invokes it `warmup` times.
    async fn start_live(&mut self, i: usize) -> Result<(), String> {
        let (instance, response) = self.cold_verified(i, true).await?;
        self.states[i].live = Some(Live {
            instance,
            id: response.instance_id,
            last_index: response.index,
        });
        for _ in 0..self.cx.plan.counts(i).warmup {
            let request = self.requests.next();
            if let Err((e, _)) = self.warm_round_trip(i, request).await {
                return Err(format!("warm-up invocation: {e}"));
            }
        }
        Ok(())
    }

    /// One round trip on the live instance, verified against what a correct
    /// instance answers (computed after the answer came); an answer that fails or
    /// does not verify retires the instance (the next warm item starts a fresh one).
    async fn warm_round_trip(
        &mut self,
        i: usize,
        request: Request,
    ) -> Result<Answered, (WarmError, Option<Answered>)> {
        let state = &mut self.states[i];
        let live = state.live.as_mut().expect("a live instance");
        let answer = live.instance.invoke(request).await;
        let (response, times) = match answer {
            Ok(answer) => answer,
            Err(e) => {
                let dead = state.live.take().expect("live");
                self.retire(i, dead, "a warm instance that failed").await;
                return Err((WarmError::Failed(e.to_string()), None));
            }
        };
        let expected = self.cx.verifier.expect(&request);
        let live = self.states[i].live.as_mut().expect("live");
        match self
            .cx
            .verifier
            .warm(&response, &expected, live.id, live.last_index)
        {
            Ok(()) => {
                live.last_index = response.index;
                Ok((response, times, expected))
            }
            Err(e) => {
                let dead = self.states[i].live.take().expect("live");
                self.retire(i, dead, "a warm instance that answered wrongly")
                    .await;
                Err((WarmError::Invalid(e), Some((response, times, expected))))
            }
        }
    }

    /// Takes one recorded sample.
    async fn sample(&mut self, seq: u64, item: &Item) -> Sample {
        let key = self.runners[item.runner].key().clone();
        let request = self.requests.next();
        let mut sample = Sample {
            block: item.block,
            ..Sample::unanswered(seq, &key.runtime, &key.variant, item.mode, request.nonce)
        };
        match item.mode {
            Mode::Cold => self.cold_sample(item.runner, request, &mut sample).await,
            Mode::Warm => self.warm_sample(item.runner, request, &mut sample).await,
        }
        sample
    }

    async fn cold_sample(&mut self, i: usize, request: Request, sample: &mut Sample) {
        let start = match self.runners[i].cold_start(request).await {
            Ok(start) => start,
            Err(e) => {
                let e = e.to_string();
                self.breaker(i, Err(&e));
                sample.error = Some(e);
                return;
            }
        };
        record_cold(sample, &start);
        let (expected, verdict) = self.cold_verdict(i, &start, &request);
        sample.expected_checksum = Some(hex(expected.checksum));
        record_verdict(sample, verdict);
        match start.instance.teardown().await {
            Ok(took) => sample.teardown_ns = took.map(nanos),
            Err(e) => {
                // The start was measured and stays; the failed teardown is said.
                sample.teardown_error = Some(e.to_string());
                self.teardown_failed(i, &format!("cold sample {}", sample.seq), &e);
            }
        }
    }

    async fn warm_sample(&mut self, i: usize, request: Request, sample: &mut Sample) {
        if self.states[i].live.is_none() {
            if let Err(e) = self.start_live(i).await {
                sample.error = Some(format!("no live instance: {e}"));
                return;
            }
        }
        match self.warm_round_trip(i, request).await {
            Ok((response, times, expected)) => {
                record_response(sample, &response);
                record_times(sample, &times);
                sample.expected_checksum = Some(hex(expected.checksum));
                record_verdict(sample, Ok(()));
            }
            Err((WarmError::Invalid(e), Some((response, times, expected)))) => {
                // The answer came and is kept raw; the instance was retired.
                record_response(sample, &response);
                record_times(sample, &times);
                sample.expected_checksum = Some(hex(expected.checksum));
                record_verdict(sample, Err(e));
            }
            Err((e, _)) => sample.error = Some(e.to_string()),
        }
    }
}

/// A cold start's answer, times and phases, before its verdict.
pub(crate) fn record_cold(sample: &mut Sample, start: &ColdStart) {
    record_response(sample, &start.response);
    record_times(sample, &start.times);
    sample.phases_ns = start
        .times
        .phases
        .iter()
        .map(|(name, ns)| (name.to_string(), *ns))
        .collect();
}

fn record_response(sample: &mut Sample, response: &Response) {
    sample.instance_id = Some(hex(response.instance_id));
    sample.invocation_index = Some(response.index);
    sample.checksum = Some(hex(response.checksum));
}

fn record_times(sample: &mut Sample, times: &PhaseTimes) {
    sample.total_ns = Some(times.total_ns);
    sample.reported = times
        .reported
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    sample.attempts = times.attempts.filter(|a| *a > 1);
    sample.notes = times.notes.clone();
}

pub(crate) fn record_verdict(sample: &mut Sample, verdict: Result<(), String>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(order: Order, seed: u64) -> Plan {
        Plan {
            cold: 25,
            warm: 40,
            warmup: 0,
            own_counts: Vec::new(),
            invoke_iters: 1,
            seed,
            order,
            block_size: 10,
            settle: Duration::ZERO,
            max_consecutive_failures: 5,
            baseline: 0,
        }
    }

    fn counts(items: &[Item], runners: usize) -> Vec<(usize, usize)> {
        (0..runners)
            .map(|r| {
                let mine = |m| {
                    items
                        .iter()
                        .filter(|i| i.runner == r && i.mode == m)
                        .count()
                };
                (mine(Mode::Cold), mine(Mode::Warm))
            })
            .collect()
    }

    #[test]
    fn every_order_is_seeded_and_complete() {
        for order in [Order::Blocks, Order::Interleave, Order::Sequential] {
            let a = work_order(&plan(order, 42), &[true, true, false]);
            assert_eq!(a, work_order(&plan(order, 42), &[true, true, false]));
            assert_eq!(counts(&a, 3), [(25, 40), (25, 40), (25, 0)], "{order:?}");
            if order != Order::Sequential {
                assert_ne!(a, work_order(&plan(order, 43), &[true, true, false]));
            }
        }
    }

    #[test]
    fn a_runners_own_counts_replace_the_plans() {
        let mut plan = plan(Order::Blocks, 5);
        plan.own_counts = vec![
            None,
            Some(Counts {
                cold: 3,
                warm: 7,
                warmup: 0,
            }),
        ];
        let items = work_order(&plan, &[true, true]);
        assert_eq!(counts(&items, 2), [(25, 40), (3, 7)]);
        assert_eq!(plan.counts(1).warmup, 0);
        assert_eq!(plan.counts(0).warmup, plan.warmup);
    }

    #[test]
    fn blocks_are_whole_shuffled_and_start_once() {
        let items = work_order(&plan(Order::Blocks, 7), &[true, true]);
        // 3 cold blocks (10, 10, 5) and 4 warm blocks per runner.
        let starts: Vec<&Item> = items.iter().filter(|i| i.block_start).collect();
        assert_eq!(starts.len(), 2 * (3 + 4));
        // A block is contiguous, of one runner and mode, and starts exactly once.
        for w in items.windows(2) {
            if w[0].block == w[1].block {
                assert_eq!((w[0].runner, w[0].mode), (w[1].runner, w[1].mode));
                assert!(!w[1].block_start);
            } else {
                assert!(w[1].block_start);
            }
        }
        let sizes: Vec<usize> = starts
            .iter()
            .map(|s| items.iter().filter(|i| i.block == s.block).count())
            .collect();
        assert!(sizes.iter().all(|n| *n == 10 || *n == 5), "{sizes:?}");
        // Shuffled: the runners' blocks alternate somewhere in the first few.
        assert!(starts.iter().take(6).any(|s| s.runner != starts[0].runner));
    }

    #[test]
    fn interleave_mixes_single_items_and_sequential_keeps_variants_whole() {
        let mixed = work_order(&plan(Order::Interleave, 3), &[true, true]);
        assert!(mixed.iter().all(|i| i.block.is_none() && !i.block_start));
        assert!(mixed.iter().take(8).any(|i| i.runner != mixed[0].runner));
        let seq = work_order(&plan(Order::Sequential, 3), &[true, true]);
        let runs: Vec<(usize, Mode)> = seq
            .iter()
            .filter(|i| i.block_start)
            .map(|i| (i.runner, i.mode))
            .collect();
        assert_eq!(
            runs,
            [
                (0, Mode::Cold),
                (0, Mode::Warm),
                (1, Mode::Cold),
                (1, Mode::Warm)
            ]
        );
    }
}
