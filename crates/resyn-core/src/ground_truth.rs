//! What `reward_model.ground_truth` holds, and how to score against it.
//!
//! The ground truth is always a **string** (verl and OpenRLHF pass it
//! through as text): a JSON object whose `reward_mode` says how to score.
//!
//! - `{"reward_mode":"verifier","id","env","env_version","seed","difficulty","data"}`:
//!   rebuild the instance and run the environment's verifier
//!   ([`GroundTruth::score`]).
//! - `{"reward_mode":"code","id","env","env_version","answer"}`: exact
//!   canonical match of the extracted answer against `answer`, the answer
//!   of the environment's own reference solver ([`code_verdict`]).
//! - `{"reward_mode":"llm_answer","id","env","env_version","model","answer"}`:
//!   the same exact match against the answer `model` wrote at build time;
//!   `answer` is `null` when the model gave none (every response then
//!   scores 0).
//!
//! Field order is fixed and `data` keys are sorted, so the string is
//! byte-stable. The dataset builder (`resyn-data`) writes these strings and
//! the reward (`resyn-reward`) reads them; the encoding lives here, once.

use serde::{Deserialize, Serialize};

use crate::{ExtractConfig, Instance, ReasonCode, Registry, Verdict, extract_answer};

/// A decoded `reward_model.ground_truth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reward_mode", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum GroundTruth {
    /// Score with the environment's verifier.
    Verifier {
        /// Instance id.
        id: String,
        /// Environment id.
        env: String,
        /// Environment version the instance was generated with.
        env_version: u32,
        /// Instance seed.
        seed: u64,
        /// Difficulty level.
        difficulty: u8,
        /// The instance data the verifier needs.
        data: serde_json::Value,
    },
    /// Score by exact canonical match against the reference answer.
    Code {
        /// Instance id.
        id: String,
        /// Environment id.
        env: String,
        /// Environment version.
        env_version: u32,
        /// The reference solver's answer (bare text, no tags).
        answer: String,
    },
    /// Score by exact canonical match against an LLM's answer.
    LlmAnswer {
        /// Instance id.
        id: String,
        /// Environment id.
        env: String,
        /// Environment version.
        env_version: u32,
        /// The model that wrote the answer.
        model: String,
        /// Its bare answer, or `None` when its reply had none.
        answer: Option<String>,
    },
}

/// Borrowing twin of [`GroundTruth::Verifier`]; `verifier_json` must give
/// the same bytes (tested).
#[cfg(test)]
#[derive(Serialize)]
struct VerifierRef<'a> {
    reward_mode: &'static str,
    id: &'a str,
    env: &'a str,
    env_version: u32,
    seed: u64,
    difficulty: u8,
    data: &'a serde_json::Value,
}

/// Borrowing twin of [`GroundTruth::Code`].
#[derive(Serialize)]
struct CodeRef<'a> {
    reward_mode: &'static str,
    id: &'a str,
    env: &'a str,
    env_version: u32,
    answer: &'a str,
}

/// Borrowing twin of [`GroundTruth::LlmAnswer`].
#[derive(Serialize)]
struct LlmAnswerRef<'a> {
    reward_mode: &'static str,
    id: &'a str,
    env: &'a str,
    env_version: u32,
    model: &'a str,
    answer: Option<&'a str>,
}

/// `VerifierRef` without `data`, which `verifier_json` splices in.
#[derive(Serialize)]
struct VerifierHead<'a> {
    reward_mode: &'static str,
    id: &'a str,
    env: &'a str,
    env_version: u32,
    seed: u64,
    difficulty: u8,
}

/// The verifier-mode ground truth string of `inst`, given its data already
/// serialized (compact) as `data_json`: the same bytes as serializing the
/// whole `VerifierRef`, without serializing the data twice.
pub fn verifier_json(inst: &Instance, data_json: &str) -> String {
    let head = VerifierHead {
        reward_mode: "verifier",
        id: &inst.id,
        env: &inst.env,
        env_version: inst.env_version,
        seed: inst.seed,
        difficulty: inst.difficulty,
    };
    // Serializing plain strings and integers to a String cannot fail.
    let mut s = serde_json::to_string(&head).unwrap_or_default();
    s.pop(); // the closing brace
    s.reserve(data_json.len() + 10);
    s.push_str(",\"data\":");
    s.push_str(data_json);
    s.push('}');
    s
}

/// The code-mode ground truth string of `inst` with reference `answer`.
pub fn code_json(inst: &Instance, answer: &str) -> String {
    let r = CodeRef {
        reward_mode: "code",
        id: &inst.id,
        env: &inst.env,
        env_version: inst.env_version,
        answer,
    };
    // Serializing plain strings and integers to a String cannot fail.
    serde_json::to_string(&r).unwrap_or_default()
}

/// The llm_answer-mode ground truth of instance `id` of `env` v`version`.
pub fn llm_answer_json(
    id: &str,
    env: &str,
    env_version: u32,
    model: &str,
    answer: Option<&str>,
) -> String {
    let r = LlmAnswerRef {
        reward_mode: "llm_answer",
        id,
        env,
        env_version,
        model,
        answer,
    };
    // Serializing plain strings and integers to a String cannot fail.
    serde_json::to_string(&r).unwrap_or_default()
}

impl GroundTruth {
    /// Decode a ground-truth string.
    ///
    /// # Errors
    /// When it is not one of the documented JSON shapes.
    pub fn from_json(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s)
    }

    /// Encode as the ground-truth string (byte-identical to what the
    /// builder writes).
    pub fn to_json(&self) -> String {
        // Serializing plain strings, integers and a `Value` cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The instance id.
    pub fn id(&self) -> &str {
        match self {
            Self::Verifier { id, .. } | Self::Code { id, .. } | Self::LlmAnswer { id, .. } => id,
        }
    }

    /// The `reward_mode` name (`verifier`, `code`, `llm_answer`).
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Verifier { .. } => "verifier",
            Self::Code { .. } => "code",
            Self::LlmAnswer { .. } => "llm_answer",
        }
    }

    /// The environment id.
    pub fn env(&self) -> &str {
        match self {
            Self::Verifier { env, .. } | Self::Code { env, .. } | Self::LlmAnswer { env, .. } => {
                env
            }
        }
    }

    /// For verifier mode, the instance to verify against (its `prompt`
    /// and `reference` are empty: verifiers do not read them).
    pub fn to_instance(&self) -> Option<Instance> {
        match self {
            Self::Verifier { .. } => self.clone().into_instance().ok(),
            _ => None,
        }
    }

    /// [`GroundTruth::to_instance`] without copying the data; other modes
    /// are handed back unchanged.
    ///
    /// # Errors
    /// `self`, when it is not verifier mode.
    pub fn into_instance(self) -> Result<Instance, Self> {
        match self {
            Self::Verifier {
                id,
                env,
                env_version,
                seed,
                difficulty,
                data,
            } => Ok(Instance {
                id,
                env,
                env_version,
                seed,
                difficulty,
                prompt: String::new(),
                data,
                reference: String::new(),
            }),
            other => Err(other),
        }
    }

    /// Score a full model response.
    ///
    /// # Errors
    /// [`crate::Error::UnknownEnvironment`] when verifier mode names an
    /// environment the registry lacks.
    pub fn score(&self, registry: &Registry, response: &str) -> crate::Result<Verdict> {
        match self {
            Self::Verifier { env, .. } => {
                let env = registry.get(env)?;
                // `to_instance` is `Some` for the verifier variant.
                let inst = self.to_instance().unwrap_or_else(|| unreachable!());
                Ok(env.verify(&inst, response))
            }
            Self::Code { answer, .. } => Ok(code_verdict(answer, response)),
            Self::LlmAnswer { answer, .. } => Ok(llm_answer_verdict(answer.as_deref(), response)),
        }
    }
}

/// The canonical form used by code-mode matching: whitespace runs collapsed
/// to one space, trimmed, lowercased.
pub fn canonical_answer(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Code-mode verdict: 1.0 when the answer extracted from `response` (same
/// rules as every verifier, [`extract_answer`]) equals `expected` after
/// [`canonical_answer`]; 0.0 otherwise.
pub fn code_verdict(expected: &str, response: &str) -> Verdict {
    match extract_answer(response, &ExtractConfig::default()) {
        Err(e) => e.into(),
        Ok(got) if canonical_answer(got.text) == canonical_answer(expected) => Verdict::correct(),
        Ok(_) => Verdict::zero(
            ReasonCode::Wrong,
            "answer differs from the reference answer",
        ),
    }
}

/// llm_answer-mode verdict: [`code_verdict`] against the LLM's answer;
/// 0.0 for every response when the LLM gave no answer.
pub fn llm_answer_verdict(expected: Option<&str>, response: &str) -> Verdict {
    match expected {
        Some(a) => code_verdict(a, response),
        None => Verdict::zero(
            ReasonCode::Wrong,
            "the LLM that labelled this instance gave no answer; nothing matches",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst() -> Instance {
        Instance {
            id: "abc".into(),
            env: "e".into(),
            env_version: 2,
            seed: 7,
            difficulty: 3,
            prompt: "p".into(),
            data: serde_json::json!({"z": 1, "a": [1, 2]}),
            reference: "<answer>\nX\n</answer>".into(),
        }
    }

    #[test]
    fn ground_truth_strings_are_stable_and_round_trip() {
        let i = inst();
        let v = verifier_json(&i, &serde_json::to_string(&i.data).unwrap());
        let whole = VerifierRef {
            reward_mode: "verifier",
            id: &i.id,
            env: &i.env,
            env_version: i.env_version,
            seed: i.seed,
            difficulty: i.difficulty,
            data: &i.data,
        };
        assert_eq!(v, serde_json::to_string(&whole).unwrap());
        assert_eq!(
            v,
            r#"{"reward_mode":"verifier","id":"abc","env":"e","env_version":2,"seed":7,"difficulty":3,"data":{"a":[1,2],"z":1}}"#
        );
        let g = GroundTruth::from_json(&v).unwrap();
        assert_eq!(g.to_json(), v);
        assert_eq!((g.id(), g.env(), g.mode()), ("abc", "e", "verifier"));
        assert_eq!(g.to_instance().unwrap().data, inst().data);
        let c = code_json(&inst(), "X Y");
        assert_eq!(
            c,
            r#"{"reward_mode":"code","id":"abc","env":"e","env_version":2,"answer":"X Y"}"#
        );
        let g = GroundTruth::from_json(&c).unwrap();
        assert_eq!(g.to_json(), c);
        assert_eq!((g.id(), g.mode()), ("abc", "code"));
        let l = llm_answer_json("abc", "e", 2, "m", Some("X"));
        assert_eq!(
            l,
            r#"{"reward_mode":"llm_answer","id":"abc","env":"e","env_version":2,"model":"m","answer":"X"}"#
        );
        let g = GroundTruth::from_json(&l).unwrap();
        assert_eq!(g.to_json(), l);
        assert_eq!((g.id(), g.mode()), ("abc", "llm_answer"));
        assert!(g.to_instance().is_none());
        let none = llm_answer_json("abc", "e", 2, "m", None);
        assert!(none.ends_with(r#""answer":null}"#), "{none}");
        assert_eq!(GroundTruth::from_json(&none).unwrap().to_json(), none);
        assert!(GroundTruth::from_json(r#"{"reward_mode":"magic"}"#).is_err());
    }

    #[test]
    fn code_match_is_canonical() {
        assert!(
            code_verdict(
                "A->B  C->A",
                "<think>x</think><answer> a->b\n c->a </answer>"
            )
            .correct
        );
        assert!(!code_verdict("A->B", "<answer>A->C</answer>").correct);
        assert_eq!(code_verdict("A", "no tags").reason, ReasonCode::NoAnswer);
        assert_eq!(canonical_answer("  Ab \t\n CD "), "ab cd");
    }

    #[test]
    fn llm_answer_matches_like_code_and_none_never_matches() {
        let reg = crate::Registry::new();
        let g = GroundTruth::from_json(&llm_answer_json("i", "e", 1, "m", Some("42"))).unwrap();
        assert!(g.score(&reg, "<answer> 42 </answer>").unwrap().correct);
        assert!(!g.score(&reg, "<answer>41</answer>").unwrap().correct);
        let g = GroundTruth::from_json(&llm_answer_json("i", "e", 1, "m", None)).unwrap();
        for r in [
            "",
            "<answer></answer>",
            "<answer>null</answer>",
            "<answer>42</answer>",
        ] {
            let v = g.score(&reg, r).unwrap();
            assert_eq!(v.reward, 0.0, "{r:?}");
        }
    }
}
