//! The result files `report`, `compare` and `merge` read: a missing, malformed,
//! truncated, foreign, future, corrupted or empty file gets one line naming the file
//! and what is wrong with it, and exit code 2, from each of the three.

use super::{fixture, write};
use crate::support::coldstart;
use serde_json::Value;

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
