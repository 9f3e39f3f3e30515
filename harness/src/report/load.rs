//! Reading result files back, for reports, comparisons and merges. Anything that is
//! not a whole, current coldstart result file is refused with one line naming the
//! file and the problem (exit code 2), never a panic: a missing file, text that is not
//! JSON or is cut short, JSON of another tool, another schema version, a histogram
//! that does not decode.

use crate::results::{ResultFile, OLDEST_READABLE_SCHEMA, SCHEMA_VERSION};
use crate::stats;
use crate::UsageError;
use std::path::Path;

/// Reads and checks one result file.
pub fn load(path: &Path) -> Result<ResultFile, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    parse(&text).map_err(|problem| UsageError(format!("{}: {problem}", path.display())))
}

/// Checks and parses the text of a result file; the error says what is wrong.
pub fn parse(text: &str) -> Result<ResultFile, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            format!("the JSON ends early (a truncated file?): {e}")
        } else {
            format!("not JSON: {e}")
        }
    })?;
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
        for (mode, m) in modes {
            for (phase, summary) in &m.phases {
                stats::decode(&summary.histogram).map_err(|e| {
                    format!(
                        "the {mode} {phase} histogram of {}:{}: {e}",
                        r.runtime, r.variant
                    )
                })?;
            }
        }
    }
    Ok(results)
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
