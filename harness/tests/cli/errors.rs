//! Bad input gets a one-line error that says what to do, and exit code 2.

use crate::support::{coldstart, probes_dir};
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

#[test]
fn numbers_beyond_what_a_run_can_hold_are_refused() {
    for (args, flag) in [
        (&["--cold", "20000000"][..], "--cold 20000000"),
        (&["--warmup", "20000000"], "--warmup 20000000"),
        (&["--timeout", "2h"], "--timeout 2h"),
        (&["--settle", "2m"], "--settle 2m"),
        (&["--invoke-iters", "99999999999"], "--invoke-iters"),
    ] {
        let out = coldstart()
            .args(["run", "--runtime", "process"])
            .args(args)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

#[test]
fn lambda_deploy_refuses_sizes_that_run_cannot_measure() {
    // Lambda takes 128 to 10240 MB, but `run` has variants for 128, 512 and 1024 only.
    let dir = tempfile::tempdir().unwrap();
    coldstart()
        .args(["lambda", "deploy", "--memory", "256", "--zip-only"])
        .arg(dir.path().join("probe.zip"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--memory 256"))
        .stderr(predicate::str::contains("128, 512, 1024 MB only"));
}

/// The exit codes of `--help`, line for line in the README.
#[test]
fn exit_codes_are_documented_in_help_and_the_readme_alike() {
    let out = coldstart().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let block: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Exit codes:"))
        .take_while(|l| !l.trim().is_empty())
        .collect();
    for code in ["  0 ", "  1 ", "  2 ", "  3 ", "  130 "] {
        assert!(block.iter().any(|l| l.starts_with(code)), "{code}: {help}");
    }
    let readme = std::fs::read_to_string(crate::support::repo_file("README.md")).unwrap();
    for line in &block {
        assert!(readme.contains(line), "README lacks {line:?}");
    }
    // `run --help` says the same.
    let out = coldstart().args(["run", "--help"]).output().unwrap();
    let run_help = String::from_utf8_lossy(&out.stdout);
    for line in &block {
        assert!(run_help.contains(line), "run --help lacks {line:?}");
    }
}

#[test]
fn a_report_that_cannot_be_written_is_an_environment_failure() {
    coldstart()
        .arg("report")
        .arg(crate::support::repo_file("fixtures/results-small.json"))
        .args(["-o", "/proc/coldstart/report.txt"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("/proc/coldstart"));
}
