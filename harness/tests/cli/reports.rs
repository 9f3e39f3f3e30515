//! `report`, `compare` and `merge` on real result files: snapshots of the reports of a
//! committed fixture, the A/B test on real runs, merging, bad input, and the HTML
//! report opened in headless Chromium.

use crate::common::{assert_valid_results, coldstart, docker_lock, read_json, repo_file};
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    repo_file("fixtures/results-small.json")
}

fn stdout_of(args: &[&str]) -> String {
    let out = coldstart()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn text_and_markdown_reports_of_the_fixture() {
    let file = fixture().display().to_string();
    let text = stdout_of(&["report", &file]);
    insta::assert_snapshot!("report_text", text);
    // The text report (the default format) says what stood in for a claim's subject,
    // as markdown and HTML do: wasm:pre is local wasmtime, not Cloudflare Workers.
    let workers = text
        .split("workers-sub-millisecond (line")
        .nth(1)
        .expect("the Workers claim is quoted");
    assert!(
        workers
            .lines()
            .nth(1)
            .unwrap()
            .contains("note: tested on wasmtime"),
        "{text}"
    );
    let markdown = stdout_of(&["report", &file, "--format", "markdown"]);
    insta::assert_snapshot!("report_markdown", markdown);
    for needed in [
        "seed 5",
        "wasmtime 48.",
        "process:native 5+10",
        "not measured: vm was not run",
        "not measured: lambda was not run",
    ] {
        assert!(markdown.contains(needed), "{needed} missing");
    }
}

#[test]
fn a_report_works_on_any_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("process-only.json");
    coldstart()
        .args([
            "run",
            "--runtime",
            "process",
            "--cold",
            "3",
            "--warm",
            "3",
            "--export-json",
        ])
        .arg(&json)
        .assert()
        .success();
    let text = stdout_of(&["report", &json.display().to_string()]);
    assert!(text.contains("not measured: docker was not run"), "{text}");
    assert!(text.contains("not measured: wasm was not run"), "{text}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_files_get_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fixture()).unwrap();
    let cases = [
        (dir.path().join("missing.json"), "cannot read"),
        (
            write(dir.path(), "text.json", "this is not json"),
            "not JSON",
        ),
        (
            write(dir.path(), "cut.json", &good[..good.len() / 3]),
            "truncated",
        ),
        (
            write(
                dir.path(),
                "other.json",
                r#"{"tool": {"name": "hyperfine"}, "results": []}"#,
            ),
            "not of coldstart",
        ),
        (
            write(
                dir.path(),
                "v9.json",
                &good.replacen("\"schema_version\": 1", "\"schema_version\": 9", 1),
            ),
            "schema_version 9",
        ),
        (
            write(
                dir.path(),
                "hist.json",
                &good.replacen("\"histogram\": \"", "\"histogram\": \"QUJD", 1),
            ),
            "histogram",
        ),
        (
            // Crafted: every histogram empty, no samples (once a panic in merge).
            write(dir.path(), "empty.json", &{
                let mut doc: Value = serde_json::from_str(&good).unwrap();
                let empty = coldstart::stats::encode(&coldstart::stats::histogram());
                for r in doc["runtimes"].as_array_mut().unwrap() {
                    for mode in ["cold", "warm"] {
                        if let Some(phases) = r["modes"][mode]["phases"].as_object_mut() {
                            for summary in phases.values_mut() {
                                summary["histogram"] = empty.clone().into();
                            }
                        }
                    }
                }
                doc["samples"] = serde_json::json!([]);
                doc.to_string()
            }),
            "it is empty",
        ),
    ];
    for (path, problem) in cases {
        let name = path.display().to_string();
        for args in [
            vec!["report", &name],
            vec!["compare", &name, &name],
            vec!["merge", &name, "-o", "/dev/null"],
        ] {
            let out = coldstart()
                .args(&args)
                .assert()
                .code(2)
                .get_output()
                .clone();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
            assert!(
                stderr.contains(&name) && stderr.contains(problem),
                "{args:?}: {stderr}"
            );
        }
    }
}

/// Recorded runs of this machine (scripts/bench-compare-aa.sh): two sides of five
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
fn merge_adds_two_real_runs_with_different_maxima() {
    // Two recorded runs of the same settings: their histograms have different
    // ranges, which adding into the first one's decoded histogram could not hold.
    let a = repo_file("fixtures/compare/aa-a/run-01.json");
    let b = repo_file("fixtures/compare/aa-b/run-02.json");
    let (da, db) = (read_json(&a), read_json(&b));
    let max = |d: &Value| {
        crate::common::runtime(d, "process", "native")["modes"]["cold"]["phases"]["first_response"]
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
                crate::common::runtime(d, rt, variant)["modes"][mode]["phases"]["total"]["count"]
                    .as_u64()
                    .unwrap()
            };
            assert_eq!(
                count(&merged),
                count(&da) + count(&db),
                "{rt}:{variant} {mode}"
            );
        }
        let m = crate::common::runtime(&merged, rt, variant)["modes"]["cold"]["phases"]["total"]
            ["max_ns"]
            .as_u64()
            .unwrap();
        let larger = [&da, &db]
            .iter()
            .map(|d| {
                crate::common::runtime(d, rt, variant)["modes"]["cold"]["phases"]["total"]["max_ns"]
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
fn the_html_report_renders_in_chromium() {
    let _docker = docker_lock(); // keeps the machine quieter for the browser
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("Chromium is needed for this test: apt-get install -y chromium (.ci/run does)");
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&artifacts).unwrap();
    let html = artifacts.join("report.html");
    coldstart()
        .args([
            "report",
            &fixture().display().to_string(),
            "--format",
            "html",
            "-o",
        ])
        .arg(&html)
        .assert()
        .success();
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(
        page.matches("<svg").count(),
        3,
        "two CDFs and the phase bars"
    );
    // Self-contained: no script, no resource to fetch (the SVG namespace is a name, not a fetch).
    let fetches = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !page.contains("<script") && !fetches.contains("http") && !page.contains("src="),
        "not self-contained"
    );
    let profile = tempfile::tempdir().unwrap();
    let screenshot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&screenshot);
    let browser = |extra: &[&str]| {
        std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
            ])
            .args([
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args([
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1100,2600",
            ])
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .unwrap()
    };
    let dom = browser(&["--dump-dom"]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(
        dom_text.matches("<svg").count(),
        3,
        "the browser parsed three SVGs"
    );
    let shot = browser(&[&format!("--screenshot={}", screenshot.display())]);
    let log =
        String::from_utf8_lossy(&shot.stderr).to_string() + &String::from_utf8_lossy(&dom.stderr);
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE(") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console errors: {console:?}");
    // The screenshot is a real render: many pixels are neither white nor one flat colour.
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&screenshot).expect("a screenshot"),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let inked = bytes
        .chunks(channels)
        .filter(|px| px[..3].iter().any(|c| *c < 200))
        .count();
    let colored = bytes
        .chunks(channels)
        .filter(|px| px[..3].iter().max().unwrap() - px[..3].iter().min().unwrap() > 60)
        .count();
    assert!(
        inked > 20_000,
        "only {inked} dark pixels: the page did not render"
    );
    assert!(
        colored > 2_000,
        "only {colored} coloured pixels: the plots did not render"
    );
}

/// A copy of a recorded run with `edit` applied, written into `dir`.
fn edited(dir: &Path, name: &str, from: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut doc = read_json(from);
    edit(&mut doc);
    write(dir, name, &doc.to_string())
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
    let row = crate::common::runtime(&merged, "wasm", "pre");
    let said = row["versions"]["wasmtime"].as_str().unwrap();
    assert!(
        said.starts_with("differs between the merged runs"),
        "{said}"
    );
}

#[test]
fn history_does_not_follow_links_out_of_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    std::fs::copy(
        repo_file("fixtures/compare/aa-a/run-01.json"),
        runs.join("one.json"),
    )
    .unwrap();
    let secret = outside.path().join("elsewhere.json");
    std::fs::copy(repo_file("fixtures/compare/aa-b/run-02.json"), &secret).unwrap();
    std::os::unix::fs::symlink(&secret, runs.join("out.json")).unwrap();
    std::os::unix::fs::symlink(outside.path(), runs.join("outdir")).unwrap();
    // A link to itself's parent would loop forever if followed.
    std::os::unix::fs::symlink(&runs, runs.join("loop")).unwrap();
    // A link inside the directory is read once.
    std::os::unix::fs::symlink(runs.join("one.json"), runs.join("again.json")).unwrap();
    let out = coldstart().arg("history").arg(&runs).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let one = read_json(&runs.join("one.json"))["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = read_json(&secret)["run_id"].as_str().unwrap().to_string();
    assert!(stdout.contains(&one), "{stdout}");
    assert!(
        !stdout.contains(&other),
        "read through a link out of the directory"
    );
    assert_eq!(
        stdout.matches(&one).count(),
        read_json(&runs.join("one.json"))["runtimes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["available"] == true)
            .map(|r| if r["modes"]["warm"]["ok"] == 0 { 1 } else { 2 })
            .sum::<usize>(),
        "one row per group, not two: {stdout}"
    );
    assert!(stderr.contains("out.json: a link out of"), "{stderr}");
    assert!(
        stderr.contains("outdir: a link to a directory is not followed"),
        "{stderr}"
    );
}
