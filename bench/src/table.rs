//! The ratio table every benchmark prints, and the target check behind the exit code.
//!
//! A row says what is compared and how (which median, over what), the figures behind
//! it, and the one figure a target is checked on (a ratio or a count). A row with a
//! target whose figure could not be measured is `not measured`, and fails the
//! benchmark like a missed target: an unchecked target is not a met one.

use std::fmt::Write;

/// What a figure must be. Bounds are inclusive, as the scripts' `<=` were.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
}

impl Target {
    /// Whether `value` meets it; a NaN never does.
    pub fn met_by(self, value: f64) -> bool {
        match self {
            Target::AtMost(limit) => value <= limit,
            Target::AtLeast(limit) => value >= limit,
        }
    }

    pub fn label(self) -> String {
        match self {
            Target::AtMost(limit) => format!("≤ {}", number(limit)),
            Target::AtLeast(limit) => format!("≥ {}", number(limit)),
        }
    }
}

/// A limit as written: `1.15`, `11`, `0.9`.
fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// The figure a target is checked on, and how it is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub value: f64,
    pub shown: String,
}

/// How a row came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// It has a target, and its figure could not be measured.
    NotMeasured,
    /// No target: reported only.
    Reported,
}

impl Verdict {
    fn text(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "**missed**",
            Verdict::NotMeasured => "**not measured**",
            Verdict::Reported => "—",
        }
    }
}

/// One line of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What is compared, and how (counts, which median).
    pub what: String,
    /// The figures behind it, or why there are none.
    pub measured: String,
    /// The figure the target is checked on; `None` when it only reports, or when
    /// it could not be measured.
    pub figure: Option<Figure>,
    pub target: Option<Target>,
}

impl Row {
    /// Figures without a target.
    pub fn report(what: impl Into<String>, measured: impl Into<String>) -> Row {
        Row {
            what: what.into(),
            measured: measured.into(),
            figure: None,
            target: None,
        }
    }

    /// A ratio, shown with two decimals.
    pub fn ratio(
        what: impl Into<String>,
        measured: impl Into<String>,
        ratio: f64,
        target: Option<Target>,
    ) -> Row {
        let figure = Figure {
            value: ratio,
            shown: format!("{ratio:.2}"),
        };
        Row::with_figure(what, measured, figure, target)
    }

    /// A count.
    pub fn count(
        what: impl Into<String>,
        measured: impl Into<String>,
        count: u64,
        target: Option<Target>,
    ) -> Row {
        let figure = Figure {
            value: count as f64,
            shown: count.to_string(),
        };
        Row::with_figure(what, measured, figure, target)
    }

    fn with_figure(
        what: impl Into<String>,
        measured: impl Into<String>,
        figure: Figure,
        target: Option<Target>,
    ) -> Row {
        Row {
            what: what.into(),
            measured: measured.into(),
            figure: Some(figure),
            target,
        }
    }

    /// A row whose figures could not be had, and why.
    pub fn not_measured(
        what: impl Into<String>,
        why: impl std::fmt::Display,
        target: Option<Target>,
    ) -> Row {
        Row {
            what: what.into(),
            measured: format!("not measured: {why:#}"),
            figure: None,
            target,
        }
    }

    /// The row `make` builds, or a `not measured` one with its error.
    pub fn or_not_measured(
        what: impl Into<String>,
        target: Option<Target>,
        make: impl FnOnce(String) -> anyhow::Result<Row>,
    ) -> Row {
        let what = what.into();
        match make(what.clone()) {
            Ok(row) => row,
            Err(e) => Row::not_measured(what, format!("{e:#}"), target),
        }
    }

    pub fn verdict(&self) -> Verdict {
        match (self.target, &self.figure) {
            (None, _) => Verdict::Reported,
            (Some(target), Some(figure)) if target.met_by(figure.value) => Verdict::Met,
            (Some(_), Some(_)) => Verdict::Missed,
            (Some(_), None) => Verdict::NotMeasured,
        }
    }
}

/// One benchmark's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The benchmark, and which medians its figures are.
    pub title: String,
    pub rows: Vec<Row>,
    /// Lines printed after the table (raw files, what could not run).
    pub notes: Vec<String>,
}

impl Table {
    pub fn new(title: impl Into<String>) -> Table {
        Table {
            title: title.into(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Targets missed or not measured.
    pub fn failed(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.verdict(), Verdict::Missed | Verdict::NotMeasured))
            .count()
    }

    /// 0 when every stated target is met, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.failed() > 0)
    }

    /// The one-line summary printed last.
    pub fn summary(&self) -> String {
        let with_target = self.rows.iter().filter(|r| r.target.is_some()).count();
        let count = |v: Verdict| self.rows.iter().filter(|r| r.verdict() == v).count();
        if with_target == 0 {
            return "no stated target: figures reported only".into();
        }
        format!(
            "{with_target} targets: {} met, {} missed, {} not measured",
            count(Verdict::Met),
            count(Verdict::Missed),
            count(Verdict::NotMeasured)
        )
    }

    /// A markdown table, its columns padded for a terminal.
    pub fn render(&self) -> String {
        let header = ["what", "measured", "figure", "target", "verdict"].map(String::from);
        let body: Vec<[String; 5]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.what.clone(),
                    r.measured.clone(),
                    r.figure
                        .as_ref()
                        .map_or_else(String::new, |f| f.shown.clone()),
                    r.target.map_or_else(|| "—".into(), Target::label),
                    r.verdict().text().into(),
                ]
            })
            .collect();
        let mut widths = header.clone().map(|h| h.chars().count());
        for cells in &body {
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String; 5]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            format!("| {} |", padded.join(" | "))
        };
        let mut out = format!("{}\n\n{}\n", self.title, line(&header));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let _ = writeln!(out, "|-{}-|", rule.join("-|-"));
        for cells in &body {
            let _ = writeln!(out, "{}", line(cells));
        }
        for note in &self.notes {
            let _ = write!(out, "\n{note}");
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        out
    }
}

/// The median of a few figures (one per round, or per sample), as the library takes it.
pub fn median(values: &[f64]) -> f64 {
    coldstart::stats::median(&mut values.to_vec())
}

/// A duration in nanoseconds, in the unit that suits it.
pub fn duration(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Per-round figures: `rounds 132.0 µs, 235.1 µs`.
pub fn rounds(values: &[f64]) -> String {
    let shown: Vec<String> = values.iter().map(|v| duration(*v)).collect();
    format!("rounds {}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_nan_never_meets_one() {
        let tax = Target::AtMost(1.15);
        assert!(tax.met_by(1.15));
        assert!(tax.met_by(0.2));
        assert!(!tax.met_by(1.1500001));
        assert!(!tax.met_by(f64::NAN));
        let caught = Target::AtLeast(10.0);
        assert!(caught.met_by(10.0));
        assert!(!caught.met_by(9.0));
        assert!(!caught.met_by(f64::NAN));
        assert_eq!(tax.label(), "≤ 1.15");
        assert_eq!(Target::AtMost(11.0).label(), "≤ 11");
        assert_eq!(caught.label(), "≥ 10");
    }

    #[test]
    fn a_missed_or_unmeasured_target_fails_the_table_and_a_report_never_does() {
        let mut table = Table::new("t");
        table.push(Row::ratio("tax", "", 1.05, Some(Target::AtMost(1.15))));
        table.push(Row::report("phases", "spawn 60 µs"));
        table.push(Row::not_measured("crun", "skipped", None));
        assert_eq!(table.exit_code(), 0, "{}", table.render());
        assert_eq!(
            table.summary(),
            "1 targets: 1 met, 0 missed, 0 not measured"
        );

        let mut missed = table.clone();
        missed.push(Row::ratio("pinned", "", 1.32, Some(Target::AtMost(1.15))));
        assert_eq!(missed.exit_code(), 1);
        assert_eq!(missed.rows[3].verdict(), Verdict::Missed);
        assert!(missed.render().contains("| **missed**"));

        let mut unmeasured = table.clone();
        unmeasured.push(Row::or_not_measured(
            "shadow",
            Some(Target::AtMost(1.5)),
            |_| anyhow::bail!("the suite wrote no file"),
        ));
        assert_eq!(unmeasured.rows[3].verdict(), Verdict::NotMeasured);
        assert!(unmeasured.rows[3]
            .measured
            .contains("the suite wrote no file"));
        assert_eq!(unmeasured.exit_code(), 1);
    }

    #[test]
    fn a_count_target_needs_every_pair() {
        let row = Row::count("caught", "9 of 10", 9, Some(Target::AtLeast(10.0)));
        assert_eq!(row.verdict(), Verdict::Missed);
        let row = Row::count("false alarms", "1 of 10", 1, Some(Target::AtMost(1.0)));
        assert_eq!(row.verdict(), Verdict::Met);
    }

    #[test]
    fn the_table_is_aligned_markdown() {
        let mut table = Table::new("title");
        table.push(Row::ratio(
            "µs-wide",
            "147.0 µs",
            0.631,
            Some(Target::AtMost(1.0)),
        ));
        table.note("raw files: /tmp/x");
        let text = table.render();
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(lines.len(), 3, "{text}");
        let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{text}");
        assert!(lines[2].contains("| 0.63 "), "{text}");
        assert!(text.ends_with("raw files: /tmp/x\n"), "{text}");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(147_300.0), "147.3 µs");
        assert_eq!(duration(2_030_000_000.0), "2.03 s");
        assert_eq!(duration(184_000_000.0), "184.0 ms");
        assert_eq!(duration(980.0), "980 ns");
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }
}
