//! One generated task instance.

use serde::{Deserialize, Serialize};

/// A task instance: what the model sees (`prompt`), what the verifier needs
/// (`data`, hidden from the model) and a reference response that verifies to 1.0.
///
/// Field order is the JSON field order; `data` objects serialize with sorted
/// keys, so serialization is byte-stable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Stable content hash of `env`, `env_version`, `seed`, `difficulty` ([`crate::instance_id`]).
    pub id: String,
    /// Environment id.
    pub env: String,
    /// Environment version.
    pub env_version: u32,
    /// Seed the instance was generated from.
    pub seed: u64,
    /// Difficulty level, 1..=10.
    pub difficulty: u8,
    /// The full text shown to the model, including the answer-format instruction.
    pub prompt: String,
    /// Everything the verifier needs; never shown to the model.
    pub data: serde_json::Value,
    /// A complete model-style response that verifies to 1.0.
    pub reference: String,
}

/// The sentence appended to every prompt (native and Python environments
/// alike): how the model must format its final answer.
pub const ANSWER_INSTRUCTION: &str = "Reason step by step, then give only your final answer \
inside <answer></answer> tags, in exactly the answer format described above.";

/// Wrap an answer text into a model-style response: `<answer>\n{answer}\n</answer>`.
pub fn wrap_answer(answer: &str) -> String {
    const OPEN: &str = "<answer>\n";
    const CLOSE: &str = "\n</answer>";
    let mut s = String::with_capacity(OPEN.len() + answer.len() + CLOSE.len());
    s.push_str(OPEN);
    s.push_str(answer);
    s.push_str(CLOSE);
    s
}
