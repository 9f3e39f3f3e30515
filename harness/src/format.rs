//! How times and sizes are written in every table, report and message.

/// A duration in ns in the unit that suits it, 3 significant digits.
pub fn format_ns(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$} {unit}")
}

/// The unit of the tables' times (`--time-unit`); without one each time gets the
/// unit that suits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimeUnit {
    Ns,
    Us,
    Ms,
    S,
}

/// A duration in ns in `unit` (3 significant digits where the value allows), or
/// in the unit that suits it.
pub fn format_time(ns: f64, unit: Option<TimeUnit>) -> String {
    let (value, name) = match unit {
        None => return format_ns(ns),
        Some(TimeUnit::Ns) => return format!("{ns:.0} ns"),
        Some(TimeUnit::Us) => (ns / 1e3, "µs"),
        Some(TimeUnit::Ms) => (ns / 1e6, "ms"),
        Some(TimeUnit::S) => (ns / 1e9, "s"),
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else if value >= 0.001 || value == 0.0 {
        3
    } else {
        6
    };
    format!("{value:.decimals$} {name}")
}

/// A byte count in the unit that suits it.
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} GiB", b / 1024.0 / 1024.0 / 1024.0)
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// A count of recorded samples, with the blocks' unrecorded first items that went
/// the same way beside it (`20 (+2 unrecorded)`): each is verified too, and what it
/// got wrong is in no recorded count.
pub fn with_unrecorded(recorded: u64, unrecorded: u64) -> String {
    match unrecorded {
        0 => recorded.to_string(),
        n => format!("{recorded} (+{n} unrecorded)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(format_ns(850.0), "850 ns");
        assert_eq!(format_ns(1_234.0), "1.23 µs");
        assert_eq!(format_ns(56_780.0), "56.8 µs");
        assert_eq!(format_ns(1_500_000.0), "1.50 ms");
        assert_eq!(format_ns(2_000_000_000.0), "2.00 s");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(49_357), "48.2 KiB");
        assert_eq!(format_bytes(24 << 30), "24.0 GiB");
    }

    #[test]
    fn a_time_unit_is_kept_for_every_row() {
        assert_eq!(format_time(1_234.0, Some(TimeUnit::Ms)), "0.001 ms");
        assert_eq!(format_time(2_500_000_000.0, Some(TimeUnit::Ms)), "2500 ms");
        assert_eq!(format_time(56_780.0, Some(TimeUnit::Us)), "56.8 µs");
        assert_eq!(format_time(1_234.0, Some(TimeUnit::Ns)), "1234 ns");
        assert_eq!(format_time(1_234.0, None), "1.23 µs");
        assert_eq!(format_time(12.0, Some(TimeUnit::S)), "0.000000 s");
    }
}
