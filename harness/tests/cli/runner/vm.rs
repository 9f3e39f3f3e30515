//! The `vm` runner against real QEMU and Debian's cloud kernel, under TCG (these
//! machines have no working KVM; nothing here assumes either way). `.ci/run`
//! installs qemu-system-x86, linux-image-cloud-amd64 and mmdebstrap.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A copy of the guest kernel under a path of the test's own, so the test can find
/// its QEMU processes (and only its) by their command line.
fn own_kernel() -> (tempfile::TempDir, PathBuf) {
    let mut kernels: Vec<PathBuf> = std::fs::read_dir("/boot")
        .expect("/boot exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("vmlinuz-"))
        .collect();
    kernels.sort();
    let kernel = kernels
        .pop()
        .expect("a guest kernel in /boot: apt-get install linux-image-cloud-amd64 (.ci/run does)");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(kernel.file_name().unwrap());
    std::fs::copy(&kernel, &copy).unwrap();
    (dir, copy)
}

/// Pids of live QEMU processes whose command line names `needle`.
fn qemu_with(needle: &Path) -> Vec<u32> {
    let needle = needle.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains("qemu-system") && cmdline.contains(&needle)
        })
        .collect()
}

fn samples<'a>(doc: &'a Value, variant: &str, mode: &str) -> Vec<&'a Value> {
    doc["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["variant"] == variant && s["mode"] == mode)
        .collect()
}

#[test]
fn minimal_tcg_boots_verified_cold_and_warm_samples() {
    let (_dir, kernel) = own_kernel();
    let run = run_to_json(
        &probes_dir(),
        &[
            "--runtime",
            "vm:minimal-tcg",
            "--cold",
            "3",
            "--warm",
            "10",
            "--seed",
            "5",
            "--vm-kernel",
            kernel.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let vm = runtime(&run.doc, "vm", "minimal-tcg");
    assert_eq!(vm["modes"]["cold"]["ok"], 3);
    assert_eq!(vm["modes"]["warm"]["ok"], 10);
    assert_eq!(
        vm["phase_order"],
        serde_json::json!(["spawn", "boot", "first_response", "total"])
    );
    assert_eq!(vm["details"]["accel"], "tcg");
    assert_eq!(vm["details"]["cpu_model"], "max");
    // Why TCG: KVM was not asked for or cannot run here; never a silent choice.
    let why = vm["details"]["accel_reason"].as_str().unwrap();
    assert!(why.contains("KVM"), "{why}");
    assert!(vm["reported_source"]
        .as_str()
        .unwrap()
        .contains("CLOCK_BOOTTIME"));
    // Counts given on the command line replace the VM's own, and are recorded.
    assert_eq!(
        run.doc["parameters"]["variant_counts"]["vm:minimal-tcg"],
        serde_json::json!({"cold": 3, "warm": 10, "warmup": 0})
    );
    for s in samples(&run.doc, "minimal-tcg", "cold") {
        assert_eq!(s["outcome"], "ok", "{s}");
        let phases = &s["phases_ns"];
        let total: u64 = ["spawn", "boot", "first_response"]
            .iter()
            .map(|p| phases[p].as_u64().unwrap())
            .sum();
        assert_eq!(total, s["total_ns"].as_u64().unwrap());
        // The guest's clock: the probe started before it was ready, and the guest's
        // uptime at READY is less than the harness's spawn + boot (the rest is QEMU
        // and firmware, before the guest kernel's clock starts).
        let start = s["reported"]["guest_init_start_ns"].as_u64().unwrap();
        let ready = s["reported"]["guest_ready_ns"].as_u64().unwrap();
        assert!(start <= ready && ready > 0, "{s}");
        let wall = phases["spawn"].as_u64().unwrap() + phases["boot"].as_u64().unwrap();
        assert!(
            ready < wall,
            "guest uptime {ready} ns >= spawn + boot {wall} ns"
        );
        assert!(s["teardown_ns"].as_u64().unwrap() > 0, "{s}");
    }
    assert!(
        qemu_with(&kernel).is_empty(),
        "QEMU processes outlived the run"
    );
}

#[test]
fn a_guest_that_hangs_or_panics_is_a_failed_sample_with_its_console() {
    let (_dir, kernel) = own_kernel();
    let kernel_arg = kernel.to_str().unwrap();
    // The probe as init sleeps (tests only): the sample fails at the timeout and the
    // QEMU process is killed.
    let hang = command_to_json(
        {
            let mut cmd = coldstart();
            cmd.env("COLDSTART_TEST_SLEEP", "init:600000ms");
            cmd
        },
        &[
            "--runtime",
            "vm:minimal-tcg",
            "--cold",
            "1",
            "--warm",
            "0",
            "--timeout",
            "6s",
            "--vm-kernel",
            kernel_arg,
        ],
    );
    assert_eq!(hang.code, Some(1), "{}", hang.stderr);
    let failed = samples(&hang.doc, "minimal-tcg", "cold");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["outcome"], "failed");
    let error = failed[0]["error"].as_str().unwrap();
    assert!(
        error.contains("did not answer within 6s (QEMU killed)"),
        "{error}"
    );
    assert!(error.contains("console"), "{error}");
    assert!(
        qemu_with(&kernel).is_empty(),
        "a hung guest outlived its sample"
    );

    // Init work larger than the guest's memory: the guest kernel kills init and
    // panics; the console's last lines say so.
    let oom = run_to_json(
        &probes_dir(),
        &[
            "--runtime",
            "vm:minimal-tcg",
            "--cold",
            "1",
            "--warm",
            "0",
            "--init-kib",
            "262144",
            "--vm-memory-mib",
            "96",
            "--vm-kernel",
            kernel_arg,
        ],
    );
    assert_eq!(oom.code, Some(1), "{}", oom.stderr);
    let failed = samples(&oom.doc, "minimal-tcg", "cold");
    assert_eq!(failed[0]["outcome"], "failed");
    let error = failed[0]["error"].as_str().unwrap();
    assert!(error.contains("Kernel panic"), "{error}");
    assert!(qemu_with(&kernel).is_empty());
}

#[test]
fn ctrl_c_leaves_no_qemu_process() {
    let (dir, kernel) = own_kernel();
    let json = dir.path().join("out.json");
    let child = spawn_run(
        &probes_dir(),
        &[
            "--runtime",
            "vm:minimal-tcg",
            "--cold",
            "1000",
            "--warm",
            "1000",
            "--vm-kernel",
            kernel.to_str().unwrap(),
        ],
        &json,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while qemu_with(&kernel).is_empty() {
        assert!(Instant::now() < deadline, "no guest started within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let a guest or two be live (the warm one and a cold one).
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(sigint(child), Some(130));
    assert_eq!(
        qemu_with(&kernel),
        Vec::<u32>::new(),
        "QEMU outlived Ctrl-C"
    );
    let doc = read_json(&json);
    assert_valid_results(&doc);
    assert_eq!(doc["status"], "interrupted");
}

#[test]
fn vm_variants_that_cannot_run_say_why() {
    // No QEMU on PATH.
    let out = coldstart()
        .env("PATH", "/nonexistent")
        .args(["run", "--runtime", "vm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("install qemu-system-x86"), "{stderr}");
    let out = coldstart()
        .env("PATH", "/nonexistent")
        .arg("runtimes")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("vm ") && l.contains("qemu-system-x86")),
        "{stdout}"
    );

    let refused = |args: &[&str], wanted: &str| {
        let out = coldstart().arg("run").args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(wanted), "{args:?}: {stderr}");
    };
    refused(
        &[
            "--runtime",
            "vm:full-tcg",
            "--vm-image",
            "/nonexistent/full.img",
        ],
        "scripts/build-vm-image.sh",
    );
    refused(
        &["--runtime", "vm:minimal-kvm", "--vm-accel", "tcg"],
        "--vm-accel tcg",
    );
    refused(
        &["--runtime", "vm", "--vm-kernel", "/nonexistent/vmlinuz"],
        "--vm-kernel /nonexistent/vmlinuz",
    );
    refused(&["--runtime", "vm", "--vm-cpus", "0"], "--vm-cpus 0");
    refused(
        &["--runtime", "vm", "--vm-memory-mib", "8"],
        "--vm-memory-mib 8",
    );
}

/// The image script builds the vm:full image, reuses it on a second run, and the
/// image boots: Debian with systemd, the probe a service on the second serial port.
/// Built into a directory of the test's own (the root filesystem tarball is shared
/// with the image scripts/test built, so mmdebstrap runs only once).
#[test]
fn full_image_is_built_then_reused_and_boots_under_tcg() {
    let script = repo_file("scripts/build-vm-image.sh");
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("vm-full.img");
    let build = || {
        let out = std::process::Command::new("bash")
            .arg(&script)
            .env("VM_IMAGE_DIR", dir.path())
            .env("VM_IMAGE_LINK", &link)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "build-vm-image.sh: {stderr}");
        stderr
    };
    let first = build();
    assert!(!first.contains("up to date"), "{first}");
    let image = std::fs::canonicalize(&link).unwrap();
    assert!(image.starts_with(std::fs::canonicalize(dir.path()).unwrap()));
    let built_at = std::fs::metadata(&image).unwrap().modified().unwrap();
    let again = build();
    assert!(again.contains("up to date"), "{again}");
    assert_eq!(std::fs::canonicalize(&link).unwrap(), image);
    assert_eq!(
        std::fs::metadata(&image).unwrap().modified().unwrap(),
        built_at,
        "the second run rebuilt the image"
    );
    let manifest = read_json(&dir.path().join("vm-full.img.json"));
    let probe_sha = coldstart::probes::file_sha256(&probes_dir().join("coldstart-probe")).unwrap();
    assert_eq!(manifest["probe_sha256"], probe_sha.as_str(), "{manifest}");

    let (_kdir, kernel) = own_kernel();
    let release = kernel
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .trim_start_matches("vmlinuz-")
        .to_string();
    let run = run_to_json(
        &probes_dir(),
        &[
            "--runtime",
            "vm:full-tcg",
            "--cold",
            "1",
            "--warm",
            "3",
            "--vm-kernel",
            kernel.to_str().unwrap(),
            "--vm-initrd",
            &format!("/boot/initrd.img-{release}"),
            "--vm-image",
            link.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let vm = runtime(&run.doc, "vm", "full-tcg");
    assert_eq!(vm["modes"]["cold"]["ok"], 1);
    assert_eq!(vm["modes"]["warm"]["ok"], 3);
    assert_eq!(
        vm["artifact_bytes"].as_u64().unwrap(),
        std::fs::metadata(&image).unwrap().len()
    );
    let cold = samples(&run.doc, "full-tcg", "cold");
    let unit_start = cold[0]["reported"]["guest_unit_start_ns"].as_u64().unwrap();
    // systemd starts the unit after multi-user.target: well after the kernel's start.
    assert!(unit_start > 1_000_000_000, "{}", cold[0]);
    assert!(qemu_with(&kernel).is_empty());
}
