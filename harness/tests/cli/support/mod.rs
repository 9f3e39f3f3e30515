//! Helpers shared by the integration tests.

pub mod aws_stub;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The built probes; the tests need them and say how to get them.
pub fn probes_dir() -> PathBuf {
    let dir = std::env::var_os("COLDSTART_PROBES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../probes/out"));
    assert!(
        dir.join("coldstart-probe").is_file() && dir.join("coldstart_probe.wasm").is_file(),
        "the probes are not built in {}: run scripts/build-probes.sh (scripts/test does)",
        dir.display()
    );
    dir
}

pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The coldstart binary with the real probes, and no environment leaking in: in
/// particular no AWS credentials, so no test ever reaches a real AWS account
/// (the lambda tests give moto's test credentials explicitly).
pub fn coldstart() -> Command {
    let mut cmd = with_host_aws();
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/coldstart-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/coldstart-test");
    cmd
}

/// The coldstart binary with the real probes and this machine's AWS setup: only for
/// the `#[ignore]`d real-AWS tests.
pub fn with_host_aws() -> Command {
    let mut cmd = Command::cargo_bin("coldstart").expect("the coldstart binary is built");
    cmd.env("COLDSTART_PROBES_DIR", probes_dir());
    cmd
}

/// Validates a result document against results/schema.json; panics with every error.
pub fn assert_valid_results(doc: &Value) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_file("results/schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "results do not match the schema:\n{}",
        errors.join("\n")
    );
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The entry of `runtimes` for runtime:variant of the Rust probe.
pub fn runtime<'a>(doc: &'a Value, runtime: &str, variant: &str) -> &'a Value {
    row_in(doc, runtime, variant, "rust")
}

/// The entry of `runtimes` for runtime:variant in `language` (a file before schema 3
/// has no language: its rows are Rust's).
pub fn row_in<'a>(doc: &'a Value, runtime: &str, variant: &str, language: &str) -> &'a Value {
    doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            let of = r.get("language").and_then(Value::as_str).unwrap_or("rust");
            r["runtime"] == runtime && r["variant"] == variant && of == language
        })
        .unwrap_or_else(|| panic!("no {runtime}:{variant} in {language} in the results"))
}

/// A probes directory with a fake native probe (a shell script) and the real wasm.
pub fn fake_native_probe(script: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coldstart-probe");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::copy(
        probes_dir().join("coldstart_probe.wasm"),
        dir.path().join("coldstart_probe.wasm"),
    )
    .unwrap();
    dir
}

/// A probes directory with the real native probe and a fake wasm module (WAT text,
/// which wasmtime compiles as well).
pub fn fake_wasm_probe(wat: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        probes_dir().join("coldstart-probe"),
        dir.path().join("coldstart-probe"),
    )
    .unwrap();
    std::fs::write(dir.path().join("coldstart_probe.wasm"), wat).unwrap();
    dir
}

/// A probes directory of the test's own with copies of the real probes.
pub fn copied_probes() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["coldstart-probe", "coldstart_probe.wasm"] {
        std::fs::copy(probes_dir().join(name), dir.path().join(name)).unwrap();
    }
    dir
}

/// The coldstart binary with the probes in `dir`.
pub fn coldstart_with(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("coldstart").expect("the coldstart binary is built");
    cmd.env("COLDSTART_PROBES_DIR", dir);
    cmd
}

/// Docker tests share one daemon (and the sweep of stale containers): one at a time.
pub fn docker_lock() -> std::sync::MutexGuard<'static, ()> {
    static DOCKER: std::sync::Mutex<()> = std::sync::Mutex::new(());
    DOCKER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Ids of Docker's containers (running or not) labelled with this run id.
pub fn containers_of_run(run_id: &str) -> Vec<String> {
    labelled_containers("docker", run_id)
}

/// Ids of the containers (running or not) that the engine behind `cli` (docker,
/// podman) has with this run id's label.
pub fn labelled_containers(cli: &str, run_id: &str) -> Vec<String> {
    let out = std::process::Command::new(cli)
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=coldstart.run={run_id}"),
        ])
        .output()
        .expect("the engine's CLI runs");
    assert!(
        out.status.success(),
        "{cli} ps: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// The run id of a run in the background, once its first write (before measuring)
/// has named it: a whole result file, or the journal that replaces it while the
/// samples are taken.
pub fn wait_for_run_id(json: &Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never wrote its results"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
        if let Ok(text) = std::fs::read_to_string(json) {
            return coldstart::results::load::parse(&text).unwrap().run_id;
        }
    }
}

/// Starts `coldstart run ARGS --export-json JSON` in the background, quiet.
pub fn spawn_run(probes: &Path, args: &[&str], json: &Path) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("coldstart"))
        .env("COLDSTART_PROBES_DIR", probes)
        .arg("run")
        .args(args)
        .arg("--export-json")
        .arg(json)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the coldstart binary starts")
}

/// Sends SIGINT, as Ctrl-C does, and returns the exit code.
pub fn sigint(mut child: std::process::Child) -> Option<i32> {
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    child.wait().unwrap().code()
}

/// What a finished `coldstart run` left: its results (checked against the schema),
/// exit code and stderr.
pub struct Finished {
    pub doc: Value,
    pub code: Option<i32>,
    pub stderr: String,
}

/// Runs `coldstart run ARGS` with the probes in `probes`, exporting the JSON into a
/// scratch directory, and reads the results back.
pub fn run_to_json(probes: &Path, args: &[&str]) -> Finished {
    command_to_json(coldstart_with(probes), args)
}

/// Runs `cmd run ARGS`, exporting the JSON into a scratch directory, and reads the
/// results back.
pub fn command_to_json(mut cmd: Command, args: &[&str]) -> Finished {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out = cmd
        .arg("run")
        .args(args)
        .arg("--export-json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        json.exists(),
        "the run wrote no results (exit {:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = read_json(&json);
    assert_valid_results(&doc);
    Finished {
        doc,
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Whether this host mounts cgroups in hybrid mode (v1 controllers plus a v2 mount
/// at /sys/fs/cgroup/unified), where crun 1.8 refuses to start containers.
pub fn hybrid_cgroups() -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.contains(" - cgroup2 ") && l.contains("/sys/fs/cgroup/unified"))
}
