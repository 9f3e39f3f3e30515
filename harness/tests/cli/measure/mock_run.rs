//! The measurement loop, statistics and exporters on the deterministic mock runner:
//! counts, verification and checkpoints checked exactly, reports snapshotted.

use crate::support::assert_valid_results;
use coldstart::export;
use coldstart::export::writer::Sink;
use coldstart::harness_work;
use coldstart::host::Host;
use coldstart::measure::burst;
use coldstart::measure::verify::Verifier;
use coldstart::measure::{self, Plan};
use coldstart::results::{
    hex, Order, Parameters, ResultFile, RunStatus, RuntimeResult, Sample, Tool,
};
use coldstart::runner::mock::{Faults, MockRunner, STALE_INSTANCE_NONCE};
use coldstart::runner::{Runner, RunnerKey};
use indicatif::ProgressBar;
use probe_core::InitParams;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

const PARAMS: InitParams = InitParams::DEFAULT;

/// Counts what the loop hands to the writer.
#[derive(Default)]
struct Counting {
    samples: usize,
    runtime_updates: usize,
}

impl Sink for Counting {
    fn sample(&mut self, _sample: &Sample) {
        self.samples += 1;
    }
    fn runtimes(&mut self, _runtimes: &[RuntimeResult]) {
        self.runtime_updates += 1;
    }
}

fn plan(order: Order) -> Plan {
    Plan {
        cold: 20,
        warm: 30,
        warmup: 2,
        own_counts: Vec::new(),
        invoke_iters: 50,
        seed: 3,
        order,
        block_size: 10,
        settle: Duration::ZERO,
        max_consecutive_failures: 5,
        baseline: 0,
    }
}

fn empty_results(plan: &Plan) -> ResultFile {
    ResultFile {
        schema_version: coldstart::results::SCHEMA_VERSION,
        tool: Tool::this(),
        run_id: hex(1),
        seed: plan.seed,
        started_at: "2026-01-01T00:00:00Z".into(),
        finished_at: None,
        status: RunStatus::Running,
        wall_time_ns: 0,
        host: Host {
            kernel: "6.1.0-test".into(),
            os: "Test OS".into(),
            cpu_model: "Test CPU".into(),
            logical_cpus: 2,
            memory_bytes: 24 << 30,
            arch: "x86_64".into(),
            cpu_governor: None,
            cpu_freq_driver: None,
            smt: Some("notsupported".into()),
            load_average_start: Some([0.1, 0.2, 0.3]),
            load_average_end: Some([0.4, 0.5, 0.6]),
            cgroup: Some("hybrid".into()),
        },
        parameters: Parameters {
            cold_samples: plan.cold,
            warm_samples: plan.warm,
            warmup: plan.warmup,
            init_kib: 4,
            init_iters: 100,
            invoke_iters: plan.invoke_iters,
            timeout_ns: 1_000_000_000,
            expected_checksum: None,
            variant_counts: Default::default(),
            order: plan.order,
            block_size: Some(plan.block_size),
            settle_ns: plan.settle.as_nanos() as u64,
            max_consecutive_failures: plan.max_consecutive_failures,
            runtimes: vec!["mock".into()],
            languages: vec!["rust".into()],
            suite: None,
            density: None,
            density_rounds: None,
            density_runtimes: None,
            burst: Vec::new(),
            burst_rounds: None,
        },
        runtimes: vec![],
        samples: vec![],
        burst_samples: Vec::new(),
        merged_from: None,
        settles: None,
    }
}

async fn mock_run(faults: [Faults; 2]) -> (ResultFile, Counting) {
    mock_run_with(plan(Order::Blocks), faults).await
}

async fn mock_run_with(plan: Plan, faults: [Faults; 2]) -> (ResultFile, Counting) {
    mock_run_verified(plan, faults, &mut Verifier::new(PARAMS)).await
}

async fn mock_run_verified(
    plan: Plan,
    faults: [Faults; 2],
    verifier: &mut Verifier,
) -> (ResultFile, Counting) {
    let runners: Vec<Box<dyn Runner>> = vec![
        Box::new(MockRunner::new("fast", PARAMS, 100, faults[0])),
        Box::new(MockRunner::new("slow", PARAMS, 5000, faults[1])),
    ];
    mock_run_on(plan, runners, verifier).await
}

async fn mock_run_on(
    plan: Plan,
    mut runners: Vec<Box<dyn Runner>>,
    verifier: &mut Verifier,
) -> (ResultFile, Counting) {
    let mut results = empty_results(&plan);
    let mut slots = Vec::new();
    for r in &runners {
        let info = r.info();
        slots.push(results.runtimes.len());
        let mut phase_order: Vec<String> = r.cold_phases().iter().map(|s| s.to_string()).collect();
        phase_order.push("total".into());
        results.runtimes.push(RuntimeResult {
            available: true,
            skipped_reason: None,
            versions: info.versions,
            artifact_bytes: info.artifact_bytes,
            phase_order,
            ..RuntimeResult::skipped(r.key(), String::new())
        });
    }
    results.runtimes.push(RuntimeResult::skipped(
        &RunnerKey::new("mock", "absent"),
        "not on this host".into(),
    ));
    let mut sink = Counting::default();
    let interrupted = AtomicBool::new(false);
    let progress = ProgressBar::hidden();
    let complete = measure::measure(
        &mut runners,
        &slots,
        &mut results,
        measure::Context {
            plan: &plan,
            verifier,
            progress: &progress,
            interrupted: &interrupted,
            sink: &mut sink,
        },
    )
    .await;
    assert!(complete);
    results.status = RunStatus::Complete;
    results.finished_at = Some("2026-01-01T00:01:00Z".into());
    results.wall_time_ns = 60_000_000_000;
    (results, sink)
}

#[tokio::test]
async fn clean_mock_run_counts_and_hands_every_sample_to_the_writer() {
    let (results, sink) = mock_run([Faults::default(); 2]).await;
    assert_eq!(sink.samples, 2 * 50, "every sample goes to the writer");
    assert_eq!(results.samples.len(), 2 * 50);
    for s in &results.samples {
        // Each request had its own nonce, and the expected checksum is per request.
        assert_eq!(s.checksum, s.expected_checksum, "{s:?}");
        assert!(s.block.is_some());
    }
    let nonces: std::collections::HashSet<_> =
        results.samples.iter().map(|s| s.nonce.clone()).collect();
    assert_eq!(
        nonces.len(),
        results.samples.len(),
        "fresh nonce per request"
    );
    for r in &results.runtimes[..2] {
        assert_eq!(
            (r.modes.cold.ok, r.modes.cold.invalid, r.modes.cold.failed),
            (20, 0, 0)
        );
        assert_eq!(r.modes.warm.ok, 30);
        assert_eq!(r.modes.cold.phases["total"].count, 20);
        assert!(r.teardown.is_some());
    }
    assert_valid_results(&serde_json::to_value(&results).unwrap());
    insta::assert_snapshot!("mock_markdown", export::markdown::render(&results, None));
    insta::assert_snapshot!("mock_table", export::terminal::render(&results, None));
}

#[tokio::test]
async fn faults_are_counted_and_kept_out_of_the_histograms() {
    let faults = Faults {
        crash_every: 5,
        corrupt_every: 7,
        ..Faults::default()
    };
    let reuse = Faults {
        reuse_id_every: 4,
        ..Faults::default()
    };
    let (results, _) = mock_run([faults, reuse]).await;
    let fast = &results.runtimes[0];
    let cold = &fast.modes.cold;
    let warm = &fast.modes.warm;
    let samples = |mode: &str, outcome: &str| {
        results
            .samples
            .iter()
            .filter(|s| s.variant == "fast" && s.mode.name() == mode)
            .filter(|s| serde_json::to_value(s.outcome).unwrap() == outcome)
            .count() as u64
    };
    // The mock and the seeded order are deterministic, so every fault lands on a
    // known item (unrecorded block heads included): exact counts, not "some". Each
    // crash is a failed cold start; each corrupt answer an invalid sample, cold or
    // warm; a warm item whose instance was lost to a bad answer fails.
    assert_eq!((cold.ok, cold.invalid, cold.failed), (14, 2, 4), "{cold:?}");
    assert_eq!((warm.ok, warm.invalid, warm.failed), (21, 6, 3), "{warm:?}");
    // The faults that land on the blocks' unrecorded first items (a warm block's
    // includes starting its instance) are counted apart, exactly too.
    assert_eq!(
        (warm.unrecorded_invalid, warm.unrecorded_failed),
        (1, 1),
        "{warm:?}"
    );
    assert_eq!(cold.failed, samples("cold", "failed"));
    assert_eq!(cold.invalid, samples("cold", "invalid"));
    assert_eq!(cold.ok, samples("cold", "ok"));
    assert_eq!(cold.ok + cold.invalid + cold.failed, 20);
    assert_eq!(cold.phases["total"].count, cold.ok);
    assert_eq!(warm.phases["total"].count, warm.ok);
    let slow = &results.runtimes[1];
    // Every 4th cold start (a warm block's live start included) reuses an id: 6 of
    // the 20 recorded ones.
    assert_eq!(slow.modes.cold.invalid, 6, "{:?}", slow.modes.cold);
    assert_eq!(slow.modes.warm.invalid, 0);
    assert!(results
        .samples
        .iter()
        .filter(|s| s.variant == "slow" && !s.ok)
        .all(|s| s.error.as_deref().unwrap().contains("seen before")));
    assert_valid_results(&serde_json::to_value(&results).unwrap());
}

#[tokio::test]
async fn the_unrecorded_first_item_of_each_block_is_counted_when_it_goes_wrong() {
    // Every cold start of "fast" crashes; every answer of "slow" carries a wrong
    // checksum. Breaker off: 2 cold blocks and 3 warm blocks of 10 each, and each
    // block's first item is unrecorded. A warm block's first item needs a live
    // instance first, whose start fails (fast) or does not verify (slow).
    let plan = Plan {
        max_consecutive_failures: 0,
        ..plan(Order::Blocks)
    };
    let crash = Faults {
        crash_every: 1,
        ..Faults::default()
    };
    let corrupt = Faults {
        corrupt_every: 1,
        ..Faults::default()
    };
    let (results, _) = mock_run_with(plan, [crash, corrupt]).await;
    let counts = |i: usize| {
        let m = &results.runtimes[i].modes;
        [
            (m.cold.failed, m.cold.unrecorded_failed),
            (m.cold.invalid, m.cold.unrecorded_invalid),
            (m.warm.failed, m.warm.unrecorded_failed),
            (m.warm.invalid, m.warm.unrecorded_invalid),
        ]
    };
    assert_eq!(counts(0), [(20, 2), (0, 0), (30, 3), (0, 0)], "fast");
    assert_eq!(counts(1), [(0, 0), (20, 2), (30, 0), (0, 3)], "slow");
    // 100 recorded samples went wrong, and 10 unrecorded items: all count.
    assert_eq!(results.problem_count(), 110);
    let markdown = export::markdown::render(&results, None);
    assert!(
        markdown.contains("| mock | slow | rust | cold | 0 | 20 (+2 unrecorded) | 0 |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| mock | fast | rust | warm | 0 | 0 | 30 (+3 unrecorded) |"),
        "{markdown}"
    );
    let html = coldstart::report::html::render(&results, &[]).unwrap();
    assert!(
        html.contains(
            "<td>mock:slow</td><td>cold</td><td>0</td><td>20 (+2 unrecorded)</td><td>0</td>"
        ),
        "{html}"
    );
    let table = export::terminal::render(&results, None);
    assert!(
        table.contains("mock:slow warm: of the blocks' unrecorded first items, 3 did not verify"),
        "{table}"
    );
    let json = serde_json::to_value(&results).unwrap();
    assert_valid_results(&json);
    assert_eq!(
        json["runtimes"][1]["modes"]["cold"]["unrecorded_invalid"],
        2
    );
}

#[tokio::test]
async fn an_instance_id_of_the_samples_is_caught_in_density_after_them() {
    // Fresh mocks with the same bases hand out the ids the loop's mocks did: with
    // the run's one verifier, density must refuse every one of them.
    let mut verifier = Verifier::new(PARAMS);
    let (mut results, _) =
        mock_run_verified(plan(Order::Blocks), [Faults::default(); 2], &mut verifier).await;
    let again: Vec<Box<dyn Runner>> = vec![
        Box::new(MockRunner::new("fast", PARAMS, 100, Faults::default())),
        Box::new(MockRunner::new("slow", PARAMS, 5000, Faults::default())),
    ];
    let after = measure::AfterSamples {
        density: Some(measure::density::Plan {
            instances: 3,
            rounds: 1,
            invoke_iters: 50,
            variants: Vec::new(),
        }),
        burst: None,
    };
    let complete = measure::density_and_bursts(
        &again,
        &[0, 1],
        &mut results,
        &after,
        &mut verifier,
        &AtomicBool::new(false),
        &mut |_| {},
    )
    .await;
    assert!(complete);
    for r in &results.runtimes[..2] {
        let round = &r.density.as_ref().expect("density taken").raw[0];
        assert_eq!(round.reached, 0, "{round:?}");
        assert!(round.failed > 0, "{round:?}");
        assert!(
            round.errors.iter().all(|e| e.contains("seen before")),
            "{round:?}"
        );
    }
}

#[tokio::test]
async fn a_warm_instance_lives_through_its_own_block_only() {
    // 30 warm items in blocks of 10: each block on a fresh instance, none shared.
    let (results, _) = mock_run([Faults::default(); 2]).await;
    for variant in ["fast", "slow"] {
        let mut ids_by_block: std::collections::BTreeMap<u64, std::collections::BTreeSet<String>> =
            Default::default();
        for s in results
            .samples
            .iter()
            .filter(|s| s.variant == variant && s.mode.name() == "warm")
        {
            ids_by_block
                .entry(s.block.unwrap())
                .or_default()
                .insert(s.instance_id.clone().unwrap());
        }
        assert_eq!(ids_by_block.len(), 3, "{variant}: {ids_by_block:?}");
        let all: std::collections::BTreeSet<&String> = ids_by_block.values().flatten().collect();
        assert!(
            ids_by_block.values().all(|ids| ids.len() == 1) && all.len() == 3,
            "{variant}: one instance per block, a new one each block: {ids_by_block:?}"
        );
    }
}

#[tokio::test]
async fn one_bad_warm_answer_costs_one_sample() {
    // The 10th warm answer of "fast" (warm-up included) replays the previous
    // answer's checksum: a cached answer. Exactly that sample is invalid; the live
    // instance is retired and the next warm items verify on a fresh one.
    let replay = Faults {
        replay_warm: &[10],
        ..Faults::default()
    };
    let (results, _) = mock_run([replay, Faults::default()]).await;
    let fast = &results.runtimes[0];
    assert_eq!(fast.modes.warm.invalid, 1, "{:?}", fast.modes.warm);
    assert_eq!(fast.modes.warm.ok, 29);
    assert_eq!(fast.modes.warm.failed, 0);
    let bad: Vec<&Sample> = results
        .samples
        .iter()
        .filter(|s| s.variant == "fast" && !s.ok)
        .collect();
    assert_eq!(bad.len(), 1);
    assert!(
        bad[0].error.as_deref().unwrap().starts_with("checksum"),
        "{:?}",
        bad[0]
    );
    // The answers after it came from another instance: the bad one was retired.
    let warm_ids: std::collections::BTreeSet<_> = results
        .samples
        .iter()
        .filter(|s| s.variant == "fast" && s.mode.name() == "warm" && s.ok)
        .map(|s| s.instance_id.clone())
        .collect();
    // Three warm blocks, each on its own instance, and one more after the retirement.
    assert_eq!(warm_ids.len(), 4, "{warm_ids:?}");
    assert_eq!(results.runtimes[1].modes.warm.ok, 30);
}

#[tokio::test]
async fn an_init_made_for_another_start_is_not_a_cold_start() {
    // Every 4th cold start of "fast" answers with a new id at index 0 and the right
    // request nonce, but from an init state made for another instance nonce (a
    // restored snapshot). Exactly those samples are invalid: each answer is checked
    // here on its own against the probe core, not through the verifier.
    let stale = Faults {
        stale_init_every: 4,
        ..Faults::default()
    };
    let (results, _) = mock_run([stale, Faults::default()]).await;
    let word = |s: &Option<String>| u64::from_str_radix(s.as_deref().unwrap(), 16).unwrap();
    let answered = |s: &Sample, instance_nonce: u64| {
        word(&s.checksum)
            == probe_core::expected_checksum(PARAMS, instance_nonce, 50, word(&s.nonce))
    };
    let mut stale_cold = 0;
    for s in results.samples.iter().filter(|s| s.mode.name() == "cold") {
        let own = word(&s.instance_nonce);
        let from_the_snapshot = answered(s, STALE_INSTANCE_NONCE);
        assert!(
            from_the_snapshot != answered(s, own),
            "each answer is of one init state: {s:?}"
        );
        assert_eq!(s.ok, !from_the_snapshot, "{s:?}");
        if from_the_snapshot {
            assert_eq!(s.variant, "fast");
            assert_eq!(s.invocation_index, Some(0), "a new instance, at index 0");
            let error = s.error.as_deref().unwrap();
            assert!(
                error.ends_with(&format!(
                    "instance nonce {}",
                    s.instance_nonce.as_ref().unwrap()
                )),
                "{error}"
            );
            stale_cold += 1;
        }
    }
    assert!(stale_cold >= 3, "{stale_cold}");
    assert_eq!(results.runtimes[0].modes.cold.invalid, stale_cold);
    assert_eq!(results.runtimes[1].modes.cold.invalid, 0);
    // Cold starts never share an instance nonce.
    let cold: Vec<&str> = results
        .samples
        .iter()
        .filter(|s| s.mode.name() == "cold")
        .map(|s| s.instance_nonce.as_deref().unwrap())
        .collect();
    let distinct: std::collections::BTreeSet<_> = cold.iter().collect();
    assert_eq!(distinct.len(), cold.len());
}

#[tokio::test]
async fn the_breaker_abandons_a_variant_that_keeps_failing() {
    // Every cold start of "fast" crashes: after 5 in a row it is abandoned and its
    // remaining items are skipped, never attempted; "slow" is measured in full.
    let broken = Faults {
        crash_every: 1,
        ..Faults::default()
    };
    let (results, sink) = mock_run([broken, Faults::default()]).await;
    let fast = &results.runtimes[0];
    let reason = fast.abandoned.as_deref().expect("abandoned");
    assert!(
        reason.contains("5 failed or invalid cold starts in a row"),
        "{reason}"
    );
    assert!(reason.contains("mock crash"), "{reason}");
    let taken = fast.modes.cold.taken() + fast.modes.warm.taken();
    let skipped = fast.modes.cold.skipped + fast.modes.warm.skipped;
    assert_eq!(taken + skipped, 50, "every item is taken or skipped");
    assert!(
        skipped >= 40,
        "abandoned early: {taken} taken, {skipped} skipped"
    );
    assert_eq!(results.skipped_count(), skipped);
    let slow = &results.runtimes[1];
    assert_eq!((slow.modes.cold.ok, slow.modes.warm.ok), (20, 30));
    assert!(slow.abandoned.is_none());
    assert!(
        sink.runtime_updates >= 2,
        "the writer hears of the abandonment"
    );
    assert_valid_results(&serde_json::to_value(&results).unwrap());
}

#[tokio::test]
async fn every_order_takes_every_item() {
    for order in [Order::Blocks, Order::Interleave, Order::Sequential] {
        let (results, _) = mock_run_with(plan(order), [Faults::default(); 2]).await;
        assert_eq!(results.samples.len(), 100, "{order:?}");
        let blocks = results.samples.iter().filter(|s| s.block.is_some()).count();
        match order {
            Order::Interleave => assert_eq!(blocks, 0),
            _ => assert_eq!(blocks, 100),
        }
        if order == Order::Sequential {
            // Variant after variant: all of "fast", then all of "slow".
            let first_slow = results.samples.iter().position(|s| s.variant == "slow");
            assert_eq!(first_slow, Some(50));
        }
    }
}

#[tokio::test]
async fn no_harness_work_runs_inside_a_window() {
    // Instrumented mocks time their windows for real and yield inside each, so
    // anything the harness ran on its thread meanwhile (verifying, recording,
    // handing samples over, reading the host's memory) would be logged. A guard:
    // nothing does today. The end of the test shows it catching some.
    let fast = MockRunner::new("fast", PARAMS, 100, Faults::default())
        .instrumented(Duration::from_micros(20));
    let slow = MockRunner::new("slow", PARAMS, 5000, Faults::default())
        .instrumented(Duration::from_micros(50));
    let (fast_windows, slow_windows) = (fast.windows().unwrap(), slow.windows().unwrap());
    let before = harness_work::calls();
    let mut verifier = Verifier::new(PARAMS);
    let (mut results, _) = mock_run_on(
        plan(Order::Blocks),
        vec![Box::new(fast), Box::new(slow)],
        &mut verifier,
    )
    .await;
    let after = measure::AfterSamples {
        density: Some(measure::density::Plan {
            instances: 3,
            rounds: 2,
            invoke_iters: 50,
            variants: Vec::new(),
        }),
        burst: Some(burst::Plan {
            levels: vec![1, 4],
            rounds: 2,
            invoke_iters: 50,
        }),
    };
    // Fresh ids (another base) for the run's one verifier, in a row of its own.
    let after_fast = MockRunner::new("fast-after", PARAMS, 300, Faults::default())
        .instrumented(Duration::from_micros(20));
    let after_windows = after_fast.windows().unwrap();
    let slot = results.runtimes.len();
    results
        .runtimes
        .push(coldstart::runner::result_row(&after_fast));
    let runners = vec![Box::new(after_fast) as Box<dyn Runner>];
    assert!(
        measure::density_and_bursts(
            &runners,
            &[slot],
            &mut results,
            &after,
            &mut verifier,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .await
    );
    let row = &results.runtimes[slot];
    assert!(
        row.bursts.len() == 2 && row.density.is_some(),
        "density and bursts were measured"
    );
    // The instrumentation is live: the harness's work between windows was counted.
    assert!(harness_work::calls() - before > 500);
    for windows in [fast_windows, slow_windows, after_windows] {
        assert_eq!(*windows.borrow(), Vec::<String>::new());
    }

    // The control: one read of /proc/meminfo on the harness's thread while a burst's
    // starts wait for their answers (what the wasm pool once did inside its first
    // sample's clock) is in the windows still open then.
    let caught = MockRunner::new("caught", PARAMS, 700, Faults::default())
        .instrumented(Duration::from_micros(20));
    let windows = caught.windows().unwrap();
    let plan = burst::Plan {
        levels: vec![3],
        rounds: 1,
        invoke_iters: 50,
    };
    let mut seq = 0;
    let interrupted = AtomicBool::new(false);
    let (taken, _) = tokio::join!(
        burst::run(&caught, &plan, &mut verifier, &interrupted, &mut seq),
        async {
            tokio::task::yield_now().await;
            coldstart::runner::footprint::meminfo();
        }
    );
    assert_eq!(taken.samples.len(), 3);
    let logged = windows.borrow();
    assert!(!logged.is_empty(), "the meminfo read went unseen");
    assert!(
        logged
            .iter()
            .all(|w| w == "a cold start: 1 harness calls inside"),
        "{logged:?}"
    );
}

#[tokio::test]
async fn a_burst_holds_each_launch_at_the_gate_not_in_the_phases_after_it() {
    // Each cold start spins 4 ms in its launch step (a spawn's synchronous work)
    // on the harness's one thread. Without the gate the first instance's answer,
    // read only after the other four spawns, would take 16 ms of them.
    const SPIN_NS: u64 = 4_000_000;
    let runner = MockRunner::new("gated", PARAMS, 100, Faults::default())
        .instrumented(Duration::from_nanos(SPIN_NS));
    let windows = runner.windows().unwrap();
    let plan = burst::Plan {
        levels: vec![5],
        rounds: 2,
        invoke_iters: 50,
    };
    let mut seq = 0;
    let taken = burst::run(
        &runner,
        &plan,
        &mut Verifier::new(PARAMS),
        &AtomicBool::new(false),
        &mut seq,
    )
    .await;
    assert_eq!(taken.samples.len(), 10);
    assert!(taken.samples.iter().all(|s| s.ok), "{:?}", taken.samples);
    for round in taken.samples.chunks(5) {
        for (i, s) in round.iter().enumerate() {
            let phase = |name: &str| s.phases_ns[name];
            // Its own launch, the four after it or before it, and no spawn after the gate.
            assert!(phase("boot") >= SPIN_NS, "{s:?}");
            // Without the gate the first sample's would hold all four others (16 ms).
            assert!(
                phase("first_response") < 2 * SPIN_NS,
                "sample {i} of its round absorbed a spawn after the gate: {s:?}"
            );
            let others = phase("wait") + phase("held");
            assert!(others >= 4 * SPIN_NS, "sample {i}: {s:?}");
        }
        // The first launched waited for no spawn and was held for the four after it.
        assert!(round[0].phases_ns["wait"] < SPIN_NS, "{:?}", round[0]);
        assert!(round[0].phases_ns["held"] >= 4 * SPIN_NS, "{:?}", round[0]);
    }
    let level = &taken.bursts[0];
    assert!(level.phases.contains_key("held"), "{:?}", level.phases);
    assert_eq!(*windows.borrow(), Vec::<String>::new());
}
