//! The journal: what the JSON export holds while a run takes its samples.
//!
//! Rewriting the whole result file at every checkpoint (every statistic derived
//! again, the JSON rendered, the markdown and CSV too, a sync) is work that grows
//! with the run and competes with µs samples for the cores. So while the samples are
//! taken, the writer thread ([`crate::export::writer`]) only appends, one JSON
//! object per line:
//!
//! ```text
//! {"journal":1,"results":{...}}     the result file as measuring began (status running)
//! {"sample":{...}}                  one per sample, in the order taken
//! {"runtimes":[...]}                the runtimes' entries, when one changed (a note,
//!                                   an abandonment); the last one holds
//! {"wall_time":12345}               the run's time so far, ns, at each sync
//! ```
//!
//! and flushes and syncs at most every [`crate::export::writer::CHECKPOINT_EVERY`].
//! Statistics are derived once, at the end, when the whole result file replaces the
//! journal (atomically; also after Ctrl-C or SIGTERM). A run killed outright leaves
//! its journal: [`read`] turns it into a result file (statistics derived from the
//! samples, status still `running`, its time that of the last sync), which is how
//! every command that reads result files reads it. A last line the kill cut short is
//! left out; a bad line anywhere else is an error (after a failed write the writer
//! appends nothing more, so its half line stays the last). Its `skipped` counts are
//! those of its last runtimes line: items skipped after it are not in them.

use super::{ResultFile, RuntimeResult, Sample};
use serde::{Deserialize, Serialize};

/// The version of the journal's format, in its first line.
pub const JOURNAL_VERSION: u32 = 1;

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    pub journal: u32,
    pub results: serde_json::Value,
}

/// Every line after the first.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    Sample(Box<Sample>),
    Runtimes(Vec<RuntimeResult>),
    WallTime(u64),
}

/// The first line of a journal for `results`, newline included.
pub fn header_line(results: &ResultFile) -> String {
    let header = Header {
        journal: JOURNAL_VERSION,
        results: serde_json::to_value(results).expect("results always serialize"),
    };
    serde_json::to_string(&header).expect("a header always serializes") + "\n"
}

/// One line after the first, newline included.
pub fn entry_line(entry: &Entry) -> String {
    serde_json::to_string(entry).expect("an entry always serializes") + "\n"
}

/// Whether `text` is a journal rather than a whole result file.
pub fn is_journal(text: &str) -> bool {
    text.starts_with("{\"journal\":")
}

/// The result file a journal stands for: its header's results with its samples and
/// its last runtimes, statistics derived. `check` is applied to the header's
/// results (the checks of a whole result file: tool, schema version, histograms).
pub fn read(
    text: &str,
    check: impl Fn(serde_json::Value) -> Result<ResultFile, String>,
) -> Result<ResultFile, String> {
    let mut lines = text.split_inclusive('\n').enumerate();
    let (_, first) = lines.next().ok_or("an empty journal")?;
    let header: Header = serde_json::from_str(first)
        .map_err(|e| format!("the journal's first line is not its header: {e}"))?;
    if header.journal != JOURNAL_VERSION {
        return Err(format!(
            "journal version {}, and this coldstart reads version {JOURNAL_VERSION}",
            header.journal
        ));
    }
    let mut results = check(header.results)?;
    let lines: Vec<(usize, &str)> = lines.collect();
    let last = lines.len().saturating_sub(1);
    for (at, (number, line)) in lines.iter().enumerate() {
        match serde_json::from_str::<Entry>(line) {
            Ok(Entry::Sample(sample)) => results.samples.push(*sample),
            Ok(Entry::Runtimes(runtimes)) => results.runtimes = runtimes,
            Ok(Entry::WallTime(ns)) => results.wall_time_ns = ns,
            // The write a kill interrupted: no newline after it.
            Err(_) if at == last && !line.ends_with('\n') => {}
            Err(e) => return Err(format!("line {} of the journal: {e}", number + 1)),
        }
    }
    results.derive_statistics();
    // What the later lines brought (a runtimes line's histograms) is checked as a
    // whole file's would be.
    check(serde_json::to_value(&results).map_err(|e| e.to_string())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::load::parse;

    const SMALL: &str = include_str!("../../../fixtures/results-small.json");

    /// The journal a run of `whole`'s samples writes: the header as measuring began
    /// (no samples, no statistics), a line per sample, the runtimes once.
    fn journal_of(whole: &ResultFile) -> String {
        let mut start = whole.clone();
        start.samples.clear();
        for r in &mut start.runtimes {
            r.modes = Default::default();
            r.teardown = None;
        }
        let mut text = header_line(&start);
        let (first, rest) = whole.samples.split_at(whole.samples.len() / 2);
        for s in first {
            text += &entry_line(&Entry::Sample(Box::new(s.clone())));
        }
        text += &entry_line(&Entry::Runtimes(start.runtimes.clone()));
        for s in rest {
            text += &entry_line(&Entry::Sample(Box::new(s.clone())));
        }
        text += &entry_line(&Entry::WallTime(whole.wall_time_ns + 1));
        text
    }

    #[test]
    fn a_journal_reads_as_the_result_file_of_its_samples() {
        let whole = parse(SMALL).unwrap();
        assert!(whole.samples.len() > 20);
        let text = journal_of(&whole);
        assert!(is_journal(&text) && !is_journal(SMALL));
        let read = parse(&text).unwrap();
        assert_eq!(read.samples, whole.samples);
        assert_eq!(
            read.wall_time_ns,
            whole.wall_time_ns + 1,
            "the last sync's time"
        );
        // Derived from the samples alone: the same counts and medians as the file
        // whose statistics were derived at the end of its run.
        for (r, w) in read.runtimes.iter().zip(&whole.runtimes) {
            assert_eq!(r.modes.cold.ok, w.modes.cold.ok, "{}", r.variant);
            assert_eq!(r.modes.warm.ok, w.modes.warm.ok, "{}", r.variant);
            assert_eq!(
                r.modes.cold.phases.get("total").map(|s| s.p50_ns),
                w.modes.cold.phases.get("total").map(|s| s.p50_ns)
            );
        }
        assert!(read.runtimes.iter().any(|r| r.modes.cold.ok > 0));
    }

    #[test]
    fn only_a_last_line_cut_short_is_left_out() {
        let whole = parse(SMALL).unwrap();
        let text = journal_of(&whole);
        let torn = format!("{text}{{\"sample\":{{\"seq\":12");
        assert_eq!(parse(&torn).unwrap().samples.len(), whole.samples.len());
        // A bad line that is not the last (or is whole: it has its newline) is an error.
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        lines.insert(3, "{\"sample\":{\"seq\":12\n");
        let err = parse(&lines.concat()).unwrap_err();
        assert!(err.starts_with("line 4 of the journal"), "{err}");
        let err = parse(&format!("{text}{{\"sample\":1}}\n")).unwrap_err();
        assert!(err.contains("of the journal"), "{err}");
    }

    #[test]
    fn a_journal_of_another_version_or_tool_is_refused() {
        let whole = parse(SMALL).unwrap();
        let text = journal_of(&whole).replacen("{\"journal\":1,", "{\"journal\":2,", 1);
        assert!(parse(&text).unwrap_err().contains("journal version 2"));
        let text = journal_of(&whole).replacen("\"name\":\"coldstart\"", "\"name\":\"other\"", 1);
        assert!(parse(&text).unwrap_err().contains("not of coldstart"));
    }
}
