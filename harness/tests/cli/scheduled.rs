//! Scheduled benchmarks: suite files, scripts/ci-bench.sh run twice as CI would, and
//! the history of what it published.

use crate::support::{assert_valid_results, coldstart, probes_dir, read_json, repo_file};
use predicates::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn suite(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("suite.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_suite_files_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "runtimes = [\"process\", \"nosuch\"]\n",
            "unknown runtime \"nosuch\"",
        ),
        ("cold = 5\nwarm = -3\n", "line 2"),
        ("cold = 5\ncolds = 3\n", "unknown field `colds`"),
        ("timeout = \"soon\"\n", "timeout \"soon\""),
        ("cold = [", "line 1"),
        (
            "[density]\ninstances = 3\nruntimes = [\"wasm:nosuch\"]\n",
            "[density] runtimes: runtime wasm has no variant \"nosuch\"",
        ),
        ("[density]\nruntimes = []\n", "[density] runtimes is empty"),
        ("[density]\ninstance = 3\n", "unknown field `instance`"),
        ("[density]\nrounds = 2\n", "[density] has no instances"),
    ];
    for (text, problem) in cases {
        let path = suite(dir.path(), text);
        coldstart()
            .args(["run", "--suite"])
            .arg(&path)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "suite {}",
                path.display()
            )))
            .stderr(predicate::str::contains(problem));
    }
    coldstart()
        .args(["run", "--suite", "/nonexistent/suite.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read it"));
}

#[test]
fn flags_win_over_the_suite_and_the_suite_over_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = suite(
        dir.path(),
        "runtimes = [\"process\"]\ncold = 4\nwarm = 6\nwarmup = 0\ninit_kib = 8\n",
    );
    let json = dir.path().join("out.json");
    coldstart()
        .args(["run", "--cold", "2", "--suite"])
        .arg(&path)
        .arg("--export-json")
        .arg(&json)
        .assert()
        .success();
    let doc = read_json(&json);
    assert_valid_results(&doc);
    let p = &doc["parameters"];
    assert_eq!(
        (p["cold_samples"].as_u64(), p["warm_samples"].as_u64()),
        (Some(2), Some(6))
    );
    assert_eq!(
        (p["init_kib"].as_u64(), p["invoke_iters"].as_u64()),
        (Some(8), Some(50))
    );
    assert_eq!(p["suite"], path.display().to_string());
    assert_eq!(doc["runtimes"].as_array().unwrap().len(), 1);
}

/// A suite's `[density]` measures density of the variants it names, and only those;
/// `--density` on the command line wins over its instances, not over its variants.
#[test]
fn a_suite_measures_density_of_the_variants_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = suite(
        dir.path(),
        "runtimes = [\"process\", \"wasm:pre\"]\ncold = 3\nwarm = 3\nwarmup = 0\n\
         [density]\ninstances = 4\nrounds = 1\nruntimes = [\"wasm:pre\"]\n",
    );
    for (flags, instances) in [(&[][..], 4), (&["--density", "2"][..], 2)] {
        let json = dir.path().join("out.json");
        coldstart()
            .env("COLDSTART_PROBES_DIR", probes_dir())
            .args(["run", "--suite"])
            .arg(&path)
            .args(flags)
            .arg("--export-json")
            .arg(&json)
            .assert()
            .success();
        let doc = read_json(&json);
        assert_valid_results(&doc);
        let p = &doc["parameters"];
        assert_eq!(p["density"], instances);
        assert_eq!(p["density_rounds"], 1);
        assert_eq!(p["density_runtimes"], serde_json::json!(["wasm:pre"]));
        let row = |variant: &str| {
            doc["runtimes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["variant"] == variant)
                .unwrap()
                .clone()
        };
        let pre = row("pre");
        assert_eq!(pre["density"]["raw"][0]["reached"], instances, "{pre}");
        assert!(row("native")["density"].is_null(), "process is not named");
    }
}

#[test]
fn ci_bench_twice_publishes_two_runs_and_compares_them() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let bench = || {
        let out = Command::new(repo_file("scripts/ci-bench.sh"))
            .arg(repo_file("fixtures/suite-test.toml"))
            .env("RESULTS_DIR", &results)
            .env("HOST_LABEL", "test host")
            .env("COLDSTART_BIN", assert_cmd::cargo::cargo_bin("coldstart"))
            .env("COLDSTART_PROBES_DIR", probes_dir())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (text, out.status.code())
    };
    let (first, code) = bench();
    assert_eq!(code, Some(0), "ci-bench failed:\n{first}");
    assert!(first.contains("nothing to compare with"), "{first}");
    let (second, code) = bench();
    let day = String::from_utf8(
        Command::new("date")
            .args(["-u", "+%Y-%m-%d"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let day = day.trim();
    let year_dir = results.join(&day[..4]);
    let one = year_dir.join(format!("{day}-test-host.json"));
    let two = year_dir.join(format!("{day}-test-host-2.json"));
    for file in [&one, &two] {
        assert_valid_results(&read_json(file));
        for ext in ["md", "html", "compare.md"] {
            let report = file.with_extension(ext);
            assert!(report.is_file(), "{} missing", report.display());
        }
    }
    let latest = read_json(&results.join("latest.json"));
    assert_eq!(
        latest["run_id"],
        read_json(&two)["run_id"],
        "latest.json is the newest run"
    );
    assert_ne!(read_json(&one)["run_id"], read_json(&two)["run_id"]);
    // The second run (with its two extra candidate runs, CANDIDATE_RUNS' default 3)
    // was compared with the first (the published history), not with itself. One
    // baseline run cannot show run-to-run variance: every total is advisory, exit 0.
    let compare = std::fs::read_to_string(two.with_extension("compare.md")).unwrap();
    assert!(
        compare.contains(&format!("Baseline runs (1): {day}-test-host.json\n"))
            && compare.contains(&format!(
                "Candidate runs (3): {day}-test-host-2.json run-2.json run-3.json\n"
            )),
        "{compare}"
    );
    assert!(
        compare.contains("1 baseline and 3 candidate file(s)"),
        "{compare}"
    );
    let total = compare
        .lines()
        .find(|l| l.starts_with("| process:native cold total |"))
        .unwrap_or_else(|| panic!("{compare}"));
    assert!(
        total.contains("| 1/3 |") && total.ends_with("| advisory |"),
        "{total}"
    );
    assert_eq!(code, Some(0), "{second}");
    assert!(
        std::fs::read_to_string(two.with_extension("html"))
            .unwrap()
            .matches("<svg")
            .count()
            == 3
    );

    // The history of what was published: both runs, in order.
    let history = coldstart()
        .args(["history"])
        .arg(&results)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let history = String::from_utf8(history).unwrap();
    for file in [&one, &two] {
        let id = read_json(file)["run_id"].as_str().unwrap().to_string();
        assert!(history.contains(&id), "{id} missing from\n{history}");
    }
    assert!(
        history.contains("## process:native cold") && history.contains("## wasm:pre warm"),
        "{history}"
    );
    let html = dir.path().join("history.html");
    coldstart()
        .args(["history", "--format", "html", "-o"])
        .arg(&html)
        .arg(&results)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&html)
            .unwrap()
            .matches("<svg")
            .count(),
        2
    );
    // An empty directory has no history, and says so.
    let empty = tempfile::tempdir().unwrap();
    coldstart()
        .arg("history")
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no coldstart result file"));
}
