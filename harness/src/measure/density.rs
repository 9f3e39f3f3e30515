//! Density (`--density N`): memory per live instance, read the two ways
//! Firecracker's, gVisor's and Kata's density tests read it.
//!
//! Each round brings N instances up one after another, each verified by its first
//! response as a cold start is (the time to bring them all up is recorded), holds
//! them, reads memory, and tears them all down (untimed). Memory is read:
//!
//! 1. **host view**: `MemAvailable` of `/proc/meminfo` before the first instance and
//!    with all N live, each once steady (read every 200 ms until two reads differ by
//!    at most 64 KiB, for at most 10 s; nothing is dropped), the difference divided
//!    by the instances live. The two readings' last changes are the round's noise;
//!    the round is `settled` only when that noise is at most 2% of the drop, so a
//!    reading within its noise of zero never counts as settled. It counts
//!    everything the instances cost the host: their processes, the kernel's
//!    structures, a daemon's bookkeeping, page cache they pull in.
//! 2. **per-process view**: the PSS (`/proc/PID/smaps_rollup`) of every process an
//!    instance owns (the probe; a container's processes and its shim or conmon; QEMU)
//!    summed, per instance; where the instances live inside the harness (Wasm), the
//!    larger of the harness's own PSS growth and the resident pages of the
//!    instances' linear memories (`mincore`; a pool keeps slots resident, so the
//!    growth alone can miss them; never the sum, which would count a touched page
//!    twice). The memory cgroup's charge is recorded where readable.
//!
//! Shared pages (the probe's binary, libraries, a daemon) are split among their
//! users by PSS and counted once by the host view; KSM or page deduplication would
//! lower both; the page cache makes the host view depend on what ran before, which
//! the settling and the rounds bound but do not remove.
//!
//! Before each instance `MemAvailable` is checked against a floor (10% of the
//! host's memory): below it no instance is added, and the round says how many it
//! reached and why. A failing cold start is counted and the round goes on; five in
//! a row end it.

use crate::measure::verify::Verifier;
use crate::phase::nanos;
use crate::results::density::settled;
use crate::results::{Density, DensityRound};
use crate::runner::{footprint, Instance, Request, Runner, RunnerKey, Selector, StartRequest};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub instances: u64,
    pub rounds: u64,
    pub invoke_iters: u64,
    /// The variants measured (a suite's `[density] runtimes`); empty: every variant.
    pub variants: Vec<Selector>,
}

impl Plan {
    /// Whether the variant `key` is measured.
    pub fn includes(&self, key: &RunnerKey) -> bool {
        self.variants.is_empty() || self.variants.iter().any(|s| s.selects(key))
    }
}

/// Failed cold starts in a row that end a round.
const MAX_FAILURES_IN_A_ROW: u64 = 5;

/// Errors kept per round.
const KEPT_ERRORS: usize = 5;

/// Two `MemAvailable` reads 200 ms apart this close are taken as steady.
const STEADY_BYTES: u64 = 64 << 10;

/// A `MemAvailable` reading, and its noise: how much the last two reads 200 ms
/// apart differed.
#[derive(Debug, Clone, Copy)]
struct Reading {
    bytes: u64,
    noise: u64,
}

/// `MemAvailable` once two reads 200 ms apart differ by at most [`STEADY_BYTES`]
/// (at most 10 s of reads), with the last difference as its noise.
async fn steady_available() -> Reading {
    let read = || footprint::meminfo().map_or(0, |(available, _)| available);
    let mut previous = read();
    let mut noise = u64::MAX;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = read();
        noise = now.abs_diff(previous);
        previous = now;
        if noise <= STEADY_BYTES {
            break;
        }
    }
    Reading {
        bytes: previous,
        noise,
    }
}

/// What one variant's density rounds gave.
pub struct DensityRun {
    pub density: Density,
    pub teardown_errors: Vec<String>,
}

/// Runs the rounds on one runner. `seq` numbers the requests on.
pub async fn run(
    runner: &dyn Runner,
    plan: &Plan,
    verifier: &mut Verifier,
    interrupted: &AtomicBool,
    seq: &mut u64,
) -> DensityRun {
    let key = runner.key().clone();
    let mut raw = Vec::new();
    let mut teardown_errors = Vec::new();
    let me = std::process::id();
    for round in 0..plan.rounds {
        if interrupted.load(Ordering::Relaxed) {
            break;
        }
        let before = steady_available().await;
        let harness_before = footprint::pss_bytes(me);
        let mut live: Vec<Box<dyn Instance>> = Vec::new();
        let mut stopped = None;
        let mut failed = 0;
        let mut in_a_row = 0;
        let mut errors = Vec::new();
        let started = Instant::now();
        while (live.len() as u64) < plan.instances {
            if interrupted.load(Ordering::Relaxed) {
                stopped = Some("interrupted".to_string());
                break;
            }
            if let Some(why) = footprint::below_floor() {
                stopped = Some(why);
                break;
            }
            *seq += 1;
            let request = Request {
                seq: *seq,
                nonce: rand::random(),
                iters: plan.invoke_iters,
            };
            let asked = StartRequest {
                instance_nonce: rand::random(),
                request,
            };
            let verdict = match runner.cold_start(asked).await {
                Err(e) => Err(e.to_string()),
                Ok(start) => {
                    let init = verifier.started(&start, &asked);
                    let expected = verifier.expect(&init, &request);
                    match verifier
                        .cold(&start.response, &expected)
                        .and(start.not_cold.clone().map_or(Ok(()), Err))
                    {
                        Ok(()) => {
                            live.push(start.instance);
                            Ok(())
                        }
                        Err(e) => {
                            if let Err(te) = start.instance.teardown().await {
                                teardown_errors
                                    .push(format!("{key}: an invalid density instance: {te}"));
                            }
                            Err(format!("invalid: {e}"))
                        }
                    }
                }
            };
            match verdict {
                Ok(()) => in_a_row = 0,
                Err(e) => {
                    failed += 1;
                    in_a_row += 1;
                    if errors.len() < KEPT_ERRORS {
                        errors.push(e.clone());
                    }
                    if in_a_row >= MAX_FAILURES_IN_A_ROW {
                        stopped = Some(format!(
                            "{MAX_FAILURES_IN_A_ROW} cold starts in a row failed, the last: {e}"
                        ));
                        break;
                    }
                }
            }
        }
        let bring_up = started.elapsed();
        let after = steady_available().await;
        let mut pss = Some(0u64);
        let mut cgroup = Some(0u64);
        let mut linear = None::<u64>;
        // An instance inside the harness whose memory could not be read: the sum
        // over the others would be too low, so the round has none.
        let mut linear_unread = false;
        let mut counted = std::collections::HashSet::new();
        for instance in &live {
            let f = instance.footprint().await;
            let in_harness = f.pids.is_empty();
            if in_harness && f.in_harness_bytes.is_none() {
                pss = None;
            }
            for pid in f.pids {
                // A process two instances share (none should) is counted once.
                if counted.insert(pid) {
                    pss = pss.and_then(|sum| Some(sum + footprint::pss_bytes(pid)?));
                }
            }
            cgroup = match (cgroup, f.cgroup_bytes) {
                (Some(sum), Some(b)) => Some(sum + b),
                _ => None,
            };
            match f.in_harness_bytes {
                Some(b) => linear = Some(linear.unwrap_or(0) + b),
                None if in_harness => linear_unread = true,
                None => {}
            }
        }
        if linear_unread {
            linear = None;
        }
        let harness_delta = match (linear, harness_before, footprint::pss_bytes(me)) {
            (Some(_), Some(b), Some(a)) => Some(a as i64 - b as i64),
            _ => None,
        };
        if live.is_empty() {
            pss = None;
            cgroup = None;
        }
        let reached = live.len() as u64;
        if reached < plan.instances && stopped.is_none() {
            stopped = Some("fewer instances came up than asked for".into());
        }
        // One after another, as bursts are torn down (see `burst`).
        for instance in live {
            if let Err(e) = instance.teardown().await {
                teardown_errors.push(format!("{key}: a density instance: {e}"));
            }
        }
        raw.push(DensityRound {
            round,
            reached,
            stopped,
            failed,
            errors,
            mem_available_before_bytes: before.bytes,
            mem_available_after_bytes: after.bytes,
            mem_available_noise_bytes: Some(before.noise.saturating_add(after.noise)),
            settled: settled(
                before.bytes,
                after.bytes,
                before.noise.saturating_add(after.noise),
            ),
            pss_bytes: pss,
            harness_pss_delta_bytes: harness_delta,
            cgroup_bytes: cgroup,
            linear_memory_bytes: linear,
            bring_up_ns: nanos(bring_up),
        });
    }
    DensityRun {
        density: Density::summarize(plan.instances, raw),
        teardown_errors,
    }
}
