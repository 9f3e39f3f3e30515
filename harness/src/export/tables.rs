//! The language, density and burst tables, the same in the terminal, markdown and
//! HTML, and the [`Table`] every text table of the reports is aligned by.

use crate::format::{format_bytes, format_ns};
use crate::probes::Language;
use crate::results::{Mode, ResultFile, RuntimeResult, Spread};

/// A table of text cells.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns from this one on are right-aligned in text (numbers); the others left.
    pub right_from: usize,
}

impl Table {
    /// Aligned columns, two spaces apart, no trailing blanks.
    pub fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                std::iter::once(&self.header)
                    .chain(&self.rows)
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    if c < self.right_from {
                        format!("{cell:<w$}", w = widths[c])
                    } else {
                        format!("{cell:>w$}", w = widths[c])
                    }
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("| {} |\n", self.header.join(" | "));
        out.push_str(&format!(
            "|{}\n",
            (0..self.header.len())
                .map(|c| if c < 2 { "---|" } else { "--:|" })
                .collect::<String>()
        ));
        for row in &self.rows {
            out.push_str(&format!("| {} |\n", row.join(" | ").replace('\n', " ")));
        }
        out
    }

    pub fn html(&self, esc: impl Fn(&str) -> String) -> String {
        let mut out = String::from("<table><tr>");
        for h in &self.header {
            out.push_str(&format!("<th>{}</th>", esc(h)));
        }
        out.push_str("</tr>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for cell in row {
                out.push_str(&format!("<td>{}</td>", esc(cell)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
        out
    }
}

/// Signed: the host view can read below 0 when the page cache grew back meanwhile.
fn signed_bytes(v: f64) -> String {
    if v < 0.0 {
        format!("−{}", format_bytes(-v as u64))
    } else {
        format_bytes(v as u64)
    }
}

fn bytes(s: &Option<Spread>) -> String {
    match s {
        Some(s) => format!(
            "{} ({}–{})",
            signed_bytes(s.median),
            signed_bytes(s.min),
            signed_bytes(s.max)
        ),
        None => "—".into(),
    }
}

/// Memory per live instance of every variant that took density rounds: medians over
/// the rounds, with the smallest and largest.
pub fn density(results: &ResultFile) -> Option<Table> {
    let rows: Vec<Vec<String>> = results
        .runtimes
        .iter()
        .filter_map(|r| r.density.as_ref().map(|d| (r, d)))
        .map(|(r, d)| {
            let reached = d.raw.iter().map(|x| x.reached).min().unwrap_or(0);
            let stopped: Vec<&str> = d.raw.iter().filter_map(|x| x.stopped.as_deref()).collect();
            vec![
                r.label(),
                format!(
                    "{reached}/{} × {}{}",
                    d.instances,
                    d.rounds,
                    stopped
                        .first()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                ),
                bytes(&d.host_bytes_per_instance),
                bytes(&d.pss_bytes_per_instance),
                bytes(&d.cgroup_bytes_per_instance),
                bytes(&d.linear_memory_bytes_per_instance),
                d.instances_per_gib
                    .map(|n| format!("{n:.0}"))
                    .unwrap_or_else(|| "—".into()),
                d.bring_up_ns
                    .map(|s| format_ns(s.median))
                    .unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    (!rows.is_empty()).then(|| Table {
        header: [
            "runtime:variant",
            "live × rounds",
            "host per instance",
            "PSS per instance",
            "cgroup per instance",
            "linear memory resident",
            "per GiB (host)",
            "bring-up (all)",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        right_from: 2,
    })
}

/// Cold starts under concurrency: one row per variant and level.
pub fn bursts(results: &ResultFile) -> Option<Table> {
    let mut rows = Vec::new();
    for r in &results.runtimes {
        if let Some(why) = &r.burst_skipped_reason {
            rows.push(vec![
                r.label(),
                "—".into(),
                format!("skipped: {why}"),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        for b in &r.bursts {
            let total = b.phases.get(crate::phase::TOTAL);
            let stat = |f: fn(&crate::stats::Summary) -> u64| {
                total
                    .map(|s| format_ns(f(s) as f64))
                    .unwrap_or_else(|| "—".into())
            };
            rows.push(vec![
                r.label(),
                b.concurrency.to_string(),
                format!("{}/{}/{}", b.ok, b.invalid, b.failed),
                stat(|s| s.p50_ns),
                stat(|s| s.p99_ns),
                b.phases
                    .get("wait")
                    .map(|s| format_ns(s.p50_ns as f64))
                    .unwrap_or_else(|| "—".into()),
                b.makespan_ns
                    .as_ref()
                    .map(|s| format_ns(s.p50_ns as f64))
                    .unwrap_or_else(|| "—".into()),
                b.starts_per_second
                    .map(|s| format!("{:.0}", s.median))
                    .unwrap_or_else(|| "—".into()),
            ]);
        }
    }
    (!rows.is_empty()).then(|| Table {
        header: [
            "runtime:variant",
            "at once",
            "ok/invalid/failed",
            "p50 (launch → answer)",
            "p99",
            "wait p50",
            "makespan p50",
            "starts/s",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        right_from: 2,
    })
}

/// The sentences under the two tables.
pub const DENSITY_NOTE: &str = "Medians over the rounds (smallest–largest), settled or not. host: \
MemAvailable before minus with all instances live, per instance; PSS: the instances' own processes \
(for Wasm instances inside the harness, the larger of its growth and their linear memories' \
resident pages). Shared pages, page cache and KSM are not removed (README: Density).";
pub const BURST_NOTE: &str = "Each burst's cold starts launched at one instant; each sample timed \
from that launch to its own verified first response; wait: until the runner began on it \
(the spawns before its own, the pool's queue); held: at the launch gate while the spawns after \
its own ran (process, VM, Lambda emulator); makespan: launch to the round's last response; starts/s: valid starts per makespan.";

/// One cell of the language table: a compute model's row in one language.
pub struct LanguageCell<'a> {
    pub language: Language,
    /// The row, when the run has one for this pair.
    pub row: Option<&'a RuntimeResult>,
}

impl LanguageCell<'_> {
    /// The row's p50 of `mode`'s total, when it measured one.
    pub fn p50_ns(&self, mode: Mode) -> Option<u64> {
        let r = self.row.filter(|r| r.available)?;
        Some(r.modes.get(mode).phases.get(crate::phase::TOTAL)?.p50_ns)
    }

    /// `cold p50 / warm p50`, `skipped`, or a dash for a pair the run did not have.
    pub fn text(&self) -> String {
        match self.row {
            None => "—".into(),
            Some(r) if !r.available => "skipped".into(),
            Some(_) => {
                let show = |mode| self.p50_ns(mode).map(|v| format_ns(v as f64));
                match (show(Mode::Cold), show(Mode::Warm)) {
                    (Some(c), Some(w)) => format!("{c} / {w}"),
                    (Some(c), None) => c,
                    (None, Some(w)) => format!("— / {w}"),
                    (None, None) => "no valid sample".into(),
                }
            }
        }
    }
}

/// The language table's rows: each compute model (`runtime:variant`) with one
/// cell per language the run asked for.
pub struct LanguageRow<'a> {
    pub model: String,
    pub cells: Vec<LanguageCell<'a>>,
}

/// Compute model × language, when the run has more than one language: the rows in
/// the run's order, the languages in [`Language::ALL`]'s.
pub fn language_rows(results: &ResultFile) -> Vec<LanguageRow<'_>> {
    let languages: Vec<Language> = Language::ALL
        .into_iter()
        .filter(|l| results.runtimes.iter().any(|r| r.language == *l))
        .collect();
    if languages.len() < 2 {
        return Vec::new();
    }
    let mut rows: Vec<LanguageRow> = Vec::new();
    for r in &results.runtimes {
        let model = format!("{}:{}", r.runtime, r.variant);
        if rows.iter().any(|row| row.model == model) {
            continue;
        }
        let cells = (languages.iter())
            .map(|language| LanguageCell {
                language: *language,
                row: (results.runtimes.iter()).find(|o| {
                    o.runtime == r.runtime && o.variant == r.variant && o.language == *language
                }),
            })
            .collect();
        rows.push(LanguageRow { model, cells });
    }
    rows
}

/// The language table as text cells.
pub fn languages(results: &ResultFile) -> Option<Table> {
    let rows = language_rows(results);
    let first = rows.first()?;
    let mut header = vec!["compute model".to_string()];
    header.extend(first.cells.iter().map(|c| c.language.to_string()));
    Some(Table {
        header,
        rows: rows
            .iter()
            .map(|row| {
                let mut cells = vec![row.model.clone()];
                cells.extend(row.cells.iter().map(LanguageCell::text));
                cells
            })
            .collect(),
        right_from: 1,
    })
}

pub const LANGUAGE_NOTE: &str = "The same probe in each language on each compute model: \
    cold total p50 / warm total p50, our stopwatch. A language's cold start holds its \
    interpreter's or JVM's own start; \"skipped\" says why in the run's table.";
