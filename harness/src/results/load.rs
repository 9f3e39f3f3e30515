//! Reading result files back, for reports, comparisons and merges. Anything that is
//! not a whole, current coldstart result file (or a run's journal) is refused with
//! one line naming the file and the problem (exit code 2), never a panic: a missing
//! file, text that is not JSON or is cut short, JSON of another tool, another schema
//! version, a histogram that does not decode, is empty, or holds another count than
//! its summary says. A run killed outright left a journal, which reads as its result
//! file, status `running` ([`super::journal`]). A directory of runs is read by
//! [`load_runs`]: files that are not result files are passed over with a note;
//! `latest.json` is left out since it repeats a dated file.

use crate::error::UsageError;
use crate::results::{ResultFile, OLDEST_READABLE_SCHEMA, SCHEMA_VERSION};
use crate::stats;
use std::path::{Path, PathBuf};

/// Reads and checks one result file.
pub fn load(path: &Path) -> Result<ResultFile, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    parse(&text).map_err(|problem| UsageError(format!("{}: {problem}", path.display())))
}

/// Checks and parses the text of a result file, or of the journal a run that was
/// killed outright left ([`super::journal`]); the error says what is wrong.
pub fn parse(text: &str) -> Result<ResultFile, String> {
    if super::journal::is_journal(text) {
        return super::journal::read(text, check);
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            format!("the JSON ends early (a truncated file?): {e}")
        } else {
            format!("not JSON: {e}")
        }
    })?;
    check(value)
}

/// Checks a result file's JSON: its tool, its schema version, its histograms.
fn check(value: serde_json::Value) -> Result<ResultFile, String> {
    match value
        .get("tool")
        .and_then(|t| t.get("name"))
        .and_then(|n| n.as_str())
    {
        Some("coldstart") => {}
        Some(other) => return Err(format!("a result file of {other:?}, not of coldstart")),
        None => return Err("not a coldstart result file (it has no tool.name)".into()),
    }
    match value.get("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if (u64::from(OLDEST_READABLE_SCHEMA)..=u64::from(SCHEMA_VERSION)).contains(&v) => {
        }
        Some(v) => {
            return Err(format!(
                "schema_version {v}, and this coldstart reads versions \
                 {OLDEST_READABLE_SCHEMA} to {SCHEMA_VERSION}"
            ))
        }
        None => return Err("no schema_version".into()),
    }
    let results: ResultFile = serde_json::from_value(value)
        .map_err(|e| format!("does not match the result schema: {e}"))?;
    for r in &results.runtimes {
        let modes = [("cold", &r.modes.cold), ("warm", &r.modes.warm)];
        let summaries = modes
            .iter()
            .flat_map(|(mode, m)| {
                m.phases
                    .iter()
                    .chain(&m.reported)
                    .map(move |(phase, s)| (format!("{mode} {phase}"), s))
            })
            .chain(r.teardown.iter().map(|s| ("teardown".to_string(), s)))
            .chain(
                r.network_baseline
                    .iter()
                    .map(|s| ("network baseline".to_string(), s)),
            );
        for (what, summary) in summaries {
            let bad = |e: String| format!("the {what} histogram of {}: {e}", r.label());
            let hist = stats::decode(&summary.histogram).map_err(bad)?;
            if hist.is_empty() {
                return Err(bad("it is empty, so its summary was not read off it".into()));
            }
            if hist.len() != summary.count {
                return Err(bad(format!(
                    "it holds {} samples and its summary says {}",
                    hist.len(),
                    summary.count
                )));
            }
        }
    }
    Ok(results)
}

/// The result files under `dir` (recursively). Symbolic links are not followed out
/// of `root`: a linked file is read only when it resolves inside `root` (and is not
/// read twice), a linked directory never (no loops, no walks outside); each passed
/// over link gets a note.
fn result_files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<PathBuf>,
    notes: &mut Vec<String>,
) -> std::io::Result<()> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type()?;
        let wanted = path.extension().is_some_and(|e| e == "json")
            && path
                .file_name()
                .is_some_and(|n| n != "latest.json" && n != "schema.json");
        if kind.is_dir() {
            result_files(root, &path, out, notes)?;
        } else if kind.is_symlink() && (wanted || path.is_dir()) {
            match std::fs::canonicalize(&path) {
                Ok(target) if target.is_file() && target.starts_with(root) => out.push(path),
                Ok(target) if target.is_dir() => notes.push(format!(
                    "passed over {}: a link to a directory is not followed",
                    path.display()
                )),
                _ => notes.push(format!(
                    "passed over {}: a link out of {}",
                    path.display(),
                    root.display()
                )),
            }
        } else if kind.is_file() && wanted {
            out.push(path);
        }
    }
    Ok(())
}

/// The result files of a directory, oldest first, and a note for each file passed over.
pub struct Runs {
    pub runs: Vec<ResultFile>,
    pub notes: Vec<String>,
}

/// Reads every result file under `dir`.
pub fn load_runs(dir: &Path) -> Result<Runs, UsageError> {
    let mut paths = Vec::new();
    let mut notes = Vec::new();
    let cannot = |e: std::io::Error| UsageError(format!("cannot read {}: {e}", dir.display()));
    let root = std::fs::canonicalize(dir).map_err(cannot)?;
    result_files(&root, dir, &mut paths, &mut notes).map_err(cannot)?;
    // A file and a link to it inside the directory are one run.
    let mut seen = std::collections::HashSet::new();
    paths.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    let mut runs = Vec::new();
    for path in paths {
        match load(&path) {
            Ok(run) => runs.push(run),
            Err(e) => notes.push(format!("passed over {e}")),
        }
    }
    if runs.is_empty() {
        return Err(UsageError(format!(
            "no coldstart result file under {}: publish one with scripts/ci-bench.sh",
            dir.display()
        )));
    }
    runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    Ok(Runs { runs, notes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SMALL: &str = include_str!("../../../fixtures/results-small.json");

    #[test]
    fn the_fixture_loads() {
        let r = parse(SMALL).unwrap();
        assert!(!r.runtimes.is_empty());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let cases = [
            ("", "truncated"),
            ("{\"tool\": ", "truncated"),
            (&SMALL[..SMALL.len() / 2], "truncated"),
            ("hello", "not JSON"),
            ("[1, 2]", "no tool.name"),
            ("{\"tool\": {\"name\": \"hyperfine\"}}", "of \"hyperfine\""),
            (
                "{\"tool\": {\"name\": \"coldstart\"}, \"schema_version\": 9}",
                "schema_version 9",
            ),
            (
                "{\"tool\": {\"name\": \"coldstart\"}, \"schema_version\": 1}",
                "does not match",
            ),
        ];
        for (text, expected) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.contains(expected), "{text:?}: {e}");
        }
        let broken = SMALL.replacen("\"histogram\": \"", "\"histogram\": \"AAAA", 1);
        assert!(parse(&broken).unwrap_err().contains("histogram"));
        // A crafted summary: an empty histogram, or one of another count.
        let mut doc: serde_json::Value = serde_json::from_str(SMALL).unwrap();
        let summary = doc["runtimes"][0]["modes"]["cold"]["phases"]["total"].clone();
        let mut empty = doc.clone();
        empty["runtimes"][0]["modes"]["cold"]["phases"]["total"]["histogram"] =
            stats::encode(&stats::histogram()).into();
        let e = parse(&empty.to_string()).unwrap_err();
        assert!(e.contains("it is empty"), "{e}");
        doc["runtimes"][0]["modes"]["cold"]["phases"]["total"]["count"] =
            (summary["count"].as_u64().unwrap() + 1).into();
        let e = parse(&doc.to_string()).unwrap_err();
        assert!(e.contains("its summary says"), "{e}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Arbitrary text never panics the parser.
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,300}") {
            let _ = parse(&text);
        }

        /// A valid file cut or corrupted anywhere is refused or read, never a panic.
        #[test]
        fn corrupted_files_never_panic(cut in 0usize..4000, at in 0usize..4000, byte in any::<u8>()) {
            let mut bytes = SMALL.as_bytes().to_vec();
            let at = at % bytes.len();
            bytes[at] = byte;
            bytes.truncate(bytes.len() - cut.min(bytes.len()));
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }
    }
}
