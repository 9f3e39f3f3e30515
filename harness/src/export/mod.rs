//! Exports of a result file: the JSON that is published, a markdown report and the
//! terminal summary. All of them read the statistics derived from the raw samples.

pub mod json;
pub mod markdown;
pub mod table;
pub mod writer;

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
}
