//! The verifier's judgement of one response.

use serde::{Deserialize, Serialize};

use crate::ExtractError;

/// Machine-readable reason for a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReasonCode {
    /// The answer is correct.
    Ok,
    /// Documented partial credit was given.
    Partial,
    /// No answer block was found.
    NoAnswer,
    /// The response or the answer is over the length limit.
    TooLong,
    /// The answer does not have the required format.
    ParseError,
    /// The answer is well-formed but wrong.
    Wrong,
    /// The instance is malformed or belongs to another environment.
    InvalidInstance,
    /// The environment itself failed (e.g. sandboxed verifier raised, timed
    /// out or returned a non-reward); never the model's fault, never credit.
    EnvError,
    /// The environment could not be run at all: its sandbox, its
    /// interpreter or a worker process could not be started (no Python, a
    /// required isolation layer missing, a process limit reached). A failure
    /// of the machine, not a judgement of the response: the reward scorers
    /// raise it as an error instead of scoring 0, and `resyn verify` fails.
    Unavailable,
}

impl ReasonCode {
    /// The snake_case code as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::NoAnswer => "no_answer",
            Self::TooLong => "too_long",
            Self::ParseError => "parse_error",
            Self::Wrong => "wrong",
            Self::InvalidInstance => "invalid_instance",
            Self::EnvError => "env_error",
            Self::Unavailable => "unavailable",
        }
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reward in `[0, 1]`, whether it is full marks, and why.
///
/// Serialized as `{"reward": 1.0, "correct": true, "reason": "ok", "detail": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Reward in `[0, 1]`.
    pub reward: f64,
    /// `reward == 1.0`.
    pub correct: bool,
    /// Machine-readable reason.
    pub reason: ReasonCode,
    /// Human-readable explanation (empty for a correct answer).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl Verdict {
    /// Full reward.
    pub fn correct() -> Self {
        Self {
            reward: 1.0,
            correct: true,
            reason: ReasonCode::Ok,
            detail: String::new(),
        }
    }

    /// Zero reward with a reason.
    pub fn zero(reason: ReasonCode, detail: impl Into<String>) -> Self {
        Self {
            reward: 0.0,
            correct: false,
            reason,
            detail: detail.into(),
        }
    }

    /// Zero reward: well-formed but wrong.
    pub fn wrong(detail: impl Into<String>) -> Self {
        Self::zero(ReasonCode::Wrong, detail)
    }

    /// Zero reward: the answer does not parse.
    pub fn parse_error(detail: impl Into<String>) -> Self {
        Self::zero(ReasonCode::ParseError, detail)
    }

    /// Binary verdict from a check result: `Err` holds why the answer is
    /// wrong (the verdict's detail, data for the reader), not an error.
    pub fn from_check(result: Result<(), String>) -> Self {
        match result {
            Ok(()) => Self::correct(),
            Err(detail) => Self::wrong(detail),
        }
    }

    /// A reward from an untrusted source (e.g. sandboxed code): NaN, infinite
    /// or out-of-range values become zero with [`ReasonCode::EnvError`]; 1.0 is
    /// correct, anything in between is partial, 0 is wrong.
    pub fn from_reward(reward: f64, detail: impl Into<String>) -> Self {
        if !reward.is_finite() || !(0.0..=1.0).contains(&reward) {
            return Self::zero(
                ReasonCode::EnvError,
                format!("verifier returned reward {reward}, outside [0, 1]"),
            );
        }
        let reason = if reward == 1.0 {
            ReasonCode::Ok
        } else if reward == 0.0 {
            ReasonCode::Wrong
        } else {
            ReasonCode::Partial
        };
        Self {
            reward,
            correct: reward == 1.0,
            reason,
            detail: detail.into(),
        }
    }
}

impl From<ExtractError> for Verdict {
    fn from(e: ExtractError) -> Self {
        let code = match e {
            ExtractError::TooLong { .. } | ExtractError::AnswerTooLong { .. } => {
                ReasonCode::TooLong
            }
            _ => ReasonCode::NoAnswer,
        };
        Self::zero(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_rewards_are_clamped_to_errors() {
        for bad in [f64::NAN, f64::INFINITY, -0.5, 1.5] {
            let v = Verdict::from_reward(bad, "");
            assert_eq!(
                (v.reward, v.correct, v.reason),
                (0.0, false, ReasonCode::EnvError)
            );
        }
        assert_eq!(Verdict::from_reward(0.5, "").reason, ReasonCode::Partial);
        assert!(Verdict::from_reward(1.0, "").correct);
    }

    #[test]
    fn json_shape() {
        let v = serde_json::to_string(&Verdict::wrong("x")).unwrap();
        assert_eq!(
            v,
            r#"{"reward":0.0,"correct":false,"reason":"wrong","detail":"x"}"#
        );
    }
}
