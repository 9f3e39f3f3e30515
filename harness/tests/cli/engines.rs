//! The second engine and the sandboxed runtime through the one engine-API runner:
//! Podman's service (which `.ci/run` starts, with the containers.conf this host
//! needs) and gVisor's runsc registered with dockerd.

use crate::common::*;
use serde_json::Value;
use std::time::Duration;

const PODMAN_SOCKET: &str = "unix:///run/podman/podman.sock";

fn all_ok(doc: &Value) {
    for s in doc["samples"].as_array().unwrap() {
        assert_eq!(s["ok"], true, "{s}");
    }
}

#[test]
fn podman_and_gvisor_give_verified_samples_and_leave_nothing() {
    let _docker = docker_lock();
    let run = command_to_json(
        {
            let mut cmd = coldstart();
            cmd.env("CONTAINER_HOST", PODMAN_SOCKET);
            cmd
        },
        &[
            "--runtime",
            "docker:runsc-none,podman:runc-none,podman:runc-bridge",
            "--cold",
            "3",
            "--warm",
            "5",
            "--warmup",
            "0",
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    all_ok(&run.doc);
    let gvisor = runtime(&run.doc, "docker", "runsc-none");
    assert_eq!(gvisor["modes"]["cold"]["ok"], 3);
    assert_eq!(gvisor["modes"]["warm"]["ok"], 5);
    assert_eq!(gvisor["details"]["oci_runtime"], "runsc");
    assert_eq!(gvisor["details"]["sandbox"], "gvisor");
    assert!(
        gvisor["details"]["gvisor_version"].as_str().is_some(),
        "{gvisor}"
    );
    assert!(gvisor["details"]["gvisor_platform"].as_str().is_some());
    for variant in ["runc-none", "runc-bridge"] {
        let podman = runtime(&run.doc, "podman", variant);
        assert_eq!(podman["modes"]["cold"]["ok"], 3);
        assert_eq!(podman["modes"]["warm"]["ok"], 5);
        assert_eq!(podman["details"]["engine"], "podman");
        assert_eq!(podman["details"]["endpoint"], PODMAN_SOCKET);
        assert!(
            podman["versions"]["podman_engine"].as_str().is_some(),
            "{podman}"
        );
        assert!(podman["versions"].get("docker_engine").is_none());
    }
    let run_id = run.doc["run_id"].as_str().unwrap();
    assert!(labelled_containers("docker", run_id).is_empty());
    assert!(labelled_containers("podman", run_id).is_empty());
}

#[test]
fn podman_after_ctrl_c_leaves_no_container() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("coldstart"))
        .env("COLDSTART_PROBES_DIR", probes_dir())
        .env("CONTAINER_HOST", PODMAN_SOCKET)
        .args([
            "run",
            "--runtime",
            "podman:runc-none",
            "--cold",
            "10000",
            "--warm",
            "10000",
        ])
        .arg("--export-json")
        .arg(&json)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let run_id = wait_for_run_id(&json);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !labelled_containers("podman", &run_id).is_empty(),
        "the run has its live container"
    );
    assert_eq!(sigint(child), Some(130));
    assert!(
        labelled_containers("podman", &run_id).is_empty(),
        "containers left after SIGINT"
    );
    assert_valid_results(&read_json(&json));
}

#[test]
fn an_absent_or_mistaken_engine_is_refused_with_what_to_do() {
    // No service: the command that starts one.
    let out = coldstart()
        .args([
            "run",
            "--runtime",
            "podman",
            "--podman-host",
            "unix:///nonexistent/podman.sock",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("podman system service"), "{stderr}");
    // In the default suite the runtime is skipped with that reason instead.
    let run = command_to_json(
        {
            let mut cmd = coldstart();
            cmd.env("CONTAINER_HOST", "unix:///nonexistent/podman.sock");
            cmd
        },
        &["--runtime", "process", "--cold", "2", "--warm", "2"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // A Docker endpoint that is Podman, and the reverse, are named for what they are.
    let out = coldstart()
        .env("DOCKER_HOST", PODMAN_SOCKET)
        .args(["run", "--runtime", "docker:runc-none", "--cold", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is Podman Engine") && stderr.contains("--runtime podman"),
        "{stderr}"
    );
    let out = coldstart()
        .args([
            "run",
            "--runtime",
            "podman:runc-none",
            "--podman-host",
            "unix:///var/run/docker.sock",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is Docker Engine"), "{stderr}");
}

#[test]
fn runtimes_runs_the_preflight_and_explains_each_variant() {
    let out = coldstart()
        .env("CONTAINER_HOST", PODMAN_SOCKET)
        .arg("runtimes")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")) || l.trim() == name)
            .unwrap_or_else(|| panic!("{name} not listed:\n{stdout}"))
            .to_string()
    };
    // Podman's compatible API ignores a requested OCI runtime: only its default's
    // variants are offered (containers.conf sets runc here).
    assert!(line("podman:crun-none").contains("default OCI runtime"));
    assert!(!line("podman:runc-none").contains("not available"));
    // gVisor registered without its own network cannot use a bridge.
    assert!(line("docker:runsc-bridge").contains("--network=none"));
    assert!(!line("docker:runsc-none").contains("not available"));
    // crun is registered, so only its preflight can tell whether it runs here; on
    // this project's hosts (hybrid cgroups) it cannot, elsewhere it may.
    let crun = line("docker:crun-none");
    if crate::common::hybrid_cgroups() {
        assert!(crun.contains("hybrid mode"), "{crun}");
    }
}
