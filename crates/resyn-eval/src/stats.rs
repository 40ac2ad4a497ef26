//! Statistics: confidence intervals, pass@k and significance tests.
//!
//! - [`wilson`]: the Wilson score interval for a binomial proportion (95 %
//!   with `z = 1.96`). It behaves at 0 and 1, unlike the Wald interval.
//!   Note: with several samples per item, samples of one item are correlated,
//!   so an interval over all samples is somewhat too narrow; with one sample
//!   per item it is exact in the usual sense.
//! - [`pass_at_k`]: the unbiased estimator of Chen et al. (2021),
//!   `1 - C(n-c, k) / C(n, k)`, computed as a stable product.
//! - [`paired_bootstrap`]: the difference of means over items present in
//!   both runs, with a percentile 95 % interval and a two-sided p-value from
//!   the null-centred bootstrap distribution. Items are resampled, so the
//!   correlation of samples within an item is respected.
//! - [`two_proportion_z`]: the pooled two-proportion z-test, for runs that
//!   share no items; it treats samples as independent.

use serde::{Deserialize, Serialize};

/// 95 % two-sided normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval `(low, high)` for `successes` of `n` at quantile `z`.
pub fn wilson(successes: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // At p = 0 or 1 the bound is exactly 0 or 1; avoid rounding just inside.
    let lo = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if successes as f64 == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lo, hi)
}

/// Unbiased pass@k from `n` samples of which `c` are correct (`k <= n`).
pub fn pass_at_k(n: u64, c: u64, k: u64) -> f64 {
    if c == 0 {
        return 0.0;
    }
    if n - c < k {
        return 1.0;
    }
    // 1 - prod_{i = n-c+1}^{n} (1 - k / i)
    let mut prod = 1.0;
    for i in (n - c + 1)..=n {
        prod *= 1.0 - k as f64 / i as f64;
    }
    1.0 - prod
}

/// The ks reported for `n` samples: powers of two up to `n`, and `n`.
pub fn ks_for(n: u64) -> Vec<u64> {
    let mut ks: Vec<u64> = std::iter::successors(Some(1u64), |k| k.checked_mul(2))
        .take_while(|&k| k <= n)
        .collect();
    if n > 0 && ks.last() != Some(&n) {
        ks.push(n);
    }
    ks
}

/// Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs() / std::f64::consts::SQRT_2);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-(x * x) / 2.0).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Result of a comparison of two runs on one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// `b - a`.
    pub diff: f64,
    /// 95 % interval of `b - a`.
    pub ci: (f64, f64),
    /// Two-sided p-value of "no difference".
    pub p: f64,
    /// `"paired_bootstrap"` or `"two_proportion_z"`.
    pub test: String,
}

/// Paired bootstrap over per-item scores `(a_i, b_i)`; deterministic (`seed`).
pub fn paired_bootstrap(pairs: &[(f64, f64)], resamples: usize, seed: u64) -> Difference {
    let n = pairs.len();
    if n == 0 {
        return Difference {
            diff: 0.0,
            ci: (0.0, 0.0),
            p: 1.0,
            test: "paired_bootstrap".into(),
        };
    }
    let d: Vec<f64> = pairs.iter().map(|(a, b)| b - a).collect();
    let mean = d.iter().sum::<f64>() / n as f64;
    let mut rng = SplitMix(seed);
    let mut means = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let mut s = 0.0;
        for _ in 0..n {
            s += d[rng.below(n)];
        }
        means.push(s / n as f64);
    }
    means.sort_by(f64::total_cmp);
    let q = |p: f64| means[((p * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    // Null-centred: how often a resampled mean deviates from the observed
    // mean by at least the observed distance from zero.
    let extreme = means
        .iter()
        .filter(|&&m| (m - mean).abs() >= mean.abs() - 1e-12)
        .count();
    let p = if mean == 0.0 {
        1.0
    } else {
        ((extreme + 1) as f64 / (resamples + 1) as f64).min(1.0)
    };
    Difference {
        diff: mean,
        ci: (q(0.025), q(0.975)),
        p,
        test: "paired_bootstrap".into(),
    }
}

/// Pooled two-proportion z-test of `c_a / n_a` vs `c_b / n_b`.
pub fn two_proportion_z(c_a: u64, n_a: u64, c_b: u64, n_b: u64) -> Difference {
    let test = "two_proportion_z".to_string();
    if n_a == 0 || n_b == 0 {
        return Difference {
            diff: 0.0,
            ci: (0.0, 0.0),
            p: 1.0,
            test,
        };
    }
    let (pa, pb) = (c_a as f64 / n_a as f64, c_b as f64 / n_b as f64);
    let pooled = (c_a + c_b) as f64 / (n_a + n_b) as f64;
    let se0 = (pooled * (1.0 - pooled) * (1.0 / n_a as f64 + 1.0 / n_b as f64)).sqrt();
    let p = if pa == pb {
        1.0
    } else if se0 == 0.0 {
        0.0
    } else {
        2.0 * (1.0 - normal_cdf(((pb - pa) / se0).abs()))
    };
    let se = (pa * (1.0 - pa) / n_a as f64 + pb * (1.0 - pb) / n_b as f64).sqrt();
    Difference {
        diff: pb - pa,
        ci: (pb - pa - Z95 * se, pb - pa + Z95 * se),
        p: p.clamp(0.0, 1.0),
        test,
    }
}

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn wilson_known_values() {
        // 8/10: (0.4902, 0.9433) from the closed form.
        let (lo, hi) = wilson(8, 10, Z95);
        assert!(
            close(lo, 0.4902, 1e-4) && close(hi, 0.9433, 1e-4),
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 20, Z95);
        assert_eq!(lo, 0.0);
        assert!(close(hi, 0.1611, 1e-4), "{hi}");
        let (lo, hi) = wilson(20, 20, Z95);
        assert!(close(lo, 0.8389, 1e-4) && hi == 1.0);
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
    }

    #[test]
    fn pass_at_k_matches_the_combinatorial_form() {
        fn choose(n: u64, k: u64) -> f64 {
            if k > n {
                return 0.0;
            }
            (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
        }
        for n in 1..=12u64 {
            for c in 0..=n {
                for k in 1..=n {
                    let exact = 1.0 - choose(n - c, k) / choose(n, k);
                    assert!(close(pass_at_k(n, c, k), exact, 1e-12), "{n} {c} {k}");
                }
            }
        }
        assert_eq!(pass_at_k(4, 1, 1), 0.25);
        assert_eq!(ks_for(1), vec![1]);
        assert_eq!(ks_for(4), vec![1, 2, 4]);
        assert_eq!(ks_for(6), vec![1, 2, 4, 6]);
        assert!(ks_for(0).is_empty());
    }

    #[test]
    fn normal_cdf_values() {
        assert!(close(normal_cdf(0.0), 0.5, 1e-7));
        assert!(close(normal_cdf(Z95), 0.975, 1e-6));
        assert!(close(normal_cdf(-1.0), 0.158_655_25, 1e-6));
    }

    #[test]
    fn z_test() {
        // 60/100 vs 75/100: pooled 0.675, z = 2.2646, p = 0.0235.
        let d = two_proportion_z(60, 100, 75, 100);
        assert!(close(d.diff, 0.15, 1e-12));
        assert!(close(d.p, 0.0235, 2e-4), "{}", d.p);
        assert_eq!(two_proportion_z(5, 10, 5, 10).p, 1.0);
    }

    #[test]
    fn bootstrap_detects_real_differences_only() {
        // 200 items, B solves 30 more than A.
        let pairs: Vec<(f64, f64)> = (0..200)
            .map(|i| {
                (
                    f64::from(u8::from(i % 2 == 0)),
                    f64::from(u8::from(i % 2 == 0 || i % 7 < 2)),
                )
            })
            .collect();
        let d = paired_bootstrap(&pairs, 2000, 1);
        assert!(d.diff > 0.1 && d.p < 0.01 && d.ci.0 > 0.0, "{d:?}");
        // Identical runs: no difference.
        let same: Vec<(f64, f64)> = (0..50)
            .map(|i| (f64::from(i % 3), f64::from(i % 3)))
            .collect();
        assert_eq!(paired_bootstrap(&same, 500, 1).p, 1.0);
        // Noise: pairs swapped at random give a large p.
        let noisy: Vec<(f64, f64)> = (0..100)
            .map(|i| {
                if i % 4 == 0 {
                    (1.0, 0.0)
                } else if i % 4 == 1 {
                    (0.0, 1.0)
                } else {
                    (1.0, 1.0)
                }
            })
            .collect();
        assert!(paired_bootstrap(&noisy, 2000, 1).p > 0.5);
        // Deterministic.
        assert_eq!(
            paired_bootstrap(&pairs, 500, 9),
            paired_bootstrap(&pairs, 500, 9)
        );
    }
}
