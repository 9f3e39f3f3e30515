//! `merge`: histograms of real runs added (different ranges, the same run twice),
//! other workloads and mixed hosts refused unless asked, each run's setup kept.

use super::{edited, fixture, stdout_of, write};
use crate::support::{assert_valid_results, coldstart, read_json, repo_file};
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn merge_adds_two_real_runs_with_different_maxima() {
    // Two recorded runs of the same settings: their histograms have different
    // ranges, which adding into the first one's decoded histogram could not hold.
    let a = repo_file("fixtures/compare/aa-a/run-01.json");
    let b = repo_file("fixtures/compare/aa-b/run-02.json");
    let (da, db) = (read_json(&a), read_json(&b));
    let max = |d: &Value| {
        crate::support::runtime(d, "process", "native")["modes"]["cold"]["phases"]["first_response"]
            ["max_ns"]
            .as_u64()
            .unwrap()
    };
    assert_ne!(max(&da), max(&db), "the fixture runs differ in range");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("merged.json");
    coldstart()
        .arg("merge")
        .args([&a, &b])
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let merged = read_json(&out);
    assert_valid_results(&merged);
    for (rt, variant) in [("process", "native"), ("wasm", "aot"), ("wasm", "pre")] {
        for mode in ["cold", "warm"] {
            let count = |d: &Value| {
                crate::support::runtime(d, rt, variant)["modes"][mode]["phases"]["total"]["count"]
                    .as_u64()
                    .unwrap()
            };
            assert_eq!(
                count(&merged),
                count(&da) + count(&db),
                "{rt}:{variant} {mode}"
            );
        }
        let m = crate::support::runtime(&merged, rt, variant)["modes"]["cold"]["phases"]["total"]
            ["max_ns"]
            .as_u64()
            .unwrap();
        let larger = [&da, &db]
            .iter()
            .map(|d| {
                crate::support::runtime(d, rt, variant)["modes"]["cold"]["phases"]["total"]
                    ["max_ns"]
                    .as_u64()
                    .unwrap()
            })
            .max()
            .unwrap();
        assert_eq!(m, larger, "the merged maximum is the larger run's");
    }
}

#[test]
fn merge_adds_histograms_and_refuses_other_workloads() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture().display().to_string();
    let out = dir.path().join("merged.json");
    coldstart()
        .args(["merge", &file, &file, "-o"])
        .arg(&out)
        .assert()
        .success();
    let merged = read_json(&out);
    assert_valid_results(&merged);
    let single = read_json(&fixture());
    assert_eq!(merged["merged_from"].as_array().unwrap().len(), 2);
    assert_eq!(
        merged["samples"].as_array().unwrap().len(),
        2 * single["samples"].as_array().unwrap().len()
    );
    for (m, s) in merged["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .zip(single["runtimes"].as_array().unwrap())
    {
        for mode in ["cold", "warm"] {
            assert_eq!(
                m["modes"][mode]["ok"].as_u64().unwrap(),
                2 * s["modes"][mode]["ok"].as_u64().unwrap()
            );
            for (phase, summary) in s["modes"][mode]["phases"].as_object().unwrap() {
                let merged_phase = &m["modes"][mode]["phases"][phase];
                assert_eq!(
                    merged_phase["count"].as_u64().unwrap(),
                    2 * summary["count"].as_u64().unwrap()
                );
                // The same samples twice: the same distribution.
                for stat in ["min_ns", "p50_ns", "max_ns"] {
                    assert_eq!(merged_phase[stat], summary[stat], "{phase} {stat}");
                }
            }
        }
    }
    // A merged file reports and compares like any other.
    stdout_of(&["report", &out.display().to_string()]);
    let other = write(
        dir.path(),
        "other.json",
        &std::fs::read_to_string(fixture()).unwrap().replacen(
            "\"init_kib\": 4",
            "\"init_kib\": 8",
            1,
        ),
    );
    coldstart()
        .args(["merge", &file])
        .arg(&other)
        .args(["-o", "/dev/null"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("different probe parameters"));
}

#[test]
fn merge_refuses_mixed_hosts_unless_asked_and_keeps_each_runs_setup() {
    let dir = tempfile::tempdir().unwrap();
    let a = repo_file("fixtures/compare/aa-a/run-01.json");
    let b = edited(
        dir.path(),
        "elsewhere.json",
        &repo_file("fixtures/compare/aa-b/run-02.json"),
        |d| {
            d["host"]["logical_cpus"] = 64.into();
            for r in d["runtimes"].as_array_mut().unwrap() {
                if r["runtime"] == "wasm" {
                    r["versions"]["wasmtime"] = "49.0.0".into();
                }
            }
        },
    );
    let out = dir.path().join("merged.json");
    coldstart()
        .arg("merge")
        .args([&a, &b])
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ran on different hosts"))
        .stderr(predicate::str::contains("--allow-mixed-hosts"));
    assert!(!out.exists());
    coldstart()
        .arg("merge")
        .args([&a, &b])
        .arg("-o")
        .arg(&out)
        .arg("--allow-mixed-hosts")
        .assert()
        .success();
    let merged = read_json(&out);
    assert_valid_results(&merged);
    let runs = merged["merged_from"].as_array().unwrap();
    assert_eq!(
        runs[0]["host"]["logical_cpus"],
        read_json(&a)["host"]["logical_cpus"]
    );
    assert_eq!(runs[1]["host"]["logical_cpus"], 64);
    let version = |run: &Value| run["setups"]["wasm:pre"]["versions"]["wasmtime"].clone();
    assert_eq!(version(&runs[1]), "49.0.0");
    assert_ne!(version(&runs[0]), "49.0.0");
    // The merged row claims no one version where the runs disagree.
    let row = crate::support::runtime(&merged, "wasm", "pre");
    let said = row["versions"]["wasmtime"].as_str().unwrap();
    assert!(
        said.starts_with("differs between the merged runs"),
        "{said}"
    );
}
