//! Offline validation of hand-written modules.
use resyn_synth::validate::{Check, ValidationConfig, Validator};

use crate::common::sandbox;

#[test]
fn seed_corpus_passes_full_offline_validation() {
    let dir = std::env::var("RESYN_SEED_DIR")
        .map_or_else(|_| resyn_test::repo_path("envs/python"), Into::into);
    let v = Validator::new(sandbox().clone(), ValidationConfig::default());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "py")
                        && !p.file_name().unwrap().to_string_lossy().starts_with('_')
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    assert!(
        files.len() >= 5,
        "expected the seed corpus in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for f in &files {
        let (report, _) = v.validate_file(f).unwrap();
        if let Some(fail) = &report.failure {
            failures.push(format!("{}: {fail}", f.display()));
        } else {
            assert!(report.passed_checks.contains(&Check::Probes));
            assert!(report.stats.probes_rejected > 0);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} seed environments fail validation:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

// -- one module failing each check ------------------------------------------------------------
//
// Each module below is the same small, valid environment with one flaw; the
// validator must stop at exactly the check that flaw breaks, after passing
// every check before it.

/// A valid module; `{GEN}`, `{VERIFY}` and `{EXTRA}` are replaced by a test.
const BASE: &str = r#"
import random

NAME = "sum_pair"
CATEGORY = "math"
DESCRIPTION = "Add two integers."
VERSION = 1
{EXTRA}

def generate(rng, difficulty):
    hi = 10 ** difficulty
    a, b = rng.randint(1, hi), rng.randint(1, hi)
    {GEN}
    return {"prompt": f"Compute the sum of {a} and {b}; give one integer.",
            "data": {"a": a, "b": b}, "reference": str(a + b)}


def verify(instance, answer):
    {VERIFY}
    text = answer.strip()
    if not text.isdigit():
        return 0.0
    d = instance["data"]
    return 1.0 if int(text) == d["a"] + d["b"] else 0.0
"#;

fn module(generate: &str, verify: &str, extra: &str) -> String {
    BASE.replace(
        "{GEN}",
        if generate.is_empty() {
            "pass"
        } else {
            generate
        },
    )
    .replace("{VERIFY}", if verify.is_empty() { "pass" } else { verify })
    .replace("{EXTRA}", extra)
}

/// Validate `source` and return the failed check with its reason.
fn fails(source: &str) -> (Check, String, String) {
    let cfg = ValidationConfig {
        thresholds: resyn_synth::validate::Thresholds {
            seeds: 4,
            ..Default::default()
        },
        ..ValidationConfig::default()
    };
    let v = Validator::new(crate::common::fast_sandbox().clone(), cfg);
    let (report, validated) = v.validate("sum_pair.py", source).unwrap();
    let f = report.failure.expect("the module must fail");
    assert!(validated.is_none());
    let order = [
        Check::Size,
        Check::Parse,
        Check::Imports,
        Check::Api,
        Check::Load,
        Check::Generate,
        Check::Determinism,
        Check::Uniqueness,
        Check::PromptLength,
        Check::AnswerLeak,
        Check::Reference,
    ];
    // Every check before the failed one passed.
    let before: Vec<Check> = order
        .iter()
        .copied()
        .take_while(|c| *c != f.check)
        .collect();
    for c in before {
        assert!(report.passed_checks.contains(&c), "{c:?} did not pass: {f}");
    }
    (f.check, f.reason, f.detail)
}

#[test]
fn the_base_module_is_valid() {
    let v = Validator::new(
        crate::common::fast_sandbox().clone(),
        ValidationConfig::default(),
    );
    let (report, validated) = v.validate("sum_pair.py", &module("", "", "")).unwrap();
    assert!(report.failure.is_none(), "{:?}", report.failure);
    assert!(validated.is_some());
}

#[test]
fn check_size_rejects_an_empty_or_huge_module() {
    assert_eq!(fails("  \n").0, Check::Size);
    let huge = format!("{}\n# {}\n", module("", "", ""), "x".repeat(70_000));
    let (c, r, _) = fails(&huge);
    assert_eq!((c, r.as_str()), (Check::Size, "too_large"));
}

#[test]
fn check_parse_rejects_a_syntax_error() {
    let (c, r, d) = fails(&module("", "", "def broken(:\n    pass"));
    assert_eq!((c, r.as_str()), (Check::Parse, "syntax_error"));
    assert!(d.contains("line"), "{d}");
}

#[test]
fn check_imports_rejects_forbidden_modules_and_names() {
    let (c, r, d) = fails(&module("", "", "import os"));
    assert_eq!((c, r.as_str()), (Check::Imports, "forbidden_import"));
    assert!(d.contains("import os"), "{d}");
    let (c, r, _) = fails(&module("eval('1')", "", ""));
    assert_eq!((c, r.as_str()), (Check::Imports, "forbidden_name"));
}

#[test]
fn check_api_rejects_a_missing_verify() {
    let src = module("", "", "").replace(
        "def verify(instance, answer):",
        "def check(instance, answer):",
    );
    let (c, r, d) = fails(&src);
    assert_eq!((c, r.as_str()), (Check::Api, "missing_api"));
    assert!(d.contains("verify()"), "{d}");
}

#[test]
fn check_load_rejects_module_level_errors() {
    let (c, r, _) = fails(&module("", "", "VALUE = 1 // 0"));
    assert_eq!((c, r.as_str()), (Check::Load, "module_raised"));
}

#[test]
fn check_generate_rejects_a_raising_generator() {
    let (c, r, d) = fails(&module(
        "if difficulty == 7: raise ValueError('no sevens')",
        "",
        "",
    ));
    assert_eq!((c, r.as_str()), (Check::Generate, "exception"));
    assert!(d.contains("no sevens"), "{d}");
}

#[test]
fn check_determinism_rejects_hidden_state() {
    let (c, r, _) = fails(&module(
        "COUNT.append(1); a += len(COUNT)",
        "",
        "COUNT = []",
    ));
    assert_eq!((c, r.as_str()), (Check::Determinism, "nondeterministic"));
}

#[test]
fn check_uniqueness_rejects_constant_instances() {
    let (c, r, _) = fails(&module("a, b = 2, 3", "", ""));
    assert_eq!(
        (c, r.as_str()),
        (Check::Uniqueness, "too_few_distinct_instances")
    );
}

#[test]
fn check_prompt_length_rejects_tiny_prompts() {
    let src = module("", "", "").replace(
        r#""prompt": f"Compute the sum of {a} and {b}; give one integer.","#,
        r#""prompt": f"{a}+{b}","#,
    );
    let (c, r, _) = fails(&src);
    assert_eq!((c, r.as_str()), (Check::PromptLength, "prompt_too_short"));
}

#[test]
fn check_answer_leak_rejects_a_prompt_holding_the_answer() {
    let src = module("", "", "")
        .replace(
            "; give one integer.",
            "; give one integer (it is {10**9 + a + b}).",
        )
        .replace(
            "\"reference\": str(a + b)",
            "\"reference\": str(10**9 + a + b)",
        )
        .replace(
            "int(text) == d[\"a\"] + d[\"b\"]",
            "int(text) == 10**9 + d[\"a\"] + d[\"b\"]",
        );
    let (c, r, _) = fails(&src);
    assert_eq!((c, r.as_str()), (Check::AnswerLeak, "answer_in_prompt"));
}

#[test]
fn check_reference_rejects_a_reference_the_verifier_refuses() {
    let src =
        module("", "", "").replace("\"reference\": str(a + b)", "\"reference\": str(a + b + 1)");
    let (c, r, _) = fails(&src);
    assert_eq!((c, r.as_str()), (Check::Reference, "reference_rejected"));
}

#[test]
fn check_solve_rejects_a_solver_the_verifier_refuses() {
    let (c, r, d) = fails(&module(
        "",
        "",
        "def solve(instance):\n    return str(instance['data']['a'] - instance['data']['b'])",
    ));
    assert_eq!((c, r.as_str()), (Check::Solve, "solution_rejected"));
    assert!(d.contains("solve()"), "{d}");
}

#[test]
fn check_verify_error_rejects_a_verifier_that_raises_on_bad_input() {
    let (c, r, _) = fails(&module("", "int(answer.strip())", ""));
    assert_eq!((c, r.as_str()), (Check::VerifyError, "exception"));
}

#[test]
fn check_reward_range_rejects_rewards_outside_zero_one() {
    let (c, r, _) = fails(&module(
        "",
        "if not answer.strip().isdigit(): return 2.0",
        "",
    ));
    assert_eq!((c, r.as_str()), (Check::RewardRange, "reward_out_of_range"));
}

#[test]
fn check_probes_rejects_a_verifier_that_accepts_wrong_answers() {
    let (c, r, d) = fails(&module("", "return 1.0 if answer.strip() else 0.0", ""));
    assert_eq!(c, Check::Probes);
    assert!(r.starts_with("accepted_"), "{r}");
    assert!(d.contains("reference answer"), "{d}");
}
