//! Store fixtures: a small, correct Python environment module and the rows
//! that store it as an accepted environment.

use resyn_store::{NewEnvironment, StageEvent};

/// A correct environment module named `name`: add two integers (negative
/// ones too); the reference is the sum.
pub fn add_module(name: &str) -> String {
    format!(
        r#"
NAME = "{name}"
CATEGORY = "math"
DESCRIPTION = "Add two integers."
VERSION = 1


def generate(rng, difficulty):
    hi = 10 ** difficulty
    a, b = rng.randint(-hi, hi), rng.randint(-hi, hi)
    return {{
        "prompt": f"What is {{a}} + {{b}}?\n\nAnswer format: a single integer.",
        "data": {{"a": a, "b": b}},
        "reference": str(a + b),
    }}


def verify(instance, answer):
    text = answer.strip()
    if not text or not text.lstrip("-").isdigit():
        return 0.0
    d = instance["data"]
    return 1.0 if int(text) == d["a"] + d["b"] else 0.0
"#
    )
}

/// An accepted environment with this name and code, category `math`,
/// empty reports, no run.
pub fn stored_env(name: &str, code: &str) -> NewEnvironment {
    NewEnvironment {
        name: name.into(),
        version: 1,
        content_hash: format!("hash-of-{name}"),
        category: "math".into(),
        description: "Add two integers.".into(),
        code: code.into(),
        provenance: serde_json::json!({}),
        validation: serde_json::json!({}),
        calibration: None,
        fingerprint: serde_json::json!({}),
        run_id: None,
        candidate_id: None,
    }
}

/// The stage event that closes an accepted candidate.
pub fn store_event() -> StageEvent {
    StageEvent {
        stage: "store".into(),
        passed: true,
        reason: "ok".into(),
        detail: String::new(),
        round: 0,
    }
}
