//! Standard wrong-answer probes for testing verifiers.
//!
//! A verifier that accepts a wrong answer poisons RL training, so every
//! environment (native, hand-written Python, LLM-synthesized) is checked
//! against the same probes: nothing, garbage, truncations, the prompt echoed
//! back, other instances' answers, and answer stuffing (several candidates in
//! one block, or a wrong block after the right one).

use crate::{ExtractConfig, Instance, extract_answer, wrap_answer};

/// One probe: a named response that should not earn a reward (unless the
/// answer it carries happens to be a legitimately correct one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Probe family, e.g. `garbage`, `other_instance`.
    pub name: &'static str,
    /// The full model response.
    pub response: String,
}

/// The bare answer text of an instance's reference response.
pub fn reference_answer(instance: &Instance) -> &str {
    extract_answer(&instance.reference, &ExtractConfig::default())
        .map(|a| a.text.trim())
        .unwrap_or("")
}

/// The standard probes for `instance`; `others` are instances of the same
/// environment whose references supply the cross-instance probes.
pub fn standard_probes(instance: &Instance, others: &[&Instance]) -> Vec<Probe> {
    let answer = reference_answer(instance);
    let mut out = vec![
        probe("empty", String::new()),
        probe("empty_answer", wrap_answer("")),
        probe("garbage", wrap_answer("zq#7 ¿? lorem 42 ]]")),
        probe("answer_without_tags", answer.to_string()),
        probe("truncated_response", half(&instance.reference).to_string()),
        probe("truncated_answer", wrap_answer(half(answer))),
        probe("prompt_echo", instance.prompt.clone()),
        probe("prompt_echo_answer", wrap_answer(&instance.prompt)),
        probe("unclosed_answer", format!("<answer>\n{answer}\n")),
    ];
    for other in others {
        if other.id == instance.id {
            continue;
        }
        let theirs = reference_answer(other);
        out.push(probe("other_instance", other.reference.clone()));
        out.push(probe(
            "stuffing_two_candidates",
            wrap_answer(&format!("{theirs}\n{answer}")),
        ));
        out.push(probe(
            "stuffing_two_candidates",
            wrap_answer(&format!("{answer}\n{theirs}")),
        ));
        out.push(probe(
            "right_block_then_wrong_block",
            format!("{}\n{}", instance.reference, other.reference),
        ));
    }
    out
}

fn probe(name: &'static str, response: String) -> Probe {
    Probe { name, response }
}

/// The first half of `s`, cut on a character boundary.
fn half(s: &str) -> &str {
    let mut cut = s.len() / 2;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}
