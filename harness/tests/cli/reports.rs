//! `report`, `compare` and `merge` on real result files: snapshots of the reports of a
//! committed fixture, the A/B test on real runs, merging, bad input, and the HTML
//! report opened in headless Chromium.

use crate::common::{assert_valid_results, coldstart, docker_lock, read_json, repo_file};
use predicates::prelude::*;
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

#[test]
fn a_file_compared_with_itself_has_no_regression() {
    let file = fixture().display().to_string();
    let text = stdout_of(&["compare", &file, &file]);
    assert!(text.contains(" 0 regressions."), "{text}");
    assert!(!text.contains("REGRESSION"));
    let markdown = stdout_of(&["compare", &file, &file, "--format", "markdown"]);
    assert!(markdown.contains("| group | baseline p50 |"), "{markdown}");
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
            .args(["--init-iters", init_iters, "--export-json"])
            .arg(&json)
            .assert()
            .success();
        json.display().to_string()
    };
    let light = run("light.json", "100");
    // ~20 M hash rounds of init: tens of ms on top of a sub-ms process start.
    let heavy = run("heavy.json", "20000000");
    let out = coldstart()
        .args(["compare", &light, &heavy, "--threshold", "500%"])
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
    // The reverse is an improvement, not a regression: exit 0.
    coldstart()
        .args(["compare", &heavy, &light, "--threshold", "500%"])
        .assert()
        .success()
        .stdout(predicate::str::contains("improvement"));
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
