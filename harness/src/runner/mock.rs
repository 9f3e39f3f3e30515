//! A deterministic stand-in runner for tests of scheduling, verification,
//! statistics and exporters. Its "durations" are computed, not measured, so a whole
//! run can be snapshotted. It is not a runtime: the CLI never offers it, and nothing
//! it produces is a measurement.

use super::{
    ColdStart, Instance, Request, Response, Runner, RunnerInfo, RunnerKey, SampleError,
    StartRequest,
};
use crate::phase::PhaseTimes;
use async_trait::async_trait;
use probe_core::{InitParams, InstanceState, Reference};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

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
        }
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
}

#[async_trait(?Send)]
impl Instance for MockInstance {
    async fn invoke(&mut self, request: Request) -> Result<(Response, PhaseTimes), SampleError> {
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
        Ok((
            Response {
                instance_id: self.id,
                index: self.index,
                checksum: checksum ^ u64::from(corrupt),
            },
            PhaseTimes::total_only(Duration::from_nanos(ns)),
        ))
    }

    async fn teardown(self: Box<Self>) -> Result<Option<Duration>, SampleError> {
        Ok(Some(Duration::from_nanos(self.warm_ns * 3)))
    }
}
