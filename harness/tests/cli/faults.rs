//! Probes that crash, hang or answer wrongly: each becomes a failed or invalid
//! sample with its reason, the run goes on with the other runtimes, and the exit
//! code says something failed.

use crate::common::{fake_native_probe, fake_wasm_probe, run_to_json, runtime};
use serde_json::Value;
use std::time::{Duration, Instant};

fn run_with(dir: &std::path::Path, runtimes: &str, extra: &[&str]) -> (Value, i32, String) {
    let mut args = vec![
        "--runtime",
        runtimes,
        "--cold",
        "3",
        "--warm",
        "2",
        "--warmup",
        "0",
    ];
    args.extend_from_slice(extra);
    let run = run_to_json(dir, &args);
    (run.doc, run.code.unwrap(), run.stderr)
}

fn errors<'a>(doc: &'a Value, rt: &str, mode: &str) -> Vec<&'a str> {
    doc["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["runtime"] == rt && s["mode"] == mode)
        .map(|s| s["error"].as_str().unwrap_or(""))
        .collect()
}

#[test]
fn a_crashing_probe_fails_its_samples_and_the_run_goes_on() {
    let dir = fake_native_probe("echo 'boom: init failed' >&2\nexit 3");
    let (doc, code, stderr) = run_with(dir.path(), "process,wasm:pre", &["--timeout", "5s"]);
    assert_eq!(code, 1, "{stderr}");
    let process = runtime(&doc, "process", "native");
    assert_eq!(process["modes"]["cold"]["failed"], 3);
    assert_eq!(process["modes"]["cold"]["ok"], 0);
    assert!(process["modes"]["cold"]["phases"]
        .as_object()
        .unwrap()
        .is_empty());
    for e in errors(&doc, "process", "cold") {
        assert!(
            e.contains("exit status: 3") && e.contains("boom: init failed"),
            "{e}"
        );
    }
    for e in errors(&doc, "process", "warm") {
        assert!(e.starts_with("no live instance"), "{e}");
    }
    let pre = runtime(&doc, "wasm", "pre");
    assert_eq!(pre["modes"]["cold"]["ok"], 3);
    assert_eq!(pre["modes"]["warm"]["ok"], 2);
    assert!(
        stderr.contains("samples failed or were invalid"),
        "{stderr}"
    );
}

#[test]
fn a_hanging_probe_times_out() {
    let dir = fake_native_probe("exec sleep 30");
    let start = Instant::now();
    let (doc, code, _) = run_with(dir.path(), "process", &["--timeout", "300ms"]);
    assert_eq!(code, 1);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        runtime(&doc, "process", "native")["modes"]["cold"]["failed"],
        3
    );
    for e in errors(&doc, "process", "cold") {
        assert_eq!(e, "timed out after 300ms");
    }
}

#[test]
fn a_wrong_checksum_is_invalid_and_kept_out_of_the_histograms() {
    let script = r#"printf 'READY %016x\n' $$
i=0
while read cmd seq iters; do
  [ "$cmd" = EXIT ] && exit 0
  printf 'DONE %s %016x %d %016x\n' "$seq" $$ $i 1
  i=$((i+1))
done"#;
    let dir = fake_native_probe(script);
    let (doc, code, _) = run_with(dir.path(), "process", &[]);
    assert_eq!(code, 1);
    let r = runtime(&doc, "process", "native");
    assert_eq!(r["modes"]["cold"]["invalid"], 3);
    assert!(r["modes"]["cold"]["phases"].as_object().unwrap().is_empty());
    for s in doc["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["mode"] == "cold")
    {
        assert_eq!(s["outcome"], "invalid");
        assert!(s["total_ns"].is_u64(), "the time is kept in the raw sample");
        assert!(
            s["error"]
                .as_str()
                .unwrap()
                .starts_with("checksum 0000000000000001, expected"),
            "{s}"
        );
    }
    // No instance ever answered correctly, so there is none to take warm samples on.
    assert_eq!(r["modes"]["warm"]["failed"], 2);
    for e in errors(&doc, "process", "warm") {
        assert!(
            e.starts_with("no live instance: invalid: checksum 0000000000000001"),
            "{e}"
        );
    }
}

#[test]
fn a_reused_instance_is_not_a_cold_start() {
    // Answers correctly, but every "new" instance has the same id.
    let expected = probe_core::expected_checksum(
        probe_core::InitParams::DEFAULT,
        probe_core::DEFAULT_INVOKE_ITERS,
    );
    let script = format!(
        r#"echo 'READY 00000000000000aa'
i=0
while read cmd seq iters; do
  [ "$cmd" = EXIT ] && exit 0
  printf 'DONE %s 00000000000000aa %d {expected:016x}\n' "$seq" $i
  i=$((i+1))
done"#
    );
    let dir = fake_native_probe(&script);
    let (doc, code, _) = run_with(dir.path(), "process", &[]);
    assert_eq!(code, 1);
    let r = runtime(&doc, "process", "native");
    // The warm instance took the id first; every cold start reuses it.
    assert_eq!(r["modes"]["cold"]["invalid"], 3);
    assert_eq!(r["modes"]["warm"]["ok"], 2);
    for e in errors(&doc, "process", "cold") {
        assert!(e.contains("was seen before: not a new instance"), "{e}");
    }
}

#[test]
fn a_hanging_wasm_probe_is_interrupted() {
    let dir = fake_wasm_probe(
        r#"(module
  (memory (export "memory") 1)
  (func (export "coldstart_init") (param i64 i64) (result i64) i64.const 7)
  (func (export "coldstart_invoke") (param i64) (result i32) (loop $spin (br $spin)) i32.const 0))"#,
    );
    let start = Instant::now();
    let (doc, code, _) = run_with(
        dir.path(),
        "wasm:jit,wasm:pre,process",
        &["--timeout", "200ms"],
    );
    assert_eq!(code, 1);
    assert!(start.elapsed() < Duration::from_secs(30));
    for variant in ["jit", "pre"] {
        assert_eq!(runtime(&doc, "wasm", variant)["modes"]["cold"]["failed"], 3);
    }
    for e in errors(&doc, "wasm", "cold") {
        assert_eq!(e, "timed out after 200ms");
    }
    assert_eq!(runtime(&doc, "process", "native")["modes"]["cold"]["ok"], 3);
}

#[test]
fn a_trapping_wasm_probe_crashes_its_samples() {
    let dir = fake_wasm_probe(
        r#"(module
  (memory (export "memory") 1)
  (func (export "coldstart_init") (param i64 i64) (result i64) unreachable)
  (func (export "coldstart_invoke") (param i64) (result i32) i32.const 0))"#,
    );
    let (doc, code, _) = run_with(dir.path(), "wasm:aot", &[]);
    assert_eq!(code, 1);
    assert_eq!(runtime(&doc, "wasm", "aot")["modes"]["cold"]["failed"], 3);
    for e in errors(&doc, "wasm", "cold") {
        assert!(
            e.starts_with("probe crashed: coldstart_init trapped"),
            "{e}"
        );
    }
}
