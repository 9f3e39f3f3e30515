//! The second engine through the one engine-API runner: Podman's Docker-compatible
//! service (which `.ci/run` starts, with the containers.conf this host needs), torn
//! down on Ctrl-C, and refused with what to do when absent or mistaken for Docker.

use crate::support::*;
use std::time::Duration;

pub(super) const PODMAN_SOCKET: &str = "unix:///run/podman/podman.sock";

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
    // Between blocks (a settle waiting for a quiet host) there may be none: wait
    // for one to exist, then interrupt.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while labelled_containers("podman", &run_id).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never had a live container"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
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
