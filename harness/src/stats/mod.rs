//! Statistics, derived from the raw samples after they are taken.
//!
//! One HdrHistogram per (runtime, variant, mode, phase), nanoseconds at 3 significant
//! digits, built from the valid samples only. Every figure of a [`Summary`] is read
//! off that histogram by the hdrhistogram crate, so percentiles, mean and standard
//! deviation are what any other HdrHistogram tool computes from the same data. The
//! histogram itself is kept, serialized as V2 + deflate and base64, so runs can be
//! merged later.
//!
//! Across runs (what `compare` reads): [`t_test`] tests a change between two sides
//! of per-run log medians, [`holm`] corrects many such tests at once, and
//! [`block_bootstrap`] gives the intervals that resample the harness's blocks
//! (compare's advisory groups, the claims' verdicts). [`clopper_pearson`] bounds a
//! counted rate (a benchmark's false alarms).

pub mod block_bootstrap;
pub mod holm;
pub mod t_test;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Significant decimal digits every histogram keeps.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// The summary of one phase of one mode of one runtime variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Valid samples in the histogram.
    pub count: u64,
    /// Smallest value (to the histogram's precision), ns.
    pub min_ns: u64,
    /// Arithmetic mean, ns.
    pub mean_ns: f64,
    /// Standard deviation, ns.
    pub stdev_ns: f64,
    /// Median, ns.
    pub p50_ns: u64,
    /// 90th percentile, ns.
    pub p90_ns: u64,
    /// 99th percentile, ns.
    pub p99_ns: u64,
    /// 99.9th percentile, ns.
    pub p999_ns: u64,
    /// Largest value (to the histogram's precision), ns.
    pub max_ns: u64,
    /// The HdrHistogram, V2 compressed (deflate) serialization, base64 (standard alphabet).
    pub histogram: String,
}

/// A new empty histogram with the project's precision.
pub fn histogram() -> Histogram<u64> {
    Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits are valid")
}

/// Builds the histogram of `values` (nanoseconds).
pub fn record(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
    let mut hist = histogram();
    for value in values {
        // The histogram auto-resizes, so recording cannot fail for any u64.
        hist.record(value).expect("auto-resizing histogram");
    }
    hist
}

/// Summarizes a histogram; `None` when it holds no samples.
pub fn summarize(hist: &Histogram<u64>) -> Option<Summary> {
    if hist.is_empty() {
        return None;
    }
    Some(Summary {
        count: hist.len(),
        min_ns: hist.min(),
        mean_ns: hist.mean(),
        stdev_ns: hist.stdev(),
        p50_ns: hist.value_at_quantile(0.5),
        p90_ns: hist.value_at_quantile(0.9),
        p99_ns: hist.value_at_quantile(0.99),
        p999_ns: hist.value_at_quantile(0.999),
        max_ns: hist.max(),
        histogram: encode(hist),
    })
}

/// V2 + deflate, then base64.
pub fn encode(hist: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(hist, &mut bytes)
        .expect("serializing into a Vec cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The inverse of [`encode`].
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram does not decode: {e:?}"))
}

/// Median of a slice (reorders it); the mean of the middle two for an even length.
pub fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (_, upper, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        let lower = v[..mid].iter().copied().fold(f64::MIN, f64::max);
        (lower + upper) / 2.0
    }
}

/// Arithmetic mean; NaN for an empty slice.
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The exact (Clopper–Pearson) two-sided `confidence` interval of a rate seen
/// `k` times in `n` trials: 0 of 10 still allows up to 31% at 95%.
pub fn clopper_pearson(k: u64, n: u64, confidence: f64) -> block_bootstrap::Interval {
    use statrs::distribution::{Beta, ContinuousCDF};
    let tail = (1.0 - confidence) / 2.0;
    let (k, n) = (k as f64, n as f64);
    let beta = |a: f64, b: f64, q: f64| {
        Beta::new(a, b)
            .expect("positive shape parameters")
            .inverse_cdf(q)
    };
    block_bootstrap::Interval {
        lo: if k == 0.0 {
            0.0
        } else {
            beta(k, n - k + 1.0, tail)
        },
        hi: if k == n {
            1.0
        } else {
            beta(k + 1.0, n - k, 1.0 - tail)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_the_histogram() {
        let hist = record(1..=1000u64);
        let s = summarize(&hist).unwrap();
        assert_eq!(s.count, 1000);
        assert_eq!(s.min_ns, 1);
        assert_eq!(s.p50_ns, 500);
        assert_eq!(s.p90_ns, 900);
        assert_eq!(s.p99_ns, 990);
        assert_eq!(s.max_ns, 1000);
        assert!((s.mean_ns - 500.5).abs() < 0.5, "{}", s.mean_ns);
        assert!(summarize(&histogram()).is_none());
    }

    #[test]
    fn histogram_round_trips_and_merges() {
        let a = record([1_000, 2_000, 3_000_000]);
        let decoded = decode(&encode(&a)).unwrap();
        assert_eq!(decoded, a);
        let mut merged = decoded;
        merged.add(record([5_000])).unwrap();
        assert_eq!(merged.len(), 4);
        assert!(decode("not base64!").is_err());
        assert!(decode("AAAA").is_err());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn clopper_pearson_matches_its_tables() {
        // scipy.stats.binomtest(k, n).proportion_ci(method="exact").
        let ci = clopper_pearson(0, 10, 0.95);
        assert_eq!(ci.lo, 0.0);
        assert!((ci.hi - 0.30850).abs() < 1e-4, "{ci:?}");
        let ci = clopper_pearson(3, 30, 0.95);
        assert!(
            (ci.lo - 0.02112).abs() < 1e-4 && (ci.hi - 0.26528).abs() < 1e-4,
            "{ci:?}"
        );
        assert_eq!(clopper_pearson(30, 30, 0.95).hi, 1.0);
    }
}
