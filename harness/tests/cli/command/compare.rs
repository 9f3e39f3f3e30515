//! `compare`: the A/B test on real runs (recorded A/A pairs that must not be flagged,
//! heavy init that must be, the noise floor from history, runs made here), and the
//! refusal of runs of another workload.

use super::{edited, stdout_of};
use crate::support::{coldstart, docker_lock, repo_file};
use predicates::prelude::*;
use serde_json::Value;

/// Recorded runs of this machine (`coldstart-bench compare-aa`): two sides of five
/// runs each of the same build and settings, and five runs with heavy init work.
fn recorded(side: &str) -> String {
    repo_file(&format!("fixtures/compare/{side}"))
        .display()
        .to_string()
}

fn compare_json(args: &[&str]) -> (Value, i32) {
    let out = coldstart()
        .arg("compare")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (doc, out.status.code().unwrap())
}

fn flagged(doc: &Value) -> Vec<String> {
    doc["compared"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "regression")
        .map(|c| c["group"].to_string())
        .collect()
}

#[test]
fn an_aa_pair_the_old_gate_flagged_is_not_flagged_across_runs() {
    let (a, b) = (recorded("aa-a"), recorded("aa-b"));
    // One run a side: the variation between the two runs looks like a change (the
    // old gate flagged 11 groups of these first runs; with Holm and the one decision
    // rule two totals are still flagged, since one run cannot show run-to-run noise).
    let first = |dir: &str| {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path().display().to_string())
            .collect();
        files.sort();
        files.remove(0)
    };
    let (one, code) = compare_json(&[&first(&a), &first(&b)]);
    assert!(
        one["notes"][0]
            .as_str()
            .unwrap()
            .contains("one run on a side"),
        "{one}"
    );
    assert!(!flagged(&one).is_empty(), "{one:#}");
    assert_eq!(code, 1);
    // Five runs a side: no group is flagged, and the exit code is 0.
    let (doc, code) = compare_json(&[&a, &b]);
    assert_eq!(flagged(&doc), Vec::<String>::new(), "{doc:#}");
    assert_eq!(code, 0);
    assert_eq!(
        (
            doc["baseline_runs"].as_u64(),
            doc["candidate_runs"].as_u64()
        ),
        (Some(5), Some(5))
    );
    for c in doc["compared"].as_array().unwrap() {
        assert_eq!(c["baseline_runs"], 5, "{c}");
        // One decision rule: what is not gated is only shown.
        let gated = c["group"]["phase"] == "total";
        assert_eq!(c["p_corrected"].is_number(), gated, "{c}");
        if !gated {
            assert_eq!(c["change"], "not_gated");
        }
        let (lo, hi, ratio) = (
            c["ci_low"].as_f64().unwrap(),
            c["ci_high"].as_f64().unwrap(),
            c["ratio"].as_f64().unwrap(),
        );
        assert!(lo <= ratio && ratio <= hi, "{c}");
    }
}

#[test]
fn heavy_init_across_runs_is_flagged_on_every_cold_total_and_no_warm_one() {
    // Heavier init stands in for a build whose init got slower; by its parameters it
    // is another workload, which compare refuses unless forced.
    let (doc, code) = compare_json(&[&recorded("aa-a"), &recorded("heavy-init"), "--force"]);
    assert_eq!(code, 1);
    let totals: Vec<&Value> = doc["compared"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["group"]["phase"] == "total")
        .collect();
    assert!(totals.len() >= 4, "{doc:#}");
    for c in totals {
        let expected = match c["group"]["mode"].as_str().unwrap() {
            "cold" => "regression",
            _ => "no_change",
        };
        assert_eq!(c["change"], expected, "{c}");
        if expected == "regression" {
            // Flagged only with the whole interval beyond the threshold.
            assert!(c["ci_low"].as_f64().unwrap() > 1.1, "{c}");
            assert!(c["p_corrected"].as_f64().unwrap() < 0.05, "{c}");
        }
    }
}

#[test]
fn the_noise_floor_from_history_raises_a_noisy_groups_threshold() {
    let a = recorded("aa-a");
    let mut files: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    let (plain, _) = compare_json(&[&files[0], &files[1]]);
    let (floored, _) = compare_json(&[&files[0], &files[1], "--noise-from", &a]);
    let mut raised = 0;
    for (p, f) in plain["compared"]
        .as_array()
        .unwrap()
        .iter()
        .zip(floored["compared"].as_array().unwrap())
    {
        assert_eq!(p["group"], f["group"]);
        assert!((p["threshold"].as_f64().unwrap() - 0.1).abs() < 1e-9);
        let noise = f["noise_floor"].as_f64().expect("five runs of history");
        let threshold = f["threshold"].as_f64().unwrap();
        assert!((threshold - noise.max(0.1)).abs() < 1e-9, "{f}");
        raised += usize::from(noise > 0.1);
    }
    assert!(
        raised > 0,
        "some group of these runs is noisier than 10%: {floored:#}"
    );
    // Text and markdown say the same.
    let text = coldstart()
        .args(["compare", &files[0], &files[1], "--noise-from", &a])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("(noise)") && text.contains("Holm"), "{text}");
    let markdown = stdout_of(&["compare", &a, &recorded("aa-b"), "--format", "markdown"]);
    assert!(markdown.contains("| p (Holm) |"), "{markdown}");
}

#[test]
fn heavy_init_is_flagged_on_cold_and_not_on_warm() {
    let _docker = docker_lock(); // not while containers load the machine
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, init_iters: &str| {
        let json = dir.path().join(name);
        coldstart()
            .args([
                "run",
                "--runtime",
                "process",
                "--cold",
                "15",
                "--warm",
                "150",
                "--seed",
                "1",
            ])
            // Warm work of a few hundred µs: the tens of µs a wake-up sometimes costs
            // on these machines (a light warm round trip is 5 µs or 60 µs from one run
            // to the next) cannot pass for a change of the work.
            .args([
                "--invoke-iters",
                "50000",
                "--init-iters",
                init_iters,
                "--export-json",
            ])
            .arg(&json)
            .assert()
            .success();
        json.display().to_string()
    };
    let light = run("light.json", "100");
    // ~20 M hash rounds of init: tens of ms on top of a sub-ms process start.
    let heavy = run("heavy.json", "20000000");
    let out = coldstart()
        .args([
            "compare",
            &light,
            &heavy,
            "--threshold",
            "500%",
            "--phases",
            "--force",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let line = |group: &str| {
        text.lines()
            .find(|l| l.starts_with(group))
            .unwrap_or_else(|| panic!("{group} missing:\n{text}"))
            .to_string()
    };
    assert!(
        line("process:native cold total ").ends_with("REGRESSION"),
        "{text}"
    );
    assert!(
        line("process:native cold ready ").ends_with("REGRESSION"),
        "{text}"
    );
    assert!(
        line("process:native warm total ").ends_with("no change"),
        "{text}"
    );
    // Without --phases, a phase is shown, not gated.
    let shown = coldstart()
        .args(["compare", &light, &heavy, "--threshold", "500%", "--force"])
        .output()
        .unwrap();
    let shown = String::from_utf8(shown.stdout).unwrap();
    let ready = shown
        .lines()
        .find(|l| l.starts_with("process:native cold ready "))
        .unwrap();
    assert!(ready.ends_with("shown only"), "{shown}");
    // The reverse is an improvement, not a regression: exit 0.
    coldstart()
        .args(["compare", &heavy, &light, "--threshold", "500%", "--force"])
        .assert()
        .success()
        .stdout(predicate::str::contains("improvement"));
}

#[test]
fn compare_refuses_other_workloads_and_warns_of_other_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let a = repo_file("fixtures/compare/aa-a/run-01.json");
    let b = repo_file("fixtures/compare/aa-b/run-02.json");
    let heavier = edited(dir.path(), "heavier.json", &b, |d| {
        d["parameters"]["init_kib"] = 8.into();
    });
    let out = coldstart()
        .arg("compare")
        .args([&a, &heavier])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("probe parameters differ: init 4 KiB") && stderr.contains("--force"),
        "{stderr}"
    );
    // --force compares them, and says what differed.
    let forced = coldstart()
        .arg("compare")
        .args([&a, &heavier])
        .args(["--force", "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&forced.stdout).unwrap();
    let notes = doc["notes"].to_string();
    assert!(notes.contains("probe parameters differ"), "{notes}");
    // Another host, another engine version: compared, with a warning for each.
    let elsewhere = edited(dir.path(), "elsewhere.json", &b, |d| {
        d["host"]["cpu_model"] = "AMD EPYC 7R13".into();
        for r in d["runtimes"].as_array_mut().unwrap() {
            if r["runtime"] == "wasm" {
                r["versions"]["wasmtime"] = "49.0.0".into();
            }
        }
    });
    let out = coldstart()
        .arg("compare")
        .args([&a, &elsewhere])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for text in [&stderr, &stdout] {
        assert!(text.contains("host differs"), "{text}");
        assert!(text.contains("wasmtime differs"), "{text}");
    }
    // The n used is reported per group (both sides' valid samples).
    assert!(stdout.contains(" n 100/100 "), "{stdout}");
}
