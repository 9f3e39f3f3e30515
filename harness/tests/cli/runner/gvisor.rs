//! gVisor's runsc registered with dockerd, and the OCI runtimes each engine can use:
//! one run measures gVisor next to Podman's variants (so it needs Podman's service
//! too), and `runtimes` says which variants the preflight found runnable here.

use super::podman::PODMAN_SOCKET;
use crate::support::*;
use serde_json::Value;

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
    if crate::support::hybrid_cgroups() {
        assert!(crun.contains("hybrid mode"), "{crun}");
    }
}
