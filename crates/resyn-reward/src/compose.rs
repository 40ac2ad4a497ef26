//! Composing the final reward from the verdict and the format check.

use resyn_core::Verdict;
use serde::{Deserialize, Serialize};

use crate::{Error, Result, check_format};

/// Weights of the reward components.
///
/// `score = verifier_weight * verdict.reward + format_weight * [format_ok]`.
/// The default (`1`, `0`) makes the score the verifier's binary reward. The
/// published setup adds a format reward without stating its weight; the
/// resyn recipes use `format_weight = 0.1` (see `docs/trainers.md`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardConfig {
    /// Weight of the verifier's reward (in `[0, 1]`).
    pub verifier_weight: f64,
    /// Added when the response passes [`check_format`].
    pub format_weight: f64,
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            verifier_weight: 1.0,
            format_weight: 0.0,
        }
    }
}

impl RewardConfig {
    /// Check that both weights are finite.
    ///
    /// # Errors
    /// [`Error::Config`] naming the offending weight.
    pub fn validate(&self) -> Result<()> {
        for (name, w) in [
            ("verifier_weight", self.verifier_weight),
            ("format_weight", self.format_weight),
        ] {
            if !w.is_finite() {
                return Err(Error::Config(format!("{name} must be finite, got {w}")));
            }
        }
        Ok(())
    }
}

/// The reward of one response: the composed `score` and its parts.
///
/// Serialized flat: `{"score", "format_ok", "reward", "correct", "reason",
/// "detail"}`, where `reward`, `correct`, `reason` and `detail` are the
/// verifier's [`Verdict`] (as `resyn verify` prints it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reward {
    /// The reward to train on.
    pub score: f64,
    /// Whether the response passed [`check_format`].
    pub format_ok: bool,
    /// The verifier's verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Compose the reward of `response` from its verdict (see [`RewardConfig`]).
pub fn compose(verdict: Verdict, response: &str, config: &RewardConfig) -> Reward {
    let format_ok = check_format(response).is_ok();
    let format = if format_ok { 1.0 } else { 0.0 };
    Reward {
        score: config.verifier_weight * verdict.reward + config.format_weight * format,
        format_ok,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_combine_additively() {
        let cfg = RewardConfig {
            verifier_weight: 0.9,
            format_weight: 0.1,
        };
        let good = "<think>t</think><answer>1</answer>";
        let r = compose(Verdict::correct(), good, &cfg);
        assert!((r.score - 1.0).abs() < 1e-12 && r.format_ok);
        let r = compose(Verdict::wrong("no"), good, &cfg);
        assert!((r.score - 0.1).abs() < 1e-12);
        let r = compose(Verdict::correct(), "<answer>1</answer>", &cfg);
        assert!((r.score - 0.9).abs() < 1e-12 && !r.format_ok);
        let r = compose(Verdict::correct(), "x", &RewardConfig::default());
        assert_eq!(r.score, 1.0);
    }

    #[test]
    fn json_is_flat() {
        let r = compose(Verdict::wrong("w"), "", &RewardConfig::default());
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"score":0.0,"format_ok":false,"reward":0.0,"correct":false,"reason":"wrong","detail":"w"}"#
        );
    }

    #[test]
    fn config_rejects_non_finite_and_unknown_keys() {
        let bad = RewardConfig {
            format_weight: f64::NAN,
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("format_weight")
        );
        assert!(serde_json::from_str::<RewardConfig>(r#"{"fmt": 1}"#).is_err());
        let c: RewardConfig = serde_json::from_str(r#"{"format_weight": 0.5}"#).unwrap();
        assert_eq!(c.verifier_weight, 1.0);
    }
}
