//! The docker runner against the real daemon that .ci/run starts: verified samples,
//! the image built once and reused, and no container left behind, whatever happens.

use crate::support::{
    assert_valid_results, coldstart, coldstart_with, containers_of_run, docker_lock, probes_dir,
    read_json, run_to_json, runtime, sigint, spawn_run, wait_for_run_id,
};
use predicates::prelude::*;
use serde_json::Value;
use std::time::{Duration, Instant};

fn run_docker(args: &[&str]) -> (Value, Option<i32>, String) {
    let mut all = vec!["--warmup", "0"];
    all.extend_from_slice(args);
    let run = run_to_json(&probes_dir(), &all);
    (run.doc, run.code, run.stderr)
}

#[test]
fn docker_samples_are_verified_phase_by_phase_and_nothing_is_left() {
    let _docker = docker_lock();
    let (doc, code, stderr) = run_docker(&[
        "--runtime",
        "docker:runc-none,docker:runc-none-image",
        "--cold",
        "3",
        "--warm",
        "5",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let r = runtime(&doc, "docker", "runc-none");
    assert_eq!(r["modes"]["cold"]["ok"], 3);
    assert_eq!(r["modes"]["warm"]["ok"], 5);
    let phases: Vec<&str> = r["modes"]["cold"]["phases"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for phase in [
        "create",
        "attach",
        "start",
        "ready",
        "first_response",
        "total",
    ] {
        assert!(phases.contains(&phase), "{phase} missing: {phases:?}");
    }
    assert!(
        r["artifact_bytes"].as_u64().unwrap() > 100_000,
        "the image holds the probe"
    );
    assert!(r["details"]["image_id"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert!(r["versions"]["docker_api"].as_str().is_some());
    assert!(r["teardown"]["count"].as_u64() == Some(3));
    let image = runtime(&doc, "docker", "runc-none-image");
    assert_eq!(image["modes"]["cold"]["ok"], 3);
    assert_eq!(
        image["modes"]["warm"]["ok"], 0,
        "the image-load variant takes no warm samples"
    );
    assert!(image["modes"]["cold"]["phases"]["image_load"]["count"] == 3);
    for s in doc["samples"].as_array().unwrap() {
        assert_eq!(s["ok"], true, "{s}");
    }
    assert!(containers_of_run(doc["run_id"].as_str().unwrap()).is_empty());
    let load_tag = image["details"]["image"].as_str().unwrap();
    let left = std::process::Command::new("docker")
        .args(["image", "inspect", load_tag])
        .output()
        .unwrap();
    assert!(
        !left.status.success(),
        "the load image {load_tag} is removed after the run"
    );
}

#[test]
fn the_image_is_built_once_and_reused() {
    let _docker = docker_lock();
    // A probe of unique content (trailing bytes do not change what the ELF runs).
    let dir = crate::support::copied_probes();
    let probe = dir.path().join("coldstart-probe");
    let mut bytes = std::fs::read(&probe).unwrap();
    bytes.extend_from_slice(
        format!("coldstart-test-{}-{:?}", std::process::id(), Instant::now()).as_bytes(),
    );
    std::fs::write(&probe, bytes).unwrap();
    let run = || {
        let json = dir.path().join("out.json");
        coldstart_with(dir.path())
            .args([
                "run",
                "--runtime",
                "docker:runc-none",
                "--cold",
                "1",
                "--warm",
                "1",
                "--warmup",
                "0",
                "--export-json",
            ])
            .arg(&json)
            .assert()
            .success();
        read_json(&json)
    };
    let first = run();
    let second = run();
    let details = |doc: &Value| runtime(doc, "docker", "runc-none")["details"].clone();
    assert_eq!(details(&first)["image_built_this_run"], true);
    assert_eq!(details(&second)["image_built_this_run"], false);
    assert_eq!(details(&first)["image_id"], details(&second)["image_id"]);
    let tag = details(&first)["image"].as_str().unwrap().to_string();
    std::process::Command::new("docker")
        .args(["rmi", &tag])
        .output()
        .unwrap();
}

#[test]
fn failing_samples_leave_no_container() {
    let _docker = docker_lock();
    // 64 MiB of init memory in an 8 MiB container: the kernel kills every instance.
    let (doc, code, _) = run_docker(&[
        "--runtime",
        "docker:runc-none",
        "--cold",
        "2",
        "--warm",
        "2",
        "--init-kib",
        "65536",
        "--docker-memory-mib",
        "8",
        "--max-consecutive-failures",
        "0",
    ]);
    assert_eq!(code, Some(1));
    let r = runtime(&doc, "docker", "runc-none");
    assert_eq!(r["modes"]["cold"]["failed"], 2);
    assert_eq!(r["modes"]["warm"]["failed"], 2);
    for s in doc["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["mode"] == "cold")
    {
        let e = s["error"].as_str().unwrap();
        assert!(
            e.contains("closed its output") && e.contains("exit code 137"),
            "{e}"
        );
    }
    assert!(containers_of_run(doc["run_id"].as_str().unwrap()).is_empty());
}

#[test]
fn sigint_mid_run_leaves_no_container() {
    let _docker = docker_lock();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let args = [
        "--runtime",
        "docker:runc-none",
        "--cold",
        "10000",
        "--warm",
        "10000",
        "--warmup",
        "0",
    ];
    let child = spawn_run(&probes_dir(), &args, &json);
    // The first write (before measuring) names the run; let containers come and go.
    let run_id = wait_for_run_id(&json);
    // Between blocks (a settle waiting for a quiet host) there may be none: wait
    // for one to exist, then interrupt.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while containers_of_run(&run_id).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never had a live container"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(sigint(child), Some(130));
    assert!(
        containers_of_run(&run_id).is_empty(),
        "containers left after SIGINT"
    );
    let doc = read_json(&json);
    assert_valid_results(&doc);
    assert_eq!(doc["status"], "interrupted");
    assert!(!doc["samples"].as_array().unwrap().is_empty());
}

#[test]
fn stale_containers_of_dead_runs_are_removed_and_reported() {
    let _docker = docker_lock();
    // An earlier run's container whose harness (pid 4194303, above pid_max) is gone.
    let (doc, _, _) = run_docker(&[
        "--runtime",
        "docker:runc-none",
        "--cold",
        "1",
        "--warm",
        "1",
    ]);
    let image = runtime(&doc, "docker", "runc-none")["details"]["image"]
        .as_str()
        .unwrap()
        .to_string();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let created = std::process::Command::new("docker")
        .args([
            "create",
            "--label",
            "coldstart.run=stale-test-run",
            "--label",
            "coldstart.pid=4194303",
        ])
        .args(["--label", &format!("coldstart.host={hostname}"), &image])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert_eq!(containers_of_run("stale-test-run").len(), 1);
    let (doc, code, stderr) = run_docker(&[
        "--runtime",
        "docker:runc-none",
        "--cold",
        "1",
        "--warm",
        "1",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("left by run stale-test-run"), "{stderr}");
    assert!(containers_of_run("stale-test-run").is_empty());
    let removed = &runtime(&doc, "docker", "runc-none")["details"]["stale_containers_removed"];
    assert!(removed.to_string().contains("stale-test-run"), "{removed}");
}

#[test]
fn no_daemon_is_an_error_when_named_and_a_skip_otherwise() {
    let _docker = docker_lock();
    let host = format!(
        "unix:///tmp/coldstart-no-daemon-{}.sock",
        std::process::id()
    );
    coldstart()
        .env("DOCKER_HOST", &host)
        .args(["run", "--runtime", "docker", "--cold", "1", "--warm", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "no Docker daemon at {host}"
        )))
        .stderr(predicate::str::contains("--runtime process,wasm"));
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    coldstart()
        .env("DOCKER_HOST", &host)
        .args([
            "run",
            "--cold",
            "2",
            "--warm",
            "2",
            "--warmup",
            "0",
            "--export-json",
        ])
        .arg(&json)
        .assert()
        .success();
    let doc = read_json(&json);
    assert_valid_results(&doc);
    let docker: Vec<&Value> = doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["runtime"] == "docker")
        .collect();
    assert_eq!(docker.len(), 7, "every docker variant, each skipped");
    for r in docker {
        assert_eq!(r["available"], false);
        assert!(r["skipped_reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("no Docker daemon at {host}")));
    }
    assert_eq!(runtime(&doc, "process", "native")["modes"]["cold"]["ok"], 2);
    coldstart()
        .env("DOCKER_HOST", &host)
        .arg("runtimes")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "docker    no   no Docker daemon at {host}"
        )));
}

#[test]
fn a_variant_that_cannot_start_containers_is_refused_with_the_reason() {
    let _docker = docker_lock();
    coldstart()
        .args([
            "run",
            "--runtime",
            "docker:runc-none",
            "--cold",
            "1",
            "--warm",
            "1",
            "--docker-memory-mib",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "docker:runc-none cannot run here: a first container with runc did not start",
        ))
        .stderr(predicate::str::contains("Minimum memory limit"));
}
