//! The language axis on real interpreters: the probe in Rust, Python, Node.js, Java
//! and Go, each a row of its own on every runtime that can run it, verified like
//! any other; a language that cannot run here is skipped with what to install, or
//! bad input when named; a probe whose checksum is wrong is invalid in any language.

use crate::support::{
    assert_valid_results, coldstart, coldstart_with, copied_probes, probes_dir, read_json, row_in,
};

const LANGUAGES: [&str; 5] = ["rust", "python", "node", "java", "go"];

#[test]
fn every_language_runs_as_a_process_and_in_the_emulator_verified() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("languages.json");
    let out = coldstart()
        .args([
            "run",
            "--language",
            "all",
            "--runtime",
            "process,lambda:local-emulator,wasm",
        ])
        .args([
            "--cold", "5", "--warm", "10", "--warmup", "1", "--seed", "3",
        ])
        .arg("--export-json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = read_json(&json);
    assert_valid_results(&doc);
    assert_eq!(doc["schema_version"], 3);
    assert_eq!(doc["parameters"]["languages"], serde_json::json!(LANGUAGES));
    for language in LANGUAGES {
        for (runtime, variant) in [("process", "native"), ("lambda", "local-emulator")] {
            let r = row_in(&doc, runtime, variant, language);
            assert_eq!(r["available"], true, "{runtime} {language}: {r}");
            assert_eq!(r["modes"]["cold"]["ok"], 5, "{runtime} {language}");
            assert_eq!(r["modes"]["warm"]["ok"], 10, "{runtime} {language}");
            assert_eq!(r["modes"]["cold"]["invalid"], 0, "{runtime} {language}");
            assert!(r["artifact_bytes"].as_u64().unwrap() > 1000, "{language}");
        }
    }
    // The interpreter's version is the row's; the JVM prints its own on stderr.
    for (language, key, starts) in [
        ("python", "python", "Python 3"),
        ("node", "node", "v"),
        ("java", "java", "openjdk version"),
        ("go", "go", "go version go1."),
    ] {
        let v = &row_in(&doc, "process", "native", language)["versions"][key];
        assert!(v.as_str().unwrap().starts_with(starts), "{language}: {v}");
    }
    // A sample says its language, except Rust's (the default, as in older files).
    let samples = doc["samples"].as_array().unwrap();
    for language in &LANGUAGES[1..] {
        let n = samples
            .iter()
            .filter(|s| s["language"] == *language && s["ok"] == true)
            .count();
        assert_eq!(n, 2 * (5 + 10), "{language}");
    }
    assert!(samples.iter().any(|s| s.get("language").is_none()));
    // wasm runs Rust only: every other language is a skip with its reason.
    for language in &LANGUAGES[1..] {
        let r = row_in(&doc, "wasm", "pre", language);
        assert_eq!(r["available"], false);
        assert!(
            r["skipped_reason"]
                .as_str()
                .unwrap()
                .contains("wasm cannot run the"),
            "{r}"
        );
    }
    // The compute model × language table, with every language a column.
    let table = stdout
        .split("Languages:")
        .nth(1)
        .expect("the language table");
    let header = table.lines().nth(1).unwrap();
    for language in LANGUAGES {
        assert!(header.contains(language), "{header}");
    }
    assert!(table.contains("process:native "), "{table}");
    // The language claims are judged on the processes only: the emulator's rows
    // are a local stand-in, and n=5 is too few.
    let report = coldstart().arg("report").arg(&json).output().unwrap();
    let report = String::from_utf8_lossy(&report.stdout);
    let lines: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("java-slower-than-python"))
        .collect();
    assert_eq!(lines.len(), 1, "{report}");
    assert!(
        lines[0].contains("process:native:java / process:native:python"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with("not enough samples (n=5 < 30)"),
        "{}",
        lines[0]
    );
    assert!(!report.contains("lambda:local-emulator:java /"), "{report}");
}

#[test]
fn a_language_that_cannot_run_here_is_skipped_or_bad_input_when_named() {
    // Only the Rust probes: no Java class, no Python script.
    let probes = copied_probes();
    let named = coldstart_with(probes.path())
        .args([
            "run",
            "--language",
            "java",
            "--runtime",
            "process",
            "--cold",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(named.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&named.stderr);
    // One line of error (a busy host adds its load-average warning before it).
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("warning:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(stderr.contains("--language java"), "{stderr}");
    assert!(stderr.contains("scripts/build-probes.sh"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("all.json");
    coldstart_with(probes.path())
        .args(["run", "--language", "all", "--runtime", "process"])
        .args([
            "--cold",
            "2",
            "--warm",
            "2",
            "--warmup",
            "0",
            "--export-json",
        ])
        .arg(&json)
        .assert()
        .success();
    let doc = read_json(&json);
    assert_eq!(row_in(&doc, "process", "native", "rust")["available"], true);
    let java = row_in(&doc, "process", "native", "java");
    assert_eq!(java["available"], false);
    assert!(
        java["skipped_reason"]
            .as_str()
            .unwrap()
            .contains("openjdk-17-jdk-headless"),
        "{java}"
    );

    let unknown = coldstart()
        .args(["run", "--language", "cobol"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(stderr.contains("rust, python, node, java, go"), "{stderr}");
}

#[test]
fn a_wrong_checksum_in_another_language_is_invalid_and_shown() {
    // The Python probe with one bit of its invocation's work changed.
    let probes = copied_probes();
    let script = std::fs::read_to_string(probes_dir().join("python/coldstart_probe.py")).unwrap();
    let broken = script.replace("x = mix(x ^ word ^ i)", "x = mix(x ^ word ^ i ^ 1)");
    assert_ne!(broken, script, "the probe's invocation loop moved");
    std::fs::create_dir(probes.path().join("python")).unwrap();
    std::fs::write(probes.path().join("python/coldstart_probe.py"), broken).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("broken.json");
    let out = coldstart_with(probes.path())
        .args(["run", "--language", "python", "--runtime", "process"])
        .args([
            "--cold",
            "3",
            "--warm",
            "0",
            "--warmup",
            "0",
            "--export-json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = read_json(&json);
    let r = row_in(&doc, "process", "native", "python");
    assert_eq!(r["modes"]["cold"]["ok"], 0);
    assert_eq!(r["modes"]["cold"]["invalid"], 3);
    let errors: Vec<&str> = doc["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["error"].as_str())
        .collect();
    assert_eq!(errors.len(), 3);
    for e in errors {
        // Both checksums shown: what came back and what a correct instance answers.
        assert!(
            e.starts_with("checksum ") && e.contains(", expected "),
            "{e}"
        );
    }
}
