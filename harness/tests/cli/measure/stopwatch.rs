//! Where the stopwatch sits: the probe sleeps 200 ms at a known point (the
//! test-only `COLDSTART_TEST_SLEEP`, which the harness passes on to every probe),
//! and the time must land in the phase that contains that point and in no other.
//! Each runtime is measured without the sleep and with it, in one test, and the
//! medians of each phase compared: the phase holding the point grows by the sleep,
//! every other phase by much less. A runner that timed the wrong span (a phase
//! boundary in the wrong place, a stopwatch started late) fails here.

use crate::support::{coldstart, command_to_json, docker_lock, runtime};
use serde_json::Value;
use std::collections::BTreeMap;

const SLEEP_NS: u64 = 200_000_000;

/// A sleep in every invocation: the first response of a cold start, and every warm
/// round trip.
const INVOKE_GROWS: &[&str] = &["cold first_response", "cold total", "warm total"];

/// p50 of every cold phase and of the warm total of runtime:variant.
fn medians(doc: &Value, rt: &str, variant: &str) -> BTreeMap<String, u64> {
    let r = runtime(doc, rt, variant);
    let mut out: BTreeMap<String, u64> = r["modes"]["cold"]["phases"]
        .as_object()
        .unwrap_or_else(|| panic!("no cold phases: {r}"))
        .iter()
        .map(|(k, v)| (format!("cold {k}"), v["p50_ns"].as_u64().unwrap()))
        .collect();
    out.insert(
        "warm total".into(),
        r["modes"]["warm"]["phases"]["total"]["p50_ns"]
            .as_u64()
            .unwrap_or_else(|| panic!("no warm samples: {r}")),
    );
    out
}

fn measure(selector: &str, sleep: Option<&str>) -> Value {
    let mut cmd = coldstart();
    if let Some(sleep) = sleep {
        cmd.env("COLDSTART_TEST_SLEEP", sleep);
    }
    let args = [
        "--runtime",
        selector,
        "--cold",
        "3",
        "--warm",
        "3",
        "--warmup",
        "0",
        "--settle",
        "0s",
    ];
    let run = command_to_json(cmd, &args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.doc
}

/// Checks that sleeping at `point` adds ~200 ms to exactly the `grows` phases
/// (`cold <phase>`, `cold total`, `warm total`) and to none of the others.
fn check(selector: &str, point: &str, grows: &[&str]) {
    check_sleeping(selector, point, grows, SLEEP_NS);
}

/// [`check`] with a sleep of `sleep_ns`: longer for a runtime whose cold start moves
/// by more than a quarter of 200 ms from run to run under the suite's load (Docker's
/// 3-sample median took only 147 ms of a 200 ms sleep once).
fn check_sleeping(selector: &str, point: &str, grows: &[&str], sleep_ns: u64) {
    let (rt, variant) = selector.split_once(':').unwrap();
    let plain = medians(&measure(selector, None), rt, variant);
    let slept = medians(
        &measure(
            selector,
            Some(&format!("{point}:{}ms", sleep_ns / 1_000_000)),
        ),
        rt,
        variant,
    );
    for (phase, before) in &plain {
        let after = slept[phase];
        let grew = after.saturating_sub(*before);
        let where_ = format!("{selector} {point}: {phase} {before} ns -> {after} ns");
        if grows.contains(&phase.as_str()) {
            // Most of it, not all: a container's process starts before Docker's
            // start call returns, so the first ms of an init sleep fall in `start`.
            assert!(grew > sleep_ns * 3 / 4, "the sleep is not in {where_}");
        } else {
            assert!(grew < sleep_ns / 2, "the sleep leaked into {where_}");
        }
    }
}

#[test]
fn process_init_lands_in_ready_and_invoke_in_first_response() {
    check("process:native", "init", &["cold ready", "cold total"]);
    check("process:native", "invoke", INVOKE_GROWS);
}

#[test]
fn wasm_init_lands_in_init_and_invoke_in_first_response() {
    for variant in ["wasm:pre", "wasm:jit"] {
        check(variant, "init", &["cold init", "cold total"]);
        check(variant, "invoke", INVOKE_GROWS);
    }
}

#[test]
fn docker_init_lands_in_ready_and_invoke_in_first_response() {
    let _docker = docker_lock();
    let sleep = 5 * SLEEP_NS;
    check_sleeping(
        "docker:runc-none",
        "init",
        &["cold ready", "cold total"],
        sleep,
    );
    check_sleeping("docker:runc-none", "invoke", INVOKE_GROWS, sleep);
}

#[test]
fn lambda_emulator_init_and_invoke_land_in_first_response_not_spawn() {
    check(
        "lambda:local-emulator",
        "init",
        &["cold first_response", "cold total"],
    );
    check("lambda:local-emulator", "invoke", INVOKE_GROWS);
}
