//! Bad input gets a one-line error that says what to do, and exit code 2.

use crate::common::{coldstart, probes_dir};
use predicates::prelude::*;

#[test]
fn unknown_runtime_is_refused() {
    coldstart()
        .args(["run", "--runtime", "process,nosuch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown runtime \"nosuch\""))
        .stderr(predicate::str::contains("process, wasm"));
}

#[test]
fn unknown_variant_is_refused() {
    coldstart()
        .args(["run", "--runtime", "wasm:interp"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("jit, aot, pre"));
}

#[test]
fn bad_numbers_are_refused() {
    for args in [
        &["run", "--cold", "-1"][..],
        &["run", "--init-kib", "-4"],
        &["run", "--warm", "many"],
        &["run", "--timeout", "soon"],
        &["run", "--seed", "1.5"],
        &["run", "--order", "random"],
        &["run", "--settle", "soon"],
        &["run", "--block-size", "-2"],
        &["run", "--max-consecutive-failures", "-1"],
    ] {
        coldstart()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("invalid value"));
    }
}

#[test]
fn nothing_to_measure_is_refused() {
    coldstart()
        .args(["run", "--cold", "0", "--warm", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing to measure"));
}

#[test]
fn zero_timeout_is_refused() {
    coldstart()
        .args(["run", "--timeout", "0s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--timeout must be longer than 0"));
}

#[test]
fn missing_probes_say_how_to_build_them() {
    let empty = tempfile::tempdir().unwrap();
    coldstart()
        .args(["run", "--probes-dir"])
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is missing: build the probes with scripts/build-probes.sh",
        ))
        .stderr(predicate::str::contains("rustup target add"));
    // `runtimes` still answers, and says why each runtime cannot run.
    coldstart()
        .args(["runtimes", "--probes-dir"])
        .arg(empty.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("wasm      no"))
        .stdout(predicate::str::contains("scripts/build-probes.sh"));
}

#[test]
fn unwritable_export_is_refused_before_measuring() {
    coldstart()
        .args(["run", "--runtime", "process", "--cold", "1", "--warm", "1"])
        .args(["--export-json", "/proc/coldstart/no/results.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("writable --export-json"));
}

#[test]
fn runtimes_lists_what_can_run_here() {
    coldstart()
        .env("COLDSTART_PROBES_DIR", probes_dir())
        .arg("runtimes")
        .assert()
        .success()
        .stdout(predicate::str::contains("process   yes"))
        .stdout(predicate::str::contains("wasm      yes"))
        .stdout(predicate::str::contains("wasmtime 48."));
}

#[test]
fn an_empty_block_is_refused() {
    coldstart()
        .args(["run", "--runtime", "process", "--block-size", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--block-size 0"));
}

#[test]
fn a_docker_memory_limit_outside_what_docker_takes_is_refused() {
    // 0 once shifted into "no limit" silently; a limit beyond the host's limits nothing.
    // (1 to 5 MiB reach the daemon, which refuses them with its reason: a docker test.)
    for mib in ["0", "99999999"] {
        coldstart()
            .args(["run", "--runtime", "process", "--docker-memory-mib", mib])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--docker-memory-mib"));
    }
}

#[test]
fn an_export_to_a_device_writes_into_it_and_never_replaces_it() {
    use std::os::unix::fs::FileTypeExt;
    // As root, renaming a temporary file over /dev/null would replace the device.
    coldstart()
        .args(["run", "--runtime", "wasm:pre", "--cold", "2", "--warm", "2"])
        .args([
            "--export-json",
            "/dev/null",
            "--export-markdown",
            "/dev/null",
        ])
        .assert()
        .success();
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(meta.file_type().is_char_device(), "/dev/null was replaced");
}
