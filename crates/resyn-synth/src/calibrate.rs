//! Stage 6: difficulty calibration.
//!
//! A solver model answers `k` instances at each difficulty level. Replies cut
//! off by the token limit are not wrong answers: they are counted apart
//! ([`Level::truncated`]) and left out of the rates. The environment is kept
//! ([`assess`], thresholds in [`Policy`]) when
//! - its solve rate *falls* as difficulty rises (the trend test below, at
//!   [`Policy::alpha`], default 0.05) and is neither always 0 nor always 1;
//! - the top two levels leave headroom: their pooled solve rate is at most
//!   [`Policy::max_top_rate`] (default 0.6), so a policy as strong as the
//!   solver still has something to learn (an environment solved 38 times of
//!   40 is not calibrated, whatever its trend);
//! - the bottom two levels are within reach: their pooled solve rate is at
//!   least [`Policy::min_bottom_rate`] (default 0.2);
//! - every level has at least half of its `k` answers that were not cut
//!   off; otherwise the solver's token limit, not the environment, decided.
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
    /// Attempts that count: answers not cut off by the token limit.
    pub n: u32,
    /// Correct answers.
    pub solved: u32,
    /// Replies cut off by the token limit (after a retry), not in `n`.
    #[serde(default)]
    pub truncated: u32,
}

/// The thresholds of [`assess`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Significance level of the one-sided trend test.
    pub alpha: f64,
    /// Highest pooled solve rate of the top two levels.
    pub max_top_rate: f64,
    /// Lowest pooled solve rate of the bottom two levels.
    pub min_bottom_rate: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            alpha: 0.05,
            max_top_rate: 0.6,
            min_bottom_rate: 0.2,
        }
    }
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
    /// `ok`, or why not: `too_many_truncated`, `never_solved`,
    /// `always_solved`, `no_decreasing_trend`, `no_headroom`,
    /// `too_hard_at_the_bottom`.
    pub reason: String,
    /// Pooled solve rate of the two highest levels.
    #[serde(default)]
    pub top_rate: f64,
    /// Pooled solve rate of the two lowest levels.
    #[serde(default)]
    pub bottom_rate: f64,
}

/// Pooled solve rate of some levels (0 when none counted).
fn pooled<'a>(levels: impl Iterator<Item = &'a Level>) -> f64 {
    let (x, n) = levels.fold((0u32, 0u32), |(x, n), l| (x + l.solved, n + l.n));
    if n == 0 {
        0.0
    } else {
        f64::from(x) / f64::from(n)
    }
}

/// Judge a curve (levels in increasing difficulty); `k` answers were asked
/// for per level.
pub fn assess(curve: Vec<Level>, k: u32, policy: &Policy) -> Calibration {
    let n: f64 = curve.iter().map(|l| f64::from(l.n)).sum();
    let x: f64 = curve.iter().map(|l| f64::from(l.solved)).sum();
    let top_rate = pooled(curve.iter().rev().take(2));
    let bottom_rate = pooled(curve.iter().take(2));
    let mut out = Calibration {
        curve,
        z: 0.0,
        p_value: 1.0,
        alpha: policy.alpha,
        passed: false,
        reason: String::new(),
        top_rate,
        bottom_rate,
    };
    if out.curve.iter().any(|l| 2 * l.n < k) {
        out.reason = "too_many_truncated".into();
        return out;
    }
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
    out.reason = if out.p_value >= policy.alpha {
        "no_decreasing_trend"
    } else if top_rate > policy.max_top_rate {
        "no_headroom"
    } else if bottom_rate < policy.min_bottom_rate {
        "too_hard_at_the_bottom"
    } else {
        "ok"
    }
    .into();
    out.passed = out.reason == "ok";
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
                truncated: 0,
            })
            .collect()
    }

    fn assess(curve: Vec<Level>, alpha: f64) -> Calibration {
        let k = curve.first().map_or(0, |l| l.n);
        super::assess(
            curve,
            k,
            &Policy {
                alpha,
                ..Policy::default()
            },
        )
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

    #[test]
    fn a_nearly_saturated_environment_is_not_calibrated() {
        // 38 of 40 solved: a significant fall, but no headroom at the top.
        let c = assess(curve(&[4, 4, 4, 4, 4, 4, 4, 4, 3, 3], 4), 0.05);
        assert_eq!(c.reason, "no_headroom", "{c:?}");
        assert!(!c.passed && (c.top_rate - 0.75).abs() < 1e-12);
        // Falling, but out of reach at the bottom.
        let c = assess(curve(&[1, 0, 1, 1, 1, 0, 0, 0, 0, 0], 8), 0.05);
        assert!(!c.passed, "{c:?}");
        let c = assess(curve(&[1, 2, 4, 3, 2, 2, 1, 1, 0, 0], 8), 0.05);
        assert_eq!(c.reason, "too_hard_at_the_bottom", "{c:?}");
    }

    #[test]
    fn truncated_replies_are_counted_apart() {
        let mut c = curve(&[4, 4, 3, 3, 2, 2, 1, 1, 0, 0], 4);
        // Two of four replies at level 10 were cut off: still enough.
        c[9].n = 2;
        c[9].truncated = 2;
        assert!(super::assess(c.clone(), 4, &Policy::default()).passed);
        // Three of four: the token limit decided, not the environment.
        c[9].n = 1;
        c[9].truncated = 3;
        let out = super::assess(c, 4, &Policy::default());
        assert_eq!(out.reason, "too_many_truncated", "{out:?}");
    }
}
