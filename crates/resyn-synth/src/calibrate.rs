//! Stage 6: difficulty calibration.
//!
//! A solver model answers `k` instances at each difficulty level; the
//! environment is kept when its solve rate *falls* as difficulty rises and is
//! neither always 0 nor always 1.
//!
//! The test is the one-sided **Cochran–Armitage test for trend** in
//! proportions, with the difficulty level as the score: with `x_d` successes
//! of `n_d` attempts at level `d`, `N = Σ n_d`, `p = Σ x_d / N`,
//! `d̄ = Σ n_d d / N`,
//!
//! ```text
//! T = Σ x_d (d - d̄),   Var(T) = p (1 - p) Σ n_d (d - d̄)²,   z = T / √Var(T)
//! ```
//!
//! and the one-sided p-value for a decreasing trend is `Φ(z)`. The
//! environment passes when `Φ(z) < alpha` (default 0.05). This is the score
//! test of a zero slope in a logistic regression of success on difficulty,
//! so it answers the same question as the published method's Wald test, and
//! unlike the Wald test it stays defined when some levels are all-0 or
//! all-1 (where the logistic MLE diverges).

use serde::{Deserialize, Serialize};

/// Successes per level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// Difficulty level.
    pub difficulty: u8,
    /// Attempts.
    pub n: u32,
    /// Correct answers.
    pub solved: u32,
}

/// The calibration verdict and the pass-rate curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Per-level counts (the pass-rate curve).
    pub curve: Vec<Level>,
    /// Cochran–Armitage z statistic (negative: falling solve rate).
    pub z: f64,
    /// One-sided p-value for a falling solve rate.
    pub p_value: f64,
    /// Significance level used.
    pub alpha: f64,
    /// Whether the environment is kept.
    pub passed: bool,
    /// `ok`, `always_solved`, `never_solved` or `no_decreasing_trend`.
    pub reason: String,
}

/// Run the trend test on a curve.
pub fn assess(curve: Vec<Level>, alpha: f64) -> Calibration {
    let n: f64 = curve.iter().map(|l| f64::from(l.n)).sum();
    let x: f64 = curve.iter().map(|l| f64::from(l.solved)).sum();
    let mut out = Calibration {
        curve,
        z: 0.0,
        p_value: 1.0,
        alpha,
        passed: false,
        reason: String::new(),
    };
    if n == 0.0 || x == 0.0 {
        out.reason = "never_solved".into();
        return out;
    }
    if x == n {
        out.reason = "always_solved".into();
        return out;
    }
    let p = x / n;
    let dbar: f64 = out
        .curve
        .iter()
        .map(|l| f64::from(l.n) * f64::from(l.difficulty))
        .sum::<f64>()
        / n;
    let t: f64 = out
        .curve
        .iter()
        .map(|l| f64::from(l.solved) * (f64::from(l.difficulty) - dbar))
        .sum();
    let s2: f64 = out
        .curve
        .iter()
        .map(|l| f64::from(l.n) * (f64::from(l.difficulty) - dbar).powi(2))
        .sum();
    let var = p * (1.0 - p) * s2;
    if var <= 0.0 {
        out.reason = "no_decreasing_trend".into();
        return out;
    }
    out.z = t / var.sqrt();
    out.p_value = normal_cdf(out.z);
    out.passed = out.p_value < alpha;
    out.reason = if out.passed {
        "ok"
    } else {
        "no_decreasing_trend"
    }
    .into();
    out
}

/// Standard normal CDF.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Complementary error function (Chebyshev fit, fractional error < 1.2e-7;
/// Numerical Recipes `erfcc`).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(solved: &[u32], n: u32) -> Vec<Level> {
        solved
            .iter()
            .enumerate()
            .map(|(i, &s)| Level {
                difficulty: u8::try_from(i + 1).unwrap(),
                n,
                solved: s,
            })
            .collect()
    }

    #[test]
    fn normal_cdf_matches_tables() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(-1.644_853_6) - 0.05).abs() < 1e-6);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
    }

    #[test]
    fn falling_rates_pass_flat_and_degenerate_fail() {
        let c = assess(curve(&[4, 4, 3, 3, 2, 2, 1, 1, 0, 0], 4), 0.05);
        assert!(c.passed && c.z < 0.0 && c.p_value < 0.001, "{c:?}");
        let c = assess(curve(&[2, 2, 2, 2, 2, 2, 2, 2, 2, 2], 4), 0.05);
        assert!(!c.passed && c.reason == "no_decreasing_trend", "{c:?}");
        let c = assess(curve(&[0, 1, 1, 2, 2, 3, 3, 4, 4, 4], 4), 0.05);
        assert!(!c.passed && c.z > 0.0, "{c:?}");
        assert_eq!(assess(curve(&[0; 10], 4), 0.05).reason, "never_solved");
        assert_eq!(assess(curve(&[4; 10], 4), 0.05).reason, "always_solved");
        // Hand-computed: levels 1..3, 10 attempts each, 9/5/1 solved.
        // p = 0.5, dbar = 2, T = -8, Var = 0.25 * 20 = 5, z = -3.5777.
        let c = assess(curve(&[9, 5, 1], 10), 0.05);
        assert!((c.z + 3.577_708_8).abs() < 1e-6, "{c:?}");
    }
}
