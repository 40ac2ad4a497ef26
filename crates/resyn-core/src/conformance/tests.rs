//! The checks that only environments behind the trait can fail (Python
//! modules cannot: the sandbox fills their fields); every other check has a
//! failing Python module in resyn-synth's tests.

use super::*;
use crate::{
    Category, EnvMeta, Environment, ExtractConfig, ReasonCode, Result, Source, Verdict,
    extract_answer, instance_id, wrap_answer,
};

/// A small adder with one configurable flaw.
struct Adder {
    meta: EnvMeta,
    flaw: Flaw,
}

#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    None,
    WrongSeedField,
    NoInstruction,
    AcceptsDifficultyZero,
    InconsistentVerdict,
    HalfCredit,
}

impl Adder {
    fn new(flaw: Flaw) -> Self {
        Self {
            meta: EnvMeta {
                id: "adder".into(),
                version: 1,
                category: Category::Math,
                description: "Add two integers.".into(),
                min_difficulty: 1,
                max_difficulty: 10,
                source: Source::Native,
                calibrated: None,
            },
            flaw,
        }
    }
}

impl Environment for Adder {
    fn meta(&self) -> &EnvMeta {
        &self.meta
    }

    fn generate(&self, seed: u64, difficulty: u8) -> Result<Instance> {
        if self.flaw != Flaw::AcceptsDifficultyZero {
            self.check_difficulty(difficulty)?;
        }
        let mut rng = Rng::for_instance("adder", 1, seed, difficulty);
        let hi = 10i64.pow(u32::from(difficulty.clamp(1, 10)));
        let (a, b) = (rng.range_i64(1, hi), rng.range_i64(1, hi));
        let instruction = if self.flaw == Flaw::NoInstruction {
            "Reply with the number."
        } else {
            crate::ANSWER_INSTRUCTION
        };
        Ok(Instance {
            id: instance_id("adder", 1, seed, difficulty),
            env: "adder".into(),
            env_version: 1,
            seed: if self.flaw == Flaw::WrongSeedField {
                seed + 1
            } else {
                seed
            },
            difficulty,
            prompt: format!("Compute the sum of {a} and {b}.{instruction}"),
            data: serde_json::json!({"a": a, "b": b}),
            reference: wrap_answer(&(a + b).to_string()),
        })
    }

    fn verify(&self, instance: &Instance, response: &str) -> Verdict {
        let answer = match extract_answer(response, &ExtractConfig::default()) {
            Ok(a) => a.text.trim().to_string(),
            Err(e) => return e.into(),
        };
        let sum =
            instance.data["a"].as_i64().unwrap_or(0) + instance.data["b"].as_i64().unwrap_or(0);
        match answer.parse::<i64>() {
            Ok(x) if x == sum => Verdict::correct(),
            Ok(x) if self.flaw == Flaw::HalfCredit && (x - sum).abs() == 1 => {
                Verdict::from_reward(0.5, "off by one")
            }
            _ if self.flaw == Flaw::InconsistentVerdict => Verdict {
                reward: 0.0,
                correct: true,
                reason: ReasonCode::Wrong,
                detail: String::new(),
            },
            _ => Verdict::zero(ReasonCode::Wrong, "not the sum"),
        }
    }
}

fn check(flaw: Flaw, options: &Options<'_>) -> (Vec<Check>, Option<Failure>) {
    let env = Adder::new(flaw);
    let t = Thresholds {
        seeds: 4,
        ..Thresholds::default()
    };
    let (mut passed, mut stats) = (Vec::new(), Stats::default());
    let outcome = run(&Native(&env), &t, options, &mut passed, &mut stats).expect("no infra error");
    (passed, outcome.err())
}

fn failure(flaw: Flaw) -> Failure {
    check(flaw, &Options::default())
        .1
        .expect("the flaw must be caught")
}

#[test]
fn a_correct_environment_passes_every_check() {
    let (passed, failure) = check(Flaw::None, &Options::default());
    assert!(failure.is_none(), "{failure:?}");
    assert_eq!(passed.first(), Some(&Check::Generate));
    assert_eq!(passed.last(), Some(&Check::Probes));
}

#[test]
fn generate_checks_the_instance_fields() {
    let f = failure(Flaw::WrongSeedField);
    assert_eq!(
        (f.check, f.reason.as_str()),
        (Check::Generate, "wrong_fields")
    );
}

#[test]
fn generate_checks_the_answer_instruction() {
    let f = failure(Flaw::NoInstruction);
    assert_eq!(
        (f.check, f.reason.as_str()),
        (Check::Generate, "no_answer_instruction")
    );
}

#[test]
fn generate_checks_that_out_of_range_difficulties_are_refused() {
    let f = failure(Flaw::AcceptsDifficultyZero);
    assert_eq!(
        (f.check, f.reason.as_str()),
        (Check::Generate, "difficulty_out_of_range_accepted")
    );
}

#[test]
fn verify_error_catches_an_inconsistent_verdict() {
    let f = failure(Flaw::InconsistentVerdict);
    assert_eq!(
        (f.check, f.reason.as_str()),
        (Check::VerifyError, "inconsistent_verdict")
    );
}

#[test]
fn partial_credit_must_be_declared() {
    let off_by_one = |i: &Instance, _: &mut Rng| {
        let sum = i.data["a"].as_i64().unwrap_or(0) + i.data["b"].as_i64().unwrap_or(0);
        vec![(sum + 1).to_string()]
    };
    let undeclared = Options {
        wrong: Some(&off_by_one),
        ..Options::default()
    };
    let f = check(Flaw::HalfCredit, &undeclared)
        .1
        .expect("undeclared partial credit");
    assert_eq!(
        (f.check, f.reason.as_str()),
        (Check::RewardRange, "non_binary_reward")
    );
    // Declared, the half reward is in range but still an accepted wrong answer.
    let declared = Options {
        partial_credit: true,
        wrong: Some(&off_by_one),
        ..Options::default()
    };
    let f = check(Flaw::HalfCredit, &declared)
        .1
        .expect("a wrong answer earned credit");
    assert_eq!(
        (f.check, f.reason.as_str()),
        (Check::Probes, "accepted_env_specific_wrong")
    );
    // An oracle that calls off-by-one answers right makes them legitimate.
    let lenient = |_: &Instance, _: &str| true;
    let blessed = Options {
        partial_credit: true,
        wrong: Some(&off_by_one),
        acceptable: Some(&lenient),
        ..Options::default()
    };
    assert!(check(Flaw::HalfCredit, &blessed).1.is_none());
}
