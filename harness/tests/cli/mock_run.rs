//! The measurement loop, statistics and exporters on the deterministic mock runner:
//! counts, verification and checkpoints checked exactly, reports snapshotted.

use crate::common::assert_valid_results;
use coldstart::export;
use coldstart::host::Host;
use coldstart::measure::{self, Plan};
use coldstart::results::{hex, Parameters, ResultFile, RunStatus, RuntimeResult, Tool};
use coldstart::runner::mock::{Faults, MockRunner};
use coldstart::runner::Runner;
use coldstart::verify::Verifier;
use indicatif::ProgressBar;
use std::sync::atomic::AtomicBool;

const EXPECTED: u64 = 0xfeed_f00d;

fn empty_results(plan: &Plan) -> ResultFile {
    ResultFile {
        schema_version: 1,
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
        },
        parameters: Parameters {
            cold_samples: plan.cold,
            warm_samples: plan.warm,
            warmup: plan.warmup,
            init_kib: 4,
            init_iters: 100,
            invoke_iters: plan.invoke_iters,
            timeout_ns: 1_000_000_000,
            expected_checksum: hex(EXPECTED),
            runtimes: vec!["mock".into()],
            suite: None,
        },
        runtimes: vec![],
        samples: vec![],
        merged_from: None,
    }
}

async fn mock_run(faults: [Faults; 2]) -> (ResultFile, usize) {
    let plan = Plan {
        cold: 20,
        warm: 30,
        warmup: 2,
        invoke_iters: 50,
        seed: 3,
    };
    let mut results = empty_results(&plan);
    let mut runners: Vec<Box<dyn Runner>> = vec![
        Box::new(MockRunner::new("fast", EXPECTED, 100, faults[0])),
        Box::new(MockRunner::new("slow", EXPECTED, 5000, faults[1])),
    ];
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
            ..RuntimeResult::skipped(&r.key().runtime, &r.key().variant, String::new())
        });
    }
    results.runtimes.push(RuntimeResult::skipped(
        "mock",
        "absent",
        "not on this host".into(),
    ));
    let mut checkpoints = 0;
    let interrupted = AtomicBool::new(false);
    let progress = ProgressBar::hidden();
    let mut checkpoint = |r: &ResultFile| {
        checkpoints += 1;
        assert_eq!(r.status, RunStatus::Running);
    };
    let complete = measure::measure(
        &mut runners,
        &slots,
        &mut results,
        measure::Context {
            plan: &plan,
            verifier: Verifier::new(EXPECTED),
            progress: &progress,
            interrupted: &interrupted,
            checkpoint: &mut checkpoint,
        },
    )
    .await;
    assert!(complete);
    results.status = RunStatus::Complete;
    results.finished_at = Some("2026-01-01T00:01:00Z".into());
    results.wall_time_ns = 60_000_000_000;
    (results, checkpoints)
}

#[tokio::test]
async fn clean_mock_run_counts_and_checkpoints() {
    let (results, checkpoints) = mock_run([Faults::default(); 2]).await;
    // One checkpoint after each variant's last item.
    assert_eq!(checkpoints, 2);
    assert_eq!(results.samples.len(), 2 * 50);
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
    insta::assert_snapshot!("mock_markdown", export::markdown::render(&results));
    insta::assert_snapshot!("mock_table", export::table::render(&results));
}

#[tokio::test]
async fn faults_are_counted_and_kept_out_of_the_histograms() {
    let faults = Faults {
        crash_every: 5,
        corrupt_every: 7,
        reuse_id_every: 0,
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
    assert!(cold.failed > 0 && cold.invalid > 0, "{cold:?}");
    assert!(warm.invalid > 0, "{warm:?}");
    assert_eq!(cold.failed, samples("cold", "failed"));
    assert_eq!(cold.invalid, samples("cold", "invalid"));
    assert_eq!(cold.ok, samples("cold", "ok"));
    assert_eq!(cold.ok + cold.invalid + cold.failed, 20);
    assert_eq!(cold.phases["total"].count, cold.ok);
    assert_eq!(warm.phases["total"].count, warm.ok);
    let slow = &results.runtimes[1];
    assert!(slow.modes.cold.invalid > 0);
    assert!(results
        .samples
        .iter()
        .filter(|s| s.variant == "slow" && !s.ok)
        .all(|s| s.error.as_deref().unwrap().contains("seen before")));
    assert_valid_results(&serde_json::to_value(&results).unwrap());
}
