//! Holm's step-down correction of many p-values at once.
//!
//! It bounds the chance of *any* false flag among the tests corrected together (the
//! family-wise rate), which is what a CI gate that fails a build needs; a
//! false-discovery bound (Benjamini–Hochberg) would let a gate fail on noise in a
//! fixed share of its comparisons.

/// Holm's step-down adjustment of `p` (in any order); returns them in that order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p[*a].total_cmp(&p[*b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_steps_down_and_stays_monotone() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.5]);
        // Sorted: 0.01×4, 0.03×3, 0.04×2, 0.5×1 -> 0.04, 0.09, 0.09 (monotone), 0.5.
        let expected = [0.04, 0.09, 0.09, 0.5];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{adjusted:?}");
        }
        assert_eq!(holm(&[0.6, 0.6]), [1.0, 1.0]);
    }
}
