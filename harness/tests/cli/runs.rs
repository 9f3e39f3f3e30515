//! Real runs of the real runtimes: every sample verified, the result file valid
//! against its schema, the order seeded, Ctrl-C keeping what was measured.

use crate::support::{
    assert_valid_results, coldstart, copied_probes, docker_lock, read_json, runtime, sigint,
    spawn_run,
};
use serde_json::Value;
use std::collections::HashSet;

/// A small run of the default suite: its results and what it printed (both streams).
fn small_run(dir: &std::path::Path, seed: &str, extra: &[&str]) -> (Value, String) {
    let json = dir.join("results.json");
    let md = dir.join("results.md");
    let out = coldstart()
        .args([
            "run", "--cold", "5", "--warm", "20", "--warmup", "1", "--seed", seed,
        ])
        .args(extra)
        .arg("--export-json")
        .arg(&json)
        .arg("--export-markdown")
        .arg(&md)
        .assert()
        .success()
        .get_output()
        .clone();
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.contains("| wasm | pre | rust | cold | 5 | 0 | 0 |"),
        "{md}"
    );
    let printed =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (read_json(&json), printed)
}

#[test]
fn default_suite_measures_every_runtime_and_validates() {
    let _docker = docker_lock();
    let dir = tempfile::tempdir().unwrap();
    let (doc, printed) = small_run(dir.path(), "11", &[]);
    assert_valid_results(&doc);
    // The six AWS variants share one reason: said once before measuring and once
    // under the table, naming them all, not twelve times.
    assert_eq!(printed.matches("no credentials").count(), 2, "{printed}");
    assert!(
        printed.contains("lambda:{x86_64-128mb, x86_64-512mb, x86_64-1024mb, arm64-128mb, arm64-512mb, arm64-1024mb}"),
        "{printed}"
    );
    let md = std::fs::read_to_string(dir.path().join("results.md")).unwrap();
    assert_eq!(md.matches("no credentials").count(), 1, "{md}");
    assert_eq!(doc["schema_version"], 3);
    assert_eq!(doc["parameters"]["order"], "blocks");
    let host = &doc["host"];
    assert!(host["load_average_start"].is_array() && host["load_average_end"].is_array());
    assert!(host["cgroup"].is_string());
    assert_eq!(doc["seed"], 11);
    assert_eq!(doc["status"], "complete");
    let expected_phases = [
        (
            "process",
            "native",
            &["spawn", "ready", "first_response", "total"][..],
        ),
        (
            "wasm",
            "jit",
            &["load", "instantiate", "init", "first_response", "total"],
        ),
        (
            "wasm",
            "aot",
            &["load", "instantiate", "init", "first_response", "total"],
        ),
        (
            "wasm",
            "pre",
            &["instantiate", "init", "first_response", "total"],
        ),
    ];
    for (rt, variant, phases) in expected_phases {
        let r = runtime(&doc, rt, variant);
        assert_eq!(r["available"], true);
        assert!(r["skipped_reason"].is_null());
        assert!(
            r["artifact_bytes"].as_u64().unwrap() > 1000,
            "{rt}:{variant}"
        );
        let cold = &r["modes"]["cold"];
        let warm = &r["modes"]["warm"];
        assert_eq!(
            (
                cold["ok"].as_u64(),
                cold["invalid"].as_u64(),
                cold["failed"].as_u64()
            ),
            (Some(5), Some(0), Some(0))
        );
        assert_eq!(warm["ok"], 20);
        let names: HashSet<&str> = cold["phases"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(names, phases.iter().copied().collect(), "{rt}:{variant}");
        assert_eq!(cold["phases"]["total"]["count"], 5);
        assert_eq!(warm["phases"]["total"]["count"], 20);
        let p50 = cold["phases"]["total"]["p50_ns"].as_u64().unwrap();
        assert!(p50 > 0);
        // A cold start is more than a warm round trip on every runtime.
        assert!(
            p50 > warm["phases"]["total"]["p50_ns"].as_u64().unwrap(),
            "{rt}:{variant}"
        );
    }
    assert_eq!(
        runtime(&doc, "wasm", "jit")["versions"]["wasmtime"]
            .as_str()
            .unwrap()
            .split('.')
            .next(),
        Some("48")
    );

    // The second container engine and the VMs are in the default suite too (.ci/run
    // starts Podman's service and installs QEMU); KVM rows are preflighted, so they
    // run or are skipped with a reason, never silently.
    for (rt, variant) in [
        ("podman", "runc-none"),
        ("vm", "minimal-tcg"),
        ("vm", "full-tcg"),
    ] {
        let r = runtime(&doc, rt, variant);
        assert_eq!(r["available"], true, "{r}");
        assert_eq!(r["modes"]["cold"]["ok"], 5, "{rt}:{variant}");
        assert_eq!(r["modes"]["warm"]["ok"], 20, "{rt}:{variant}");
    }
    for variant in ["minimal-kvm", "full-kvm"] {
        let r = runtime(&doc, "vm", variant);
        if r["available"] == false {
            assert!(r["skipped_reason"].as_str().unwrap().contains("KVM"), "{r}");
        }
    }

    // Lambda: the local emulator is measured; AWS is skipped with the reason (the
    // tests run without credentials).
    let local = runtime(&doc, "lambda", "local-emulator");
    assert_eq!(local["modes"]["cold"]["ok"], 5, "{local}");
    assert_eq!(local["modes"]["warm"]["ok"], 20, "{local}");
    let aws = runtime(&doc, "lambda", "x86_64-512mb");
    assert_eq!(aws["available"], false);
    assert!(aws["skipped_reason"]
        .as_str()
        .unwrap()
        .starts_with("no credentials"));

    // crun 1.8 refuses hybrid cgroups: on such a host (this project's) its variants
    // must be skipped with that reason; on any other they must run.
    let hybrid = crate::support::hybrid_cgroups();
    for variant in ["crun-none", "crun-bridge"] {
        let r = runtime(&doc, "docker", variant);
        if hybrid {
            assert_eq!(r["available"], false, "{r}");
            let reason = r["skipped_reason"].as_str().unwrap();
            assert!(reason.contains("crun") && reason.contains("hybrid"), "{r}");
        } else {
            assert_eq!(r["available"], true, "{r}");
            assert_eq!(r["modes"]["cold"]["ok"], 5);
        }
    }
    let image = runtime(&doc, "docker", "runc-none-image");
    assert_eq!(image["modes"]["cold"]["ok"], 5);
    let measured = doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["available"] == true);
    let expected_samples: u64 = measured
        .map(|r| {
            if r["variant"] == "runc-none-image" {
                5
            } else {
                25
            }
        })
        .sum();
    let samples = doc["samples"].as_array().unwrap();
    assert_eq!(samples.len() as u64, expected_samples);
    let mut cold_ids = HashSet::new();
    let mut nonces = HashSet::new();
    for s in samples {
        assert_eq!(s["ok"], true, "{s}");
        assert_eq!(s["checksum"], s["expected_checksum"], "{s}");
        assert!(nonces.insert(s["nonce"].as_str().unwrap().to_string()));
        if s["mode"] == "cold" {
            assert!(
                cold_ids.insert(s["instance_id"].as_str().unwrap().to_string()),
                "reused id {s}"
            );
            assert_eq!(s["invocation_index"], 0);
            assert!(s["teardown_ns"].is_u64());
        } else {
            assert!(s["invocation_index"].as_u64().unwrap() > 0);
        }
    }
    assert!(md_mentions_docker(dir.path()));
    // Blocks: each block is one variant and mode, taken contiguously; the blocks of
    // the variants are mixed over the run.
    let key = |s: &Value| format!("{}:{}:{}", s["runtime"], s["variant"], s["mode"]);
    let mut seen_blocks = HashSet::new();
    for w in samples.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a["block"] == b["block"] {
            assert_eq!(key(a), key(b));
        } else {
            assert!(
                seen_blocks.insert(a["block"].as_u64().unwrap()),
                "a block came back"
            );
        }
    }
    let first: HashSet<String> = samples[..40].iter().map(key).collect();
    assert!(first.len() > 1);
}

fn md_mentions_docker(dir: &std::path::Path) -> bool {
    std::fs::read_to_string(dir.join("results.md"))
        .unwrap()
        .contains("| docker | runc-none | rust | cold | 5 |")
}

#[test]
fn same_seed_gives_the_same_order() {
    let order = |doc: &Value| -> Vec<String> {
        doc["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| format!("{}:{}:{}", s["runtime"], s["variant"], s["mode"]))
            .collect()
    };
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let args = ["--runtime", "process,wasm:pre"];
    let one = small_run_selected(a.path(), "5", &args);
    let two = small_run_selected(b.path(), "5", &args);
    let other = small_run_selected(c.path(), "6", &args);
    assert_eq!(order(&one), order(&two));
    assert_ne!(order(&one), order(&other));
}

fn small_run_selected(dir: &std::path::Path, seed: &str, extra: &[&str]) -> Value {
    let json = dir.join("results.json");
    coldstart()
        .args([
            "run", "--cold", "5", "--warm", "20", "--warmup", "0", "--seed", seed,
        ])
        .args(extra)
        .arg("--export-json")
        .arg(&json)
        .assert()
        .success();
    read_json(&json)
}

#[test]
fn json_to_stdout_and_heavier_init_is_recorded() {
    let out = coldstart()
        .args([
            "run",
            "--runtime",
            "wasm:pre,process",
            "--cold",
            "3",
            "--warm",
            "3",
        ])
        .args([
            "--init-kib",
            "256",
            "--init-iters",
            "5000",
            "--invoke-iters",
            "777",
        ])
        .args(["--export-json", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: Value = serde_json::from_slice(&out).expect("stdout is the JSON alone");
    assert_valid_results(&doc);
    let p = &doc["parameters"];
    assert_eq!(
        (
            p["init_kib"].as_u64(),
            p["init_iters"].as_u64(),
            p["invoke_iters"].as_u64()
        ),
        (Some(256), Some(5000), Some(777))
    );
    let params = probe_core::InitParams {
        init_kib: 256,
        init_iters: 5000,
    };
    for s in doc["samples"].as_array().unwrap() {
        let nonce = u64::from_str_radix(s["nonce"].as_str().unwrap(), 16).unwrap();
        let instance_nonce =
            u64::from_str_radix(s["instance_nonce"].as_str().unwrap(), 16).unwrap();
        let expected = probe_core::expected_checksum(params, instance_nonce, 777, nonce);
        assert_eq!(s["expected_checksum"], format!("{expected:016x}"));
        assert_eq!(s["checksum"], s["expected_checksum"]);
    }
    assert_eq!(doc["runtimes"].as_array().unwrap().len(), 2);
}

#[test]
fn sigint_keeps_what_was_measured() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    let (probes, child) = spawn_endless_run(&json);
    let journal = wait_for_journal_samples(&json);
    assert_eq!(journal.status, coldstart::results::RunStatus::Running);
    assert_eq!(sigint(child), Some(130));
    let doc = read_json(&json);
    // Nothing the journal held is lost: the final file starts with its samples.
    let finals = doc["samples"].as_array().unwrap();
    assert!(finals.len() >= journal.samples.len());
    for (journaled, last) in journal.samples.iter().zip(finals) {
        assert_eq!(last["seq"], journaled.seq);
        assert_eq!(last["checksum"].as_str(), journaled.checksum.as_deref());
    }
    assert_valid_results(&doc);
    assert_eq!(doc["status"], "interrupted");
    let taken = doc["samples"].as_array().unwrap().len() as u64;
    assert!(taken > 0);
    let r = runtime(&doc, "process", "native");
    let counted =
        r["modes"]["cold"]["ok"].as_u64().unwrap() + r["modes"]["warm"]["ok"].as_u64().unwrap();
    assert_eq!(counted, taken, "every sample taken is in the statistics");
    // No probe process is left behind.
    let left = std::process::Command::new("pgrep")
        .args(["-f", &probes.path().display().to_string()])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "probes left running: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

/// A process run that measures until it is stopped, exporting to `json`, on probes
/// copied to a path of its own (to find any process left behind; kept while the
/// returned directory lives).
fn spawn_endless_run(json: &std::path::Path) -> (tempfile::TempDir, std::process::Child) {
    let probes = copied_probes();
    let args = [
        "--runtime",
        "process",
        "--cold",
        "1000000",
        "--warm",
        "1000000",
    ];
    let child = spawn_run(probes.path(), &args, json);
    (probes, child)
}

/// Waits for the journal in `json`'s place to hold samples (it is synced every 5 s),
/// and reads it as every command reads a result file.
fn wait_for_journal_samples(json: &std::path::Path) -> coldstart::results::ResultFile {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no journal with samples"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
        let Ok(text) = std::fs::read_to_string(json) else {
            continue;
        };
        if !coldstart::results::journal::is_journal(&text) {
            continue;
        }
        let read = coldstart::results::load::parse(&text).expect("a journal reads");
        if !read.samples.is_empty() {
            return read;
        }
    }
}

/// A run killed outright (SIGKILL: no handler runs) loses nothing it had synced:
/// its journal, in the JSON export's place, reads as its result file, statistics
/// derived from its samples, and `coldstart report` renders it.
#[test]
fn a_killed_run_leaves_a_journal_every_command_reads() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    let (_probes, mut child) = spawn_endless_run(&json);
    wait_for_journal_samples(&json);
    // Until a sync has put the run's time in too (lines reach the file whenever the
    // writer's buffer fills; its time only at a sync, every 5 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while coldstart::results::load::load(&json).unwrap().wall_time_ns == 0 {
        assert!(std::time::Instant::now() < deadline, "no journal sync");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&json).unwrap();
    let read = coldstart::results::load::parse(&text).unwrap();
    // Every whole sample line is read (one the kill cut short is not).
    let whole: String = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .collect();
    let whole_samples = whole
        .lines()
        .filter(|l| l.starts_with("{\"sample\""))
        .count();
    assert_eq!(read.samples.len(), whole_samples);
    assert!(read.wall_time_ns > 0, "the journal's time of its last sync");
    let r = read
        .runtimes
        .iter()
        .find(|r| r.runtime == "process")
        .unwrap();
    let ok = r.modes.cold.ok + r.modes.warm.ok;
    assert!(ok > 0);
    assert_eq!(
        ok,
        read.samples.iter().filter(|s| s.ok).count() as u64,
        "the statistics are derived from the journal's samples"
    );
    // A line the kill cut short is left out; the rest still reads.
    let torn = format!("{whole}{{\"sample\":{{\"seq\":");
    assert_eq!(
        coldstart::results::load::parse(&torn)
            .unwrap()
            .samples
            .len(),
        read.samples.len()
    );
    let out = coldstart().args(["report"]).arg(&json).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("process"));
    // And history, which reads a directory of runs.
    let out = coldstart()
        .args(["history"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&read.run_id[..8]));
}

/// `--export-csv` writes every raw sample; `--time-unit` holds for every row of the
/// table; a 5-sample run's verdicts read `not enough samples`, never `holds`.
#[test]
fn csv_export_time_unit_and_too_few_samples_for_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("samples.csv");
    let json = dir.path().join("out.json");
    let out = coldstart()
        .args([
            "run",
            "--runtime",
            "process,wasm:pre",
            "--cold",
            "5",
            "--warm",
            "5",
        ])
        .args(["--warmup", "0", "--time-unit", "us", "--export-csv"])
        .arg(&csv)
        .arg("--export-json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = crate::support::read_json(&json);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..8],
        ["seq", "runtime", "variant", "language", "mode", "ok", "outcome", "total_ns"]
    );
    assert_eq!(&header[header.len() - 2..], ["teardown_ns", "error"]);
    for phase in ["spawn_ns", "first_response_ns"] {
        assert!(header.contains(&phase), "{header:?}");
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let samples = doc["samples"].as_array().unwrap();
    assert_eq!(rows.len(), samples.len());
    for (row, s) in rows.iter().zip(samples) {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[0], s["seq"].to_string());
        assert_eq!(row[3], "rust");
        assert_eq!(row[7], s["total_ns"].to_string());
    }
    // Every time of the table in µs, however small or large.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let table: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" cold ") || l.contains(" warm "))
        .collect();
    assert_eq!(table.len(), 4, "{stdout}");
    for line in table {
        assert_eq!(line.matches(" µs").count(), 4, "{line}");
    }
    let report = coldstart().arg("report").arg(&json).output().unwrap();
    let report = String::from_utf8_lossy(&report.stdout);
    let wasm: Vec<&str> = report
        .lines()
        .filter(|l| {
            l.starts_with("wasm-startup-microseconds") || l.starts_with("workers-sub-millisecond")
        })
        .collect();
    assert_eq!(wasm.len(), 2, "{report}");
    for line in wasm {
        assert!(line.ends_with("not enough samples (n=5 < 30)"), "{line}");
    }
}
