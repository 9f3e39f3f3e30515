//! A difference of means on the log scale, tested with Student's t.
//!
//! `compare` summarises each run by its log median, so a side is a handful of
//! numbers (3 to 10 runs) and the change between sides is the difference of their
//! means. Two ways to know its standard error:
//! * [`TDifference::welch`]: from the two sides themselves, Welch's unequal-variance
//!   t with Welch–Satterthwaite degrees of freedom (what hyperfine's
//!   `welch_ttest.py` runs, via SciPy's `ttest_ind(equal_var=False)`);
//! * [`TDifference::from_history`]: from the spread of earlier runs (a standard
//!   deviation with its own degrees of freedom), for a side too small to show its
//!   own: then `se = sd · √(1/n_a + 1/n_b)`, which for one candidate run is the
//!   prediction bound of a new run, `sd · √(1 + 1/n)`.
//!
//! Tests are one-sided against a bound (`diff ≤ bound`, `diff ≥ bound`) with an
//! analytic p from the t distribution (statrs), so there is no resampling floor,
//! and [`TDifference::lower`] / [`TDifference::upper`] are the matching one-sided
//! confidence bounds: `p_above(b) < γ` exactly when `lower(1 − γ) > b`.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// `candidate − baseline` of two means, its standard error and degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TDifference {
    pub diff: f64,
    pub se: f64,
    pub df: f64,
}

/// Mean and unbiased variance; `None` below two values.
fn mean_var(v: &[f64]) -> Option<(f64, f64)> {
    if v.len() < 2 {
        return None;
    }
    let mean = super::mean(v);
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    Some((mean, var))
}

/// A standard deviation and its degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub sd: f64,
    pub df: f64,
}

/// The unbiased standard deviation of `v`; `None` below two values.
pub fn spread(v: &[f64]) -> Option<Spread> {
    mean_var(v).map(|(_, var)| Spread {
        sd: var.sqrt(),
        df: (v.len() - 1) as f64,
    })
}

impl TDifference {
    /// Welch's t for `mean(cand) − mean(base)`; `None` unless both sides have two
    /// values or more.
    pub fn welch(base: &[f64], cand: &[f64]) -> Option<TDifference> {
        let (mb, vb) = mean_var(base)?;
        let (mc, vc) = mean_var(cand)?;
        let (qb, qc) = (vb / base.len() as f64, vc / cand.len() as f64);
        let se2 = qb + qc;
        let df = if se2 > 0.0 {
            se2 * se2 / (qb * qb / (base.len() - 1) as f64 + qc * qc / (cand.len() - 1) as f64)
        } else {
            // Both sides constant: no spread to be unsure of.
            (base.len() + cand.len() - 2) as f64
        };
        Some(TDifference {
            diff: mc - mb,
            se: se2.sqrt(),
            df,
        })
    }

    /// `mean(cand) − mean(base)` with the standard deviation of one value taken
    /// from elsewhere (earlier runs).
    pub fn from_history(base: &[f64], cand: &[f64], history: Spread) -> Option<TDifference> {
        if base.is_empty() || cand.is_empty() || history.df < 1.0 {
            return None;
        }
        Some(TDifference {
            diff: super::mean(cand) - super::mean(base),
            se: history.sd * (1.0 / base.len() as f64 + 1.0 / cand.len() as f64).sqrt(),
            df: history.df,
        })
    }

    fn t(&self) -> StudentsT {
        StudentsT::new(0.0, 1.0, self.df.max(1e-9)).expect("positive degrees of freedom")
    }

    /// One-sided p of "diff ≤ bound" (small when the difference lies above it).
    pub fn p_above(&self, bound: f64) -> f64 {
        if self.se == 0.0 {
            return if self.diff > bound { 0.0 } else { 1.0 };
        }
        self.t().sf((self.diff - bound) / self.se)
    }

    /// One-sided p of "diff ≥ bound" (small when the difference lies below it).
    pub fn p_below(&self, bound: f64) -> f64 {
        if self.se == 0.0 {
            return if self.diff < bound { 0.0 } else { 1.0 };
        }
        self.t().cdf((self.diff - bound) / self.se)
    }

    /// The one-sided lower confidence bound at `confidence` (e.g. 0.99).
    pub fn lower(&self, confidence: f64) -> f64 {
        self.diff - self.quantile(confidence) * self.se
    }

    /// The one-sided upper confidence bound at `confidence`.
    pub fn upper(&self, confidence: f64) -> f64 {
        self.diff + self.quantile(confidence) * self.se
    }

    fn quantile(&self, confidence: f64) -> f64 {
        if self.se == 0.0 {
            return 0.0;
        }
        self.t().inverse_cdf(confidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from SciPy 1.17: scipy.stats.ttest_ind(cand, base,
    // equal_var=False, alternative="greater") and scipy.stats.t.ppf.
    const BASE: [f64; 5] = [1.0, 1.2, 0.9, 1.1, 1.05];
    const CAND: [f64; 3] = [1.4, 1.1, 1.6];

    #[test]
    fn welch_matches_scipy() {
        let t = TDifference::welch(&BASE, &CAND).unwrap();
        assert!((t.diff - 0.31667).abs() < 1e-4, "{t:?}");
        // Welch–Satterthwaite df 2.4843, statistic 2.0608, one-sided p 0.0750.
        assert!((t.df - 2.4843).abs() < 1e-3, "{t:?}");
        assert!((t.diff / t.se - 2.0608).abs() < 1e-3, "{t:?}");
        assert!((t.p_above(0.0) - 0.0750).abs() < 1e-3, "{}", t.p_above(0.0));
        assert!((t.p_below(0.0) - (1.0 - 0.0750)).abs() < 1e-3);
        assert!(TDifference::welch(&BASE, &CAND[..1]).is_none());
    }

    #[test]
    fn a_bound_and_its_p_agree() {
        let t = TDifference::welch(&BASE, &CAND).unwrap();
        for gamma in [0.05, 0.01, 0.0083] {
            // The bound at 1 − γ is exactly where the p of that bound is γ.
            let lo = t.lower(1.0 - gamma);
            assert!((t.p_above(lo) - gamma).abs() < 1e-9, "{gamma}");
            let hi = t.upper(1.0 - gamma);
            assert!((t.p_below(hi) - gamma).abs() < 1e-9, "{gamma}");
        }
        // t.ppf(0.975, 4) = 2.7764.
        let history = Spread { sd: 1.0, df: 4.0 };
        let h = TDifference::from_history(&BASE, &CAND[..1], history).unwrap();
        assert!(((h.upper(0.975) - h.diff) / h.se - 2.7764).abs() < 1e-3);
        assert!((h.se - (1.0f64 + 1.0 / 5.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn constant_sides_decide_by_the_sign_alone() {
        let t = TDifference::welch(&[1.0, 1.0], &[2.0, 2.0, 2.0]).unwrap();
        assert_eq!((t.se, t.p_above(0.5), t.p_below(0.5)), (0.0, 0.0, 1.0));
        assert_eq!(t.lower(0.99), 1.0);
    }
}
