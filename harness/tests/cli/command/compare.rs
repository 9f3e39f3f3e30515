//! `compare`: the A/B test on real runs through the CLI (recorded A/A pairs that must
//! not be flagged, heavy init that must be, one run a side advisory or gated on the
//! history's spread, runs made here), and the refusal of runs of another workload.
//! The calibration over every re-split of the recorded runs is in compare_resplit.

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

fn first_run(dir: &str) -> String {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    files.remove(0)
}

#[test]
fn an_aa_pair_the_old_gate_flagged_is_advisory_with_one_run_and_quiet_with_five() {
    let (a, b) = (recorded("aa-a"), recorded("aa-b"));
    // One run a side: the old gate flagged 11 groups of these first runs, the
    // bootstrap gate two totals. Now nothing is tested: advisory, exit 0.
    let (one, code) = compare_json(&[&first_run(&a), &first_run(&b)]);
    assert_eq!(code, 0, "{one:#}");
    assert_eq!(one["tested"], 0);
    assert!(
        one["notes"][0].as_str().unwrap().contains("advisory"),
        "{one}"
    );
    for c in one["compared"].as_array().unwrap() {
        let gated = c["group"]["phase"] == "total";
        assert_eq!(
            c["change"],
            if gated { "advisory" } else { "not_gated" },
            "{c}"
        );
        assert_eq!(c["basis"]["kind"], "within_run", "{c}");
        assert!(c["p_regression"].is_null(), "{c}");
        assert_eq!(c["ci_level"], 0.95);
    }
    // Five runs a side: every total tested, none flagged, exit 0.
    let (doc, code) = compare_json(&[&a, &b]);
    assert_eq!(flagged(&doc), Vec::<String>::new(), "{doc:#}");
    assert_eq!(code, 0);
    assert_eq!(doc["tested"], 6);
    for c in doc["compared"].as_array().unwrap() {
        assert_eq!(
            (&c["baseline_runs"], &c["candidate_runs"]),
            (&5.into(), &5.into()),
            "{c}"
        );
        assert_eq!(c["partial"], false);
        assert_eq!(c["basis"]["kind"], "between_runs", "{c}");
        let gated = c["group"]["phase"] == "total";
        assert_eq!(c["p_regression_holm"].is_number(), gated, "{c}");
        if !gated {
            assert_eq!(c["change"], "not_gated");
        }
        let (lo, hi, ratio) = (
            c["ci_low"].as_f64().unwrap(),
            c["ci_high"].as_f64().unwrap(),
            c["ratio"].as_f64().unwrap(),
        );
        assert!(lo <= ratio && ratio <= hi, "{c}");
        if gated {
            // Each bound at one-sided 1 − 0.05/6: two-sided coverage 1 − 0.1/6.
            let level = c["ci_level"].as_f64().unwrap();
            assert!((level - (1.0 - 0.1 / 6.0)).abs() < 1e-9, "{c}");
        }
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
    assert_eq!(totals.len(), 6, "{doc:#}");
    for c in totals {
        let expected = match c["group"]["mode"].as_str().unwrap() {
            "cold" => "regression",
            _ => "no_change",
        };
        assert_eq!(c["change"], expected, "{c}");
        if expected == "regression" {
            // Flagged with the interval's lower bound beyond the threshold.
            assert!(c["ci_low"].as_f64().unwrap() > 1.1, "{c}");
            assert!(c["p_regression_holm"].as_f64().unwrap() < 0.05, "{c}");
        }
    }
}

#[test]
fn one_run_is_gated_on_the_historys_spread_only_when_asked() {
    let a = recorded("aa-a");
    let heavy = first_run(&recorded("heavy-init"));
    let one = first_run(&recorded("aa-b"));
    // Asked for without a history: refused by the flags, exit 2.
    coldstart()
        .args(["compare", &a, &one, "--gate-single-run"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--noise-from"));
    // The baseline's five runs as the history: each total is tested on their spread
    // (4 degrees of freedom) and a prediction bound for the one run.
    let gated =
        |cand: &str| compare_json(&[&a, cand, "--gate-single-run", "--noise-from", &a, "--force"]);
    let (doc, code) = gated(&one);
    assert_eq!((code, doc["tested"].as_u64()), (0, Some(6)), "{doc:#}");
    for c in doc["compared"].as_array().unwrap() {
        assert_eq!(c["basis"]["kind"], "history", "{c}");
        assert_eq!(
            (&c["basis"]["runs"], &c["basis"]["df"]),
            (&5.into(), &4.0.into()),
            "{c}"
        );
    }
    assert_eq!(flagged(&doc), Vec::<String>::new());
    // A real change is still caught from one run: heavy init's cold totals.
    let (doc, code) = gated(&heavy);
    assert_eq!(code, 1);
    let cold: Vec<String> = flagged(&doc);
    assert_eq!(cold.len(), 3, "{doc:#}");
    assert!(cold.iter().all(|g| g.contains("\"cold\"")), "{cold:?}");
    // Text and markdown state the rule and the runs of each group.
    let text = stdout_of(&["compare", &a, &one, "--gate-single-run", "--noise-from", &a]);
    assert!(
        text.contains("Rule: a gated group") && text.contains("runs 5/1"),
        "{text}"
    );
    let markdown = stdout_of(&["compare", &a, &recorded("aa-b"), "--format", "markdown"]);
    assert!(
        markdown.contains("| p↑ (Holm) |") && markdown.contains("| 5/5 |"),
        "{markdown}"
    );
    // The rule is in --help too.
    let help = stdout_of(&["compare", "--help"]);
    assert!(
        help.contains("Rule: a gated group") && help.contains("Holm"),
        "{help}"
    );
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
    // Four runs a side (3 is the fewest that gate, but with 2 degrees of freedom one
    // wild run of the light side, this test sharing the machine with the others, once
    // put a ×58 change's lower bound at ×4.5, below a 500% threshold).
    let side = |name: &str, init_iters: &str| {
        let side = dir.path().join(name);
        std::fs::create_dir(&side).unwrap();
        for i in 1..=4 {
            let json = run(&format!("{name}-{i}.json"), init_iters);
            std::fs::rename(&json, side.join(format!("{i}.json"))).unwrap();
        }
        side.display().to_string()
    };
    let light = side("light", "100");
    // ~20 M hash rounds of init: tens of ms on top of a sub-ms process start.
    let heavy = side("heavy", "20000000");
    let out = coldstart()
        .args([
            "compare",
            &light,
            &heavy,
            "--threshold",
            "100%",
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
        .args(["compare", &light, &heavy, "--threshold", "100%", "--force"])
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
        .args(["compare", &heavy, &light, "--threshold", "100%", "--force"])
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
    // The runs of each side are reported per group.
    assert!(stdout.contains(" runs 1/1 "), "{stdout}");
}
