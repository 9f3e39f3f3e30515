//! The measurement loop: one loop for every runner, so every runtime is sampled,
//! verified and recorded the same way.
//!
//! 1. Warm-up, not recorded: per variant, `warmup` cold starts (each torn down) and
//!    the network baseline where the runtime has one.
//! 2. The work list holds `cold` cold items and `warm` warm items per variant, in
//!    the plan's [`Order`]: `blocks` (default) cuts each variant's items into blocks
//!    of `block_size` and shuffles the blocks of all variants with a ChaCha8
//!    generator seeded by `seed` (recorded); `interleave` shuffles single items;
//!    `sequential` runs variant after variant. Before each block the previous
//!    block's instances are gone (every teardown is awaited, Docker's containers
//!    removed; a warm block's live instance is retired at its end), after a block
//!    that tore instances down (cold starts, or a live instance whose teardown took
//!    a millisecond or more) the loop sleeps `settle` and then waits until the
//!    host's CPUs are quiet ([`settle`]: at most 1 s, counted in the results'
//!    `settles`), and the block's first item
//!    is taken unrecorded: a µs-scale sample never runs in the shadow of a container
//!    start that dockerd and the kernel are still finishing on the other core.
//! 3. A cold item starts a new instance, records its phases, then tears it down
//!    (timed apart). A warm block starts the variant's live instance (untimed,
//!    invoked `warmup` times, before its unrecorded first item); a warm item is one
//!    round trip on it.
//!    A warm answer that fails or does not verify retires that instance (torn down,
//!    untimed), and the next warm item gets a fresh one, so one bad answer costs one
//!    sample, not the rest of the column.
//! 4. Every start carries a fresh instance nonce and every request a fresh nonce,
//!    and every response is verified against both ([`crate::measure::verify`]); a
//!    sample that fails is kept with its reason, counted and left out of the
//!    histograms. A teardown that fails marks its sample.
//! 5. Circuit breaker: after `max_consecutive_failures` failed or invalid cold
//!    starts in a row (recorded or not, including the starts of live instances) a
//!    variant is abandoned; its remaining items are counted as skipped, never tried.
//! 6. Nothing heavy runs between two samples: each sample is handed to a [`Sink`]
//!    (the checkpoint writer thread, [`crate::export::writer`]), which appends it to
//!    the run's journal; statistics are derived once, at the end.
//!
//! The loop is one file of about 700 lines on purpose: a variant's states (its live
//! instance, the one it retired, its breaker) and the order of the steps above are
//! read together; what can live apart does (order, record, verify, progress,
//! density, burst).

pub mod burst;
pub mod density;
mod order;
pub mod progress;
pub mod record;
mod settle;
pub mod verify;

pub use order::{work_order, Plan, WorkItem};

use crate::export::writer::Sink;
use crate::phase::{nanos, PhaseTimes};
use crate::results::{hex, Mode, ResultFile, RuntimeResult, Sample};
use crate::runner::{ColdStart, Instance, Request, Response, Runner, SampleError, StartRequest};
use indicatif::ProgressBar;
use probe_core::InstanceState;
use progress::Eta;
use rand::SeedableRng;
use record::{record_cold, record_expected, record_response, record_times, record_verdict};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use verify::{Expected, Verifier};

/// A teardown or a live start that took this long may leave work behind (a
/// daemon's, the kernel's): the next block waits `settle` and a quiet host. A Wasm instance's or a
/// process's takes µs and is not waited for.
const AFTER_WORK: std::time::Duration = std::time::Duration::from_millis(1);

/// The live instance a variant's warm samples go to.
struct Live {
    instance: Box<dyn Instance>,
    id: u64,
    last_index: u64,
    /// Its init state, derived from the instance nonce it was started with.
    init: InstanceState,
}

/// A verified or not yet judged answer: the response, its times, what it had to be.
struct Answered {
    response: Response,
    times: PhaseTimes,
    expected: Expected,
}

/// Why a cold start or a round trip gave no answer to count as valid.
#[derive(Debug)]
enum Miss {
    /// No answer (crash, timeout, runtime error).
    Failed(String),
    /// An answer that did not verify (kept raw when it was a recorded sample's).
    Invalid(String),
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::Failed(e) => f.write_str(e),
            Miss::Invalid(e) => write!(f, "invalid: {e}"),
        }
    }
}

/// A live instance retired (at the end of its block, or after a failed answer)
/// where the runtime keeps it alive (`Runner::live_outlives_teardown`): the next
/// live start may reach it.
struct Retired {
    id: u64,
    last_index: u64,
    init: InstanceState,
}

/// Per variant: its live instance and its circuit breaker.
#[derive(Default)]
struct VariantState {
    live: Option<Live>,
    retired: Option<Retired>,
    failures_in_row: u64,
    abandoned: bool,
}

/// Hands out requests (sequence numbers unique within the run, fresh nonces) and
/// starts (a fresh instance nonce and the first request).
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

    fn instance_nonce(&mut self) -> u64 {
        use rand::Rng as _;
        self.nonces.random()
    }

    fn start(&mut self) -> StartRequest {
        StartRequest {
            instance_nonce: self.instance_nonce(),
            request: self.next(),
        }
    }
}

/// What the loop needs besides the runners and the results it fills.
pub struct Context<'a> {
    pub plan: &'a Plan,
    /// The run's one verifier: every instance id it has seen, here and in density
    /// and bursts after, so an id is caught wherever it comes back.
    pub verifier: &'a mut Verifier,
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
    let complete = run.run().await;
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

    /// Prepares every variant, then takes the work order item by item.
    async fn run(&mut self) -> bool {
        for i in 0..self.runners.len() {
            if self.interrupted() {
                return false; // interrupted before measuring: start nothing more
            }
            self.prepare(i).await;
        }
        self.cx.sink.runtimes(&self.results.runtimes);

        let warm: Vec<bool> = self.runners.iter().map(|r| r.supports_warm()).collect();
        let order = order::work_order(self.cx.plan, &warm);
        let mut complete = true;
        let mut eta = Eta::new(&order, self.runners.len());
        // Whether the last block tore instances down (its cold starts, or its warm
        // instance), whose teardowns dockerd and the kernel may still be finishing:
        // only then is a settle needed.
        let mut after_teardowns = false;
        for (position, item) in order.iter().enumerate() {
            if self.interrupted() {
                complete = false;
                break;
            }
            let started = Instant::now();
            if item.block_start {
                // A warm instance lives only through its own block: no idle guest,
                // container or runtime of one variant sits beside another's samples.
                after_teardowns |= self
                    .retire_live("the warm instance at the end of its block")
                    .await;
            }
            if item.block_start && !self.states[item.runner].abandoned {
                if after_teardowns && !self.cx.plan.settle.is_zero() {
                    self.settle().await;
                }
                after_teardowns = item.mode == Mode::Cold;
                self.unrecorded(item.runner, item.mode).await;
            }
            // Abandoned before or by the block's unrecorded first item: not attempted.
            if self.states[item.runner].abandoned {
                self.entry(item.runner).modes.get_mut(item.mode).skipped += 1;
            } else {
                let sample = self.sample(position as u64, item).await;
                crate::harness_work::note();
                self.cx.sink.sample(&sample);
                self.results.samples.push(sample);
            }
            crate::harness_work::note();
            self.cx.progress.inc(1);
            eta.done(item, started.elapsed());
            self.cx.progress.set_message(eta.remaining());
            if std::mem::take(&mut self.runtimes_changed) {
                self.cx.sink.runtimes(&self.results.runtimes);
            }
        }
        self.retire_live("the warm instance at the end").await;
        complete
    }

    /// Where the runtime keeps a retired live instance alive (Lambda), remembers
    /// it: the next live start may reach it.
    fn remember_retired(&mut self, i: usize, live: &Live) {
        if self.runners[i].live_outlives_teardown() {
            self.states[i].retired = Some(Retired {
                id: live.id,
                last_index: live.last_index,
                init: live.init,
            });
        }
    }

    /// Retires every live warm instance, untimed; whether one left after-work.
    async fn retire_live(&mut self, what: &str) -> bool {
        let mut after_work = false;
        for i in 0..self.runners.len() {
            if let Some(live) = self.states[i].live.take() {
                self.remember_retired(i, &live);
                after_work |= self.retire(i, live, what).await;
            }
        }
        after_work
    }

    /// Warm-up cold starts and the network baseline of one variant, unrecorded.
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
        // No live instance is started here: each warm block starts its own (its
        // first item, unrecorded, pays for it) and retires it at its end.
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

    /// Tears down an instance that will take no more samples, untimed; whether it
    /// left after-work (its teardown took [`AFTER_WORK`] or more).
    async fn retire(&mut self, i: usize, live: Live, what: &str) -> bool {
        let started = Instant::now();
        if let Err(e) = live.instance.teardown().await {
            self.teardown_failed(i, what, &e);
        }
        started.elapsed() >= AFTER_WORK
    }

    /// A cold start whose first response is verified, counted by the breaker; the
    /// instance is torn down on a verification failure.
    async fn cold_verified(
        &mut self,
        i: usize,
        live: bool,
    ) -> Result<(Box<dyn Instance>, Response, InstanceState), Miss> {
        let asked = self.requests.start();
        let request = asked.request;
        let runner = &mut self.runners[i];
        let start = if live {
            runner.start_live(asked).await
        } else {
            runner.cold_start(asked).await
        };
        let start = match start {
            Ok(start) => start,
            Err(e) => {
                let e = e.to_string();
                self.breaker(i, Err(&e));
                return Err(Miss::Failed(e));
            }
        };
        // A live start the platform answered from the instance retired last (at the
        // end of its block, or after a failed answer): it is that instance's next
        // warm answer, at a later index (a call that failed may have advanced it).
        let resumed = match live.then(|| self.states[i].retired.take()).flatten() {
            Some(r) if start.response.instance_id == r.id => Some(r),
            _ => None,
        };
        let init = match &resumed {
            Some(r) => r.init,
            None => self.cx.verifier.started(&start, &asked),
        };
        let verdict = match resumed {
            Some(r) => {
                let expected = self.cx.verifier.expect(&r.init, &request);
                let previous = if start.response.index > r.last_index {
                    start.response.index - 1
                } else {
                    r.last_index
                };
                let verdict = self
                    .cx
                    .verifier
                    .warm(&start.response, &expected, r.id, previous);
                self.breaker(i, verdict.as_ref().map(|_| ()).map_err(String::as_str));
                verdict
            }
            None => self.cold_verdict(i, &start, &init, &request).1,
        };
        match verdict {
            Ok(()) => Ok((start.instance, start.response, init)),
            Err(e) => {
                if let Err(te) = start.instance.teardown().await {
                    self.teardown_failed(i, "an invalid unrecorded instance", &te);
                }
                Err(Miss::Invalid(e))
            }
        }
    }

    /// Verifies a cold start's first response against its request (and the
    /// runtime's own word that it was cold) and counts it for the breaker.
    fn cold_verdict(
        &mut self,
        i: usize,
        start: &ColdStart,
        init: &InstanceState,
        request: &Request,
    ) -> (Expected, Result<(), String>) {
        let expected = self.cx.verifier.expect(init, request);
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

    async fn unrecorded_cold(&mut self, i: usize) -> Result<(), Miss> {
        let (instance, ..) = self.cold_verified(i, false).await?;
        if let Err(e) = instance.teardown().await {
            self.teardown_failed(i, "an unrecorded cold start", &e);
        }
        Ok(())
    }

    /// One unrecorded item at the start of a block: the block's first cold start
    /// or round trip pays for whatever the previous block left cold or hot. It is
    /// verified like any other: one that fails or does not verify is counted in the
    /// mode's `unrecorded_failed` / `unrecorded_invalid` (and the run's exit code).
    async fn unrecorded(&mut self, i: usize, mode: Mode) {
        let outcome = match mode {
            Mode::Cold => self.unrecorded_cold(i).await,
            Mode::Warm => self.unrecorded_warm(i).await,
        };
        if let Err(miss) = outcome {
            let counts = self.entry(i).modes.get_mut(mode);
            match miss {
                Miss::Failed(_) => counts.unrecorded_failed += 1,
                Miss::Invalid(_) => counts.unrecorded_invalid += 1,
            }
            self.runtimes_changed = true;
        }
    }

    /// After work that leaves work behind: `--settle`, then a quiet host; counted.
    async fn settle(&mut self) {
        let started = Instant::now();
        let ending = settle::settle(self.cx.plan.settle).await;
        let settles = self.results.settles.get_or_insert_with(Default::default);
        settles.count += 1;
        settles.waited_ns += nanos(started.elapsed());
        match ending {
            settle::Ending::Quiet => {}
            settle::Ending::NotQuiet => settles.not_quiet += 1,
            settle::Ending::Unreadable => settles.unreadable += 1,
        }
    }

    async fn unrecorded_warm(&mut self, i: usize) -> Result<(), Miss> {
        if self.states[i].live.is_none() {
            let started = Instant::now();
            self.start_live(i).await?;
            // The block's samples follow a start: one that took long (a
            // container's, a guest's boot) may leave after-work, as cold starts do.
            // Only `--settle`: the live instance itself (an idle guest under
            // emulation) would keep a quiet-host wait at its cap.
            if started.elapsed() >= AFTER_WORK && !self.cx.plan.settle.is_zero() {
                tokio::time::sleep(self.cx.plan.settle).await;
            }
        }
        let request = self.requests.next();
        self.warm_round_trip(i, request)
            .await
            .map(|_| ())
            .map_err(|(miss, _)| miss)
    }

    /// Starts the live instance for warm samples and invokes it `warmup` times.
    async fn start_live(&mut self, i: usize) -> Result<(), Miss> {
        let (instance, response, init) = self.cold_verified(i, true).await?;
        self.states[i].live = Some(Live {
            instance,
            id: response.instance_id,
            last_index: response.index,
            init,
        });
        for _ in 0..self.cx.plan.counts(i).warmup {
            let request = self.requests.next();
            match self.warm_round_trip(i, request).await {
                Ok(_) => {}
                Err((Miss::Failed(e), _)) => {
                    return Err(Miss::Failed(format!("warm-up invocation: {e}")))
                }
                Err((Miss::Invalid(e), _)) => {
                    return Err(Miss::Invalid(format!("warm-up invocation: {e}")))
                }
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
    ) -> Result<Answered, (Miss, Option<Answered>)> {
        let state = &mut self.states[i];
        let live = state.live.as_mut().expect("a live instance");
        let answer = live.instance.invoke(request).await;
        let (response, times) = match answer {
            Ok(answer) => answer,
            Err(e) => {
                let dead = state.live.take().expect("live");
                self.remember_retired(i, &dead);
                let _ = self.retire(i, dead, "a warm instance that failed").await;
                return Err((Miss::Failed(e.to_string()), None));
            }
        };
        let live = self.states[i].live.as_mut().expect("live");
        let expected = self.cx.verifier.expect(&live.init, &request);
        match self
            .cx
            .verifier
            .warm(&response, &expected, live.id, live.last_index)
        {
            Ok(()) => {
                live.last_index = response.index;
                Ok(Answered {
                    response,
                    times,
                    expected,
                })
            }
            Err(e) => {
                let dead = self.states[i].live.take().expect("live");
                self.remember_retired(i, &dead);
                let _ = self
                    .retire(i, dead, "a warm instance that answered wrongly")
                    .await;
                Err((
                    Miss::Invalid(e),
                    Some(Answered {
                        response,
                        times,
                        expected,
                    }),
                ))
            }
        }
    }

    /// Takes one recorded sample.
    async fn sample(&mut self, seq: u64, item: &WorkItem) -> Sample {
        let key = self.runners[item.runner].key().clone();
        let request = self.requests.next();
        let mut sample = Sample {
            block: item.block,
            ..Sample::unanswered(seq, &key, item.mode, request.nonce)
        };
        match item.mode {
            Mode::Cold => {
                let start = StartRequest {
                    instance_nonce: self.requests.instance_nonce(),
                    request,
                };
                self.cold_sample(item.runner, start, &mut sample).await
            }
            Mode::Warm => self.warm_sample(item.runner, request, &mut sample).await,
        }
        sample
    }

    async fn cold_sample(&mut self, i: usize, asked: StartRequest, sample: &mut Sample) {
        // Known before the answer: a failed sample says what its start was given too.
        sample.instance_nonce = Some(hex(asked.instance_nonce));
        let start = match self.runners[i].cold_start(asked).await {
            Ok(start) => start,
            Err(e) => {
                let e = e.to_string();
                self.breaker(i, Err(&e));
                sample.error = Some(e);
                return;
            }
        };
        record_cold(sample, &start);
        let init = self.cx.verifier.started(&start, &asked);
        let (expected, verdict) = self.cold_verdict(i, &start, &init, &asked.request);
        record_expected(sample, &expected);
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
            Ok(Answered {
                response,
                times,
                expected,
            }) => {
                record_response(sample, &response);
                record_times(sample, &times);
                record_expected(sample, &expected);
                record_verdict(sample, Ok(()));
            }
            Err((
                Miss::Invalid(e),
                Some(Answered {
                    response,
                    times,
                    expected,
                }),
            )) => {
                // The answer came and is kept raw; the instance was retired.
                record_response(sample, &response);
                record_times(sample, &times);
                record_expected(sample, &expected);
                record_verdict(sample, Err(e));
            }
            Err((e, _)) => sample.error = Some(e.to_string()),
        }
    }
}

/// What is measured after the samples (`--density`, `--burst`).
pub struct AfterSamples {
    pub density: Option<density::Plan>,
    pub burst: Option<burst::Plan>,
}

/// Density and bursts, variant after variant, after the samples; `checkpoint` is
/// called after each variant's. Returns false when interrupted.
pub async fn density_and_bursts(
    runners: &[Box<dyn Runner>],
    slots: &[usize],
    results: &mut ResultFile,
    plan: &AfterSamples,
    verifier: &mut Verifier,
    interrupted: &AtomicBool,
    checkpoint: &mut dyn FnMut(&ResultFile),
) -> bool {
    if plan.density.is_none() && plan.burst.is_none() {
        return true;
    }
    let mut seq = results
        .samples
        .iter()
        .map(|s| s.seq)
        .max()
        .map_or(0, |s| s + 1);
    for (runner, slot) in runners.iter().zip(slots) {
        let key = runner.key().clone();
        if let Some(plan) = plan.density.as_ref().filter(|p| p.includes(&key)) {
            if interrupted.load(Ordering::Relaxed) {
                return false;
            }
            eprintln!(
                "density: {key}, {} live instances × {} rounds",
                plan.instances, plan.rounds
            );
            let taken = density::run(runner.as_ref(), plan, verifier, interrupted, &mut seq).await;
            let row = &mut results.runtimes[*slot];
            row.density = Some(taken.density);
            row.teardown_errors.extend(taken.teardown_errors);
            checkpoint(results);
        }
        if let Some(plan) = &plan.burst {
            if interrupted.load(Ordering::Relaxed) {
                return false;
            }
            eprintln!(
                "bursts: {key}, {} at once × {} rounds",
                plan.levels
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                plan.rounds
            );
            let taken = burst::run(runner.as_ref(), plan, verifier, interrupted, &mut seq).await;
            if let Some(why) = &taken.skipped {
                eprintln!("bursts: {key} skipped: {why}");
            }
            let row = &mut results.runtimes[*slot];
            if taken.skipped.is_none() {
                // How its bursts were launched (wasm: on a pool sized to the cores).
                row.details
                    .insert("burst_method".into(), runner.burst_method().into());
            }
            row.bursts = taken.bursts;
            row.burst_skipped_reason = taken.skipped;
            row.teardown_errors.extend(taken.teardown_errors);
            results.burst_samples.extend(taken.samples);
            checkpoint(results);
        }
    }
    !interrupted.load(Ordering::Relaxed)
}
