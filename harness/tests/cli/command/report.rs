//! `report` of a result file: snapshots of the text and markdown reports of a
//! committed fixture, a report of any valid run, and the HTML report opened in
//! headless Chromium.

use super::{fixture, stdout_of};
use crate::support::{coldstart, docker_lock};
use std::path::Path;

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
                "--window-size=1100,4000",
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
