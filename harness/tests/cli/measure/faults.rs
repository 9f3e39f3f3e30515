//! Probes that crash, hang or answer wrongly: each becomes a failed or invalid
//! sample with its reason, the run goes on with the other runtimes, and the exit
//! code says something failed.

use crate::support::{fake_native_probe, fake_wasm_probe, run_to_json, runtime};
use serde_json::Value;
use std::time::{Duration, Instant};

/// For the tests that count every failure: the circuit breaker off.
const NO_BREAKER: [&str; 2] = ["--max-consecutive-failures", "0"];

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
    let (doc, code, stderr) = run_with(
        dir.path(),
        "process,wasm:pre",
        &["--timeout", "5s", NO_BREAKER[0], NO_BREAKER[1]],
    );
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
    let (doc, code, _) = run_with(
        dir.path(),
        "process",
        &["--timeout", "300ms", NO_BREAKER[0], NO_BREAKER[1]],
    );
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
while read cmd seq nonce iters; do
  [ "$cmd" = EXIT ] && exit 0
  printf 'DONE %s %016x %d %016x\n' "$seq" $$ $i 1
  i=$((i+1))
done"#;
    let dir = fake_native_probe(script);
    let (doc, code, _) = run_with(dir.path(), "process", &NO_BREAKER);
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

/// A fake native probe that wraps the real one (whose path it is given) with a
/// shell filter: `{probe}` in `script` stands for the real probe.
fn wrapping_probe(script: &str) -> tempfile::TempDir {
    let real = crate::support::probes_dir().join("coldstart-probe");
    fake_native_probe(&script.replace("{probe}", &real.display().to_string()))
}

#[test]
fn a_reused_instance_is_not_a_cold_start() {
    // Answers correctly (the real probe computes), but every "new" instance reports
    // the same id.
    let dir = wrapping_probe(
        r#"{probe} "$@" | sed -u -E 's/^(READY|DONE [0-9]+) [0-9a-f]{16}/\1 00000000000000aa/'"#,
    );
    let (doc, code, _) = run_with(
        dir.path(),
        "process",
        &["--order", "sequential", NO_BREAKER[0], NO_BREAKER[1]],
    );
    assert_eq!(code, 1);
    let r = runtime(&doc, "process", "native");
    // The cold block's unrecorded first start took the id; every later start reuses
    // it: the 3 recorded cold starts, and the warm block's live instance (its block's
    // first item, counted unrecorded), so the warm items have no instance.
    assert_eq!(r["modes"]["cold"]["invalid"], 3);
    assert_eq!(r["modes"]["warm"]["unrecorded_invalid"], 1, "{r}");
    assert_eq!(r["modes"]["warm"]["failed"], 2, "{r}");
    for e in errors(&doc, "process", "cold") {
        assert!(e.contains("was seen before: not a new instance"), "{e}");
    }
}

#[test]
fn a_replayed_answer_is_invalid() {
    // A probe that caches: it computes its first answer for real, then replays
    // that answer's checksum to every later request (index counted correctly).
    // Only the per-request nonce can tell; without it every sample would verify.
    let dir = wrapping_probe(
        r#"{probe} "$@" | python3 -u -c '
import sys
first = None
for line in sys.stdin:
    words = line.split()
    if words and words[0] == "DONE":
        first = first or words[4]
        words[4] = first
        line = " ".join(words) + "\n"
    sys.stdout.write(line)
    sys.stdout.flush()
'"#,
    );
    let args = [
        "--runtime",
        "process",
        "--cold",
        "2",
        "--warm",
        "6",
        "--warmup",
        "0",
    ];
    let run = run_to_json(dir.path(), &args);
    let (doc, code) = (run.doc, run.code.unwrap());
    assert_eq!(code, 1);
    let r = runtime(&doc, "process", "native");
    // Each instance's first answer is real: cold starts verify.
    assert_eq!(r["modes"]["cold"]["ok"], 2, "{r}");
    // Every warm answer is a replay: invalid, each retiring its instance, so each
    // warm sample is a first replay on a fresh instance (one bad answer, one sample).
    assert_eq!(r["modes"]["warm"]["invalid"], 6, "{r}");
    for e in errors(&doc, "process", "warm") {
        assert!(e.starts_with("checksum") && e.contains("for nonce"), "{e}");
    }
    for s in doc["samples"].as_array().unwrap() {
        assert_ne!(s["nonce"], Value::Null);
        assert_ne!(s["expected_checksum"], Value::Null);
    }
}

#[test]
fn a_failed_teardown_is_counted_and_fails_the_run() {
    // Serves correctly, then exits 3 after EXIT: every teardown fails.
    let dir = wrapping_probe("{probe} \"$@\"\nexit 3");
    let (doc, code, stderr) = run_with(dir.path(), "process", &[]);
    assert_eq!(code, 1, "{stderr}");
    let r = runtime(&doc, "process", "native");
    assert_eq!(
        r["modes"]["cold"]["ok"], 3,
        "the starts themselves were fine"
    );
    for s in doc["samples"].as_array().unwrap() {
        if s["mode"] == "cold" {
            assert_eq!(s["ok"], true);
            let e = s["teardown_error"].as_str().unwrap();
            assert!(e.contains("exit status: 3"), "{e}");
        }
    }
    // The three samples' teardowns, the block's unrecorded first cold start's, and
    // the warm instance's at the end: every instance the run started.
    let errors = r["teardown_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 5, "{errors:?}");
    for e in errors {
        assert!(e.as_str().unwrap().contains("exit status: 3"), "{e}");
    }
    assert!(stderr.contains("teardowns failed"), "{stderr}");
}

#[test]
fn the_breaker_abandons_a_hanging_probe_in_seconds() {
    // Without the breaker, 1000 warm items would each wait out the timeout.
    let dir = fake_native_probe("exec sleep 30");
    let start = Instant::now();
    let args = [
        "--runtime",
        "process,wasm:pre",
        "--timeout",
        "200ms",
        "--cold",
        "3",
        "--warm",
        "1000",
        "--warmup",
        "3",
    ];
    let run = run_to_json(dir.path(), &args);
    let (doc, code, stderr) = (run.doc, run.code.unwrap(), run.stderr);
    let took = start.elapsed();
    assert_eq!(code, 1);
    assert!(took < Duration::from_secs(20), "{took:?}");
    let r = runtime(&doc, "process", "native");
    let reason = r["abandoned"].as_str().unwrap();
    assert!(
        reason.contains("5 failed or invalid cold starts in a row"),
        "{reason}"
    );
    assert!(reason.contains("timed out after 200ms"), "{reason}");
    let skipped = r["modes"]["cold"]["skipped"].as_u64().unwrap()
        + r["modes"]["warm"]["skipped"].as_u64().unwrap();
    assert!(skipped >= 1000, "{r}");
    assert!(stderr.contains("abandoned"), "{stderr}");
    // The other variant is measured in full.
    let pre = runtime(&doc, "wasm", "pre");
    assert_eq!(pre["modes"]["warm"]["ok"], 1000);
    assert!(pre.get("abandoned").is_none());
}

#[test]
fn a_hanging_wasm_probe_is_interrupted() {
    let dir = fake_wasm_probe(
        r#"(module
  (memory (export "memory") 1)
  (func (export "coldstart_init") (param i64 i64 i64) (result i64) i64.const 7)
  (func (export "coldstart_invoke") (param i64 i64) (result i32) (loop $spin (br $spin)) i32.const 0))"#,
    );
    let start = Instant::now();
    let (doc, code, _) = run_with(
        dir.path(),
        "wasm:jit,wasm:pre,process",
        &["--timeout", "200ms", NO_BREAKER[0], NO_BREAKER[1]],
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
  (func (export "coldstart_init") (param i64 i64 i64) (result i64) unreachable)
  (func (export "coldstart_invoke") (param i64 i64) (result i32) i32.const 0))"#,
    );
    let (doc, code, _) = run_with(dir.path(), "wasm:aot", &NO_BREAKER);
    assert_eq!(code, 1);
    assert_eq!(runtime(&doc, "wasm", "aot")["modes"]["cold"]["failed"], 3);
    for e in errors(&doc, "wasm", "cold") {
        assert!(
            e.starts_with("probe crashed: coldstart_init trapped"),
            "{e}"
        );
    }
}
