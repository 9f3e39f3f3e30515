//! The raw samples as CSV, one row per sample in the order taken (hyperfine's
//! `--export-csv` gives its summary; ours gives what every statistic is derived
//! from): `seq, runtime, variant, language, mode, ok, outcome, total_ns`, one `<phase>_ns`
//! column per cold phase of any variant (in the order they happen), then
//! `teardown_ns, error`. Times are integer nanoseconds; an empty cell is no value.

use crate::results::ResultFile;
use std::fmt::Write;

/// A field quoted as RFC 4180 wants when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The phases of every variant, without `total`, first seen first.
fn phase_columns(results: &ResultFile) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    let all = results.runtimes.iter().flat_map(|r| r.phase_order.iter());
    let from_samples = results.samples.iter().flat_map(|s| s.phases_ns.keys());
    for phase in all.chain(from_samples) {
        if phase != crate::phase::TOTAL && !columns.contains(phase) {
            columns.push(phase.clone());
        }
    }
    columns
}

/// The whole CSV text.
pub fn render(results: &ResultFile) -> String {
    let phases = phase_columns(results);
    let mut out = String::from("seq,runtime,variant,language,mode,ok,outcome,total_ns");
    for p in &phases {
        let _ = write!(out, ",{}", field(&format!("{p}_ns")));
    }
    out.push_str(",teardown_ns,error\n");
    let num = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    for s in &results.samples {
        let outcome = serde_json::to_value(s.outcome)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{}",
            s.seq,
            field(&s.runtime),
            field(&s.variant),
            s.language,
            s.mode.name(),
            s.ok,
            outcome,
            num(s.total_ns)
        );
        for p in &phases {
            let _ = write!(out, ",{}", num(s.phases_ns.get(p).copied()));
        }
        let _ = writeln!(
            out,
            ",{},{}",
            num(s.teardown_ns),
            field(s.error.as_deref().unwrap_or(""))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_quotes_and_newlines_are_quoted() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\"\nbye"), "\"say \"\"hi\"\"\nbye\"");
    }
}
