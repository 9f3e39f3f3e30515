//! Statistics, derived from the raw samples after they are taken.
//!
//! One HdrHistogram per (runtime, variant, mode, phase), nanoseconds at 3 significant
//! digits, built from the valid samples only. Every figure of a [`Summary`] is read
//! off that histogram by the hdrhistogram crate, so percentiles, mean and standard
//! deviation are what any other HdrHistogram tool computes from the same data. The
//! histogram itself is kept, serialized as V2 + deflate and base64, so runs can be
//! merged later.
//!
//! Across runs (what `compare` reads): [`hierarchical_bootstrap`] estimates a change
//! between two sides of several runs each, and [`holm`] corrects the p-values of
//! many such changes at once.

pub mod hierarchical_bootstrap;
pub mod holm;

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

/// Bootstrap resamples of a confidence interval.
pub const BOOTSTRAP: usize = 2000;

/// The percentile-bootstrap 95% interval of `combine(medians)`: each side (a set of
/// values) is resampled with replacement, its median taken, and `combine` applied
/// to the medians of all sides (one side: the median itself; two: their ratio).
/// Seeded, so a report says the same of the same file. Sides larger than 2000
/// values are thinned evenly (sorted first) to keep a report fast.
pub fn bootstrap_ci(sides: &[&[f64]], combine: impl Fn(&[f64]) -> f64, seed: u64) -> (f64, f64) {
    use rand::{Rng, SeedableRng};
    let sides: Vec<Vec<f64>> = sides
        .iter()
        .map(|side| {
            let mut v = side.to_vec();
            v.sort_unstable_by(f64::total_cmp);
            let step = v.len().div_ceil(2000).max(1);
            v.into_iter().step_by(step).collect()
        })
        .collect();
    if sides.iter().any(Vec::is_empty) {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut scratch = Vec::new();
    let mut medians = vec![0.0; sides.len()];
    let mut estimates: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            for (side, m) in sides.iter().zip(medians.iter_mut()) {
                scratch.clear();
                scratch.extend((0..side.len()).map(|_| side[rng.random_range(0..side.len())]));
                *m = median(&mut scratch);
            }
            combine(&medians)
        })
        .collect();
    estimates.sort_unstable_by(f64::total_cmp);
    (
        estimates[BOOTSTRAP * 25 / 1000],
        estimates[BOOTSTRAP * 975 / 1000 - 1],
    )
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
    fn a_median_interval_narrows_with_more_samples_and_holds_the_median() {
        let spread =
            |n: usize| -> Vec<f64> { (0..n).map(|i| 1000.0 + ((i * 37) % 100) as f64).collect() };
        let (lo5, hi5) = bootstrap_ci(&[&spread(5)], |m| m[0], 1);
        let (lo, hi) = bootstrap_ci(&[&spread(3000)], |m| m[0], 1);
        assert!(lo <= 1049.5 && 1049.5 <= hi, "{lo} {hi}");
        assert!(hi - lo < hi5 - lo5, "{lo}..{hi} vs {lo5}..{hi5}");
        let (lo, hi) = bootstrap_ci(&[&[10.0; 50], &[2.0; 50]], |m| m[0] / m[1], 1);
        assert_eq!((lo, hi), (5.0, 5.0));
        assert_eq!(median(&mut [3.0, 1.0, 2.0, 10.0]), 2.5);
    }
}
