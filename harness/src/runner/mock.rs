//! A deterministic stand-in runner for tests of scheduling, verification,
//! statistics and exporters. Its "durations" are computed, not measured, so a whole
//! run can be snapshotted. It is not a runtime: the CLI never offers it, and nothing
//! it produces is a measurement.
//!
//! [`MockRunner::instrumented`] makes it a test of the harness's clocks instead:
//! its windows are timed for real, a cold start spins through a launch step (a
//! spawn's synchronous work) and arrives at a burst's gate, every window yields to
//! whatever else the harness's thread would run, and any harness work
//! ([`crate::harness_work`]) counted inside a window is logged.

use super::{
    ColdStart, Instance, Request, Response, Runner, RunnerInfo, RunnerKey, SampleError,
    StartRequest, Ticket,
};
use crate::harness_work;
use crate::phase::{PhaseTimes, Stopwatch};
use async_trait::async_trait;
use probe_core::{InitParams, InstanceState, Reference};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What the mock does wrong, and when (0 = never).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Every Nth cold start fails as a crash.
    pub crash_every: u64,
    /// Every Nth response (cold or warm) carries a wrong checksum.
    pub corrupt_every: u64,
    /// Every Nth cold start answers with an instance id it has used before.
    pub reuse_id_every: u64,
    /// These warm answers (counted over the whole runner, from 1) replay the
    /// previous answer's checksum: a cached answer that must not verify.
    pub replay_warm: &'static [u64],
    /// Every Nth cold start answers from an init state made for
    /// [`STALE_INSTANCE_NONCE`] instead of its own (a restored snapshot: a new id
    /// at index 0, the right request nonce, another start's init).
    pub stale_init_every: u64,
}

/// The instance nonce a stale start's init state was made for.
pub const STALE_INSTANCE_NONCE: u64 = 0x5eed_5eed_5eed_5eed;

/// A runner whose instances answer correctly (unless told otherwise) after
/// synthetic, reproducible durations.
pub struct MockRunner {
    key: RunnerKey,
    /// The probe's init work, to answer each instance and request nonce correctly.
    reference: Rc<Reference>,
    faults: Faults,
    warm_answers: Rc<std::cell::Cell<u64>>,
    /// Base of the synthetic durations, so two mocks differ.
    base_ns: u64,
    colds: Cell<u64>,
    responses: Cell<u64>,
    next_id: Cell<u64>,
    instrumented: Option<Instrumented>,
}

/// The real clock of an instrumented mock.
#[derive(Clone)]
struct Instrumented {
    /// How long a cold start's spawn spins (a fork/exec's synchronous work).
    spawn_spin: Duration,
    windows: WindowLog,
}

/// The windows of an instrumented mock that harness work ran inside, named.
pub type WindowLog = Rc<RefCell<Vec<String>>>;

/// Logs the window `what` if harness work was counted since `before`.
fn check_window(windows: &WindowLog, before: u64, what: &str) {
    let inside = harness_work::calls() - before;
    if inside > 0 {
        windows
            .borrow_mut()
            .push(format!("{what}: {inside} harness calls inside"));
    }
}

impl MockRunner {
    /// Instances answer as a probe initialised with `params` does.
    pub fn new(variant: &str, params: InitParams, base_ns: u64, faults: Faults) -> MockRunner {
        MockRunner {
            key: RunnerKey::new("mock", variant),
            reference: Rc::new(Reference::new(params)),
            faults,
            warm_answers: Rc::default(),
            base_ns,
            colds: Cell::new(0),
            responses: Cell::new(0),
            next_id: Cell::new(base_ns << 20),
            instrumented: None,
        }
    }

    /// Times its windows for real (a cold start's spawn spins for `spawn_spin`)
    /// and logs every one that harness work ran inside ([`MockRunner::windows`]).
    pub fn instrumented(mut self, spawn_spin: Duration) -> MockRunner {
        self.instrumented = Some(Instrumented {
            spawn_spin,
            windows: WindowLog::default(),
        });
        self
    }

    /// Where an instrumented mock logs the windows harness work ran inside.
    pub fn windows(&self) -> Option<WindowLog> {
        self.instrumented.as_ref().map(|c| c.windows.clone())
    }

    /// An instrumented cold start, through the gate when in a burst.
    async fn timed_start(
        &self,
        start: StartRequest,
        ticket: Option<Ticket<'_>>,
        clock: &Instrumented,
    ) -> Result<ColdStart, SampleError> {
        let before = harness_work::calls();
        let mut sw = Stopwatch::start();
        let spun = Instant::now() + clock.spawn_spin;
        while Instant::now() < spun {
            std::hint::spin_loop();
        }
        sw.lap("boot");
        super::launch_gate::hold(ticket, &mut sw).await;
        // Waits for its first answer as a probe's pipe read would.
        tokio::task::yield_now().await;
        let mut cold = self.answer(start);
        sw.lap("first_response");
        check_window(&clock.windows, before, "a cold start");
        if let Ok(cold) = &mut cold {
            cold.times = sw.finish();
        }
        cold
    }

    /// A cold start's answer, with its computed durations.
    fn answer(&self, start: StartRequest) -> Result<ColdStart, SampleError> {
        let request = start.request;
        let n = self.colds.get();
        self.colds.set(n + 1);
        if hits(self.faults.crash_every, n) {
            return Err(SampleError::Crashed("mock crash".into()));
        }
        if !hits(self.faults.reuse_id_every, n) {
            self.next_id.set(self.next_id.get() + 1);
        }
        let boot = self.base_ns * 10 + (n * 7919) % (self.base_ns + 1);
        let first = self.base_ns + (n * 104_729) % 97;
        let corrupt = hits(self.faults.corrupt_every, self.responses.get());
        self.responses.set(self.responses.get() + 1);
        let init = self
            .reference
            .instance(if hits(self.faults.stale_init_every, n) {
                STALE_INSTANCE_NONCE
            } else {
                start.instance_nonce
            });
        let checksum = self.reference.checksum(&init, request.iters, request.nonce);
        let response = Response {
            instance_id: self.next_id.get(),
            index: 0,
            checksum: checksum ^ u64::from(corrupt),
        };
        Ok(ColdStart {
            instance: Box::new(MockInstance {
                id: self.next_id.get(),
                index: 0,
                reference: self.reference.clone(),
                init,
                warm_ns: self.base_ns / 2 + n % 13,
                corrupt_every: self.faults.corrupt_every,
                replay_warm: self.faults.replay_warm,
                warm_answers: self.warm_answers.clone(),
                last_checksum: checksum,
                responses: 0,
                windows: self.instrumented.as_ref().map(|c| c.windows.clone()),
            }),
            response,
            times: PhaseTimes {
                phases: vec![("boot", boot), ("first_response", first)],
                total_ns: boot + first,
                ..Default::default()
            },
            shared_instance_nonce: None,
            not_cold: None,
        })
    }
}

fn hits(every: u64, n: u64) -> bool {
    every > 0 && n % every == every - 1
}

#[async_trait(?Send)]
impl Runner for MockRunner {
    fn key(&self) -> &RunnerKey {
        &self.key
    }

    fn cold_phases(&self) -> &'static [&'static str] {
        &["boot", "first_response"]
    }

    fn info(&self) -> RunnerInfo {
        let mut info = RunnerInfo {
            artifact_bytes: Some(1000 + self.base_ns),
            ..Default::default()
        };
        info.versions.insert("mock".into(), "1".into());
        info
    }

    async fn cold_start(&self, start: StartRequest) -> Result<ColdStart, SampleError> {
        match &self.instrumented {
            Some(clock) => self.timed_start(start, None, clock).await,
            None => self.answer(start),
        }
    }

    async fn gated_cold_start(
        &self,
        start: StartRequest,
        ticket: Ticket<'_>,
    ) -> Result<ColdStart, SampleError> {
        match &self.instrumented {
            Some(clock) => self.timed_start(start, Some(ticket), clock).await,
            None => {
                drop(ticket);
                self.answer(start)
            }
        }
    }
}

struct MockInstance {
    id: u64,
    index: u64,
    reference: Rc<Reference>,
    init: InstanceState,
    warm_ns: u64,
    corrupt_every: u64,
    replay_warm: &'static [u64],
    warm_answers: Rc<std::cell::Cell<u64>>,
    last_checksum: u64,
    responses: u64,
    /// Where an instrumented mock logs its windows.
    windows: Option<WindowLog>,
}

#[async_trait(?Send)]
impl Instance for MockInstance {
    async fn invoke(&mut self, request: Request) -> Result<(Response, PhaseTimes), SampleError> {
        let before = harness_work::calls();
        let sw = Stopwatch::start();
        if self.windows.is_some() {
            tokio::task::yield_now().await;
        }
        self.index += 1;
        self.responses += 1;
        let answer = self.warm_answers.get() + 1;
        self.warm_answers.set(answer);
        let corrupt = hits(self.corrupt_every, self.responses);
        let ns = self.warm_ns + self.index % 7;
        let mut checksum = self
            .reference
            .checksum(&self.init, request.iters, request.nonce);
        if self.replay_warm.contains(&answer) {
            checksum = self.last_checksum;
        }
        self.last_checksum = checksum;
        let took = match &self.windows {
            Some(windows) => {
                check_window(windows, before, "a warm round trip");
                sw.elapsed()
            }
            None => Duration::from_nanos(ns),
        };
        Ok((
            Response {
                instance_id: self.id,
                index: self.index,
                checksum: checksum ^ u64::from(corrupt),
            },
            PhaseTimes::total_only(took),
        ))
    }

    async fn teardown(self: Box<Self>) -> Result<Option<Duration>, SampleError> {
        let Some(windows) = &self.windows else {
            return Ok(Some(Duration::from_nanos(self.warm_ns * 3)));
        };
        let before = harness_work::calls();
        let sw = Stopwatch::start();
        tokio::task::yield_now().await;
        check_window(windows, before, "a teardown");
        Ok(Some(sw.elapsed()))
    }
}
