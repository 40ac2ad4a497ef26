//! Python environments under the conformance checks (the one definition of
//! a valid environment): through the trait, and as a typed subject whose
//! determinism check runs on a fresh worker.

use std::ops::RangeInclusive;

use resyn_core::Environment;
use resyn_core::conformance::{self, Check, Failure, Options, Stats, Thresholds};
use resyn_core::testing::Conformance;
use resyn_sandbox::PythonEnv;

use crate::common::{load, sandbox};

/// The checks that passed, the measurements, and the first failure if any.
fn validate(
    env: &PythonEnv,
    seeds: u64,
    difficulties: RangeInclusive<u8>,
) -> (Vec<Check>, Stats, Option<Failure>) {
    let thresholds = Thresholds {
        seeds,
        ..Thresholds::default()
    };
    let options = Options {
        partial_credit: true,
        difficulties: Some(difficulties),
        ..Options::default()
    };
    let (mut passed, mut stats) = (Vec::new(), Stats::default());
    let outcome = conformance::run(env, &thresholds, &options, &mut passed, &mut stats)
        .unwrap_or_else(|e| panic!("{e}"));
    (passed, stats, outcome.err())
}

/// [`validate`] that must pass.
fn passes(env: &PythonEnv, seeds: u64, difficulties: RangeInclusive<u8>) -> Stats {
    let (_, stats, failure) = validate(env, seeds, difficulties);
    assert!(failure.is_none(), "{}: {failure:?}", env.meta().id);
    stats
}

#[test]
fn fixture_passes_conformance_and_validation() {
    let env = load("good/add.py");
    let report = Conformance::new(&env).seeds(8).run();
    assert_eq!(report.instances, 80);
    assert_eq!(passes(&env, 5, 1..=10).instances, 50);
}

#[test]
fn instances_are_seeded_from_the_shared_rng() {
    // The module's rng is random.Random(Rng::for_instance(NAME, VERSION, seed, d).next_u64()).
    let src = r#"
NAME = "draw"
CATEGORY = "math"
DESCRIPTION = "Shows its first random draw."
VERSION = 3

def generate(rng, difficulty):
    x = repr(rng.random())
    return {"prompt": x, "data": x, "reference": x}

def verify(instance, answer):
    return answer.strip() == instance["data"]
"#;
    let env = PythonEnv::from_source("draw.py", src.into(), sandbox()).unwrap();
    let inst = env.generate(42, 3).unwrap();
    let seed = resyn_core::Rng::for_instance("draw", 3, 42, 3).next_u64();
    let expect = std::process::Command::new("python3")
        .args([
            "-c",
            &format!("import random; print(repr(random.Random({seed}).random()))"),
        ])
        .output()
        .expect("host python3");
    assert_eq!(
        inst.data.as_str().unwrap(),
        String::from_utf8_lossy(&expect.stdout).trim()
    );
    assert_eq!(inst.id, resyn_core::instance_id("draw", 3, 42, 3));
    assert_eq!(inst.env_version, 3);
    assert!(inst.prompt.ends_with(resyn_core::ANSWER_INSTRUCTION));
}

#[test]
fn hidden_state_is_caught_as_non_determinism() {
    let src = r#"
NAME = "counter"
CATEGORY = "math"
DESCRIPTION = "Leaks state between calls."
CALLS = [0]

def generate(rng, difficulty):
    CALLS[0] += 1
    return {"prompt": "Say %d." % CALLS[0], "data": CALLS[0], "reference": str(CALLS[0])}

def verify(instance, answer):
    return answer.strip() == str(instance["data"])
"#;
    let env = PythonEnv::from_source("counter.py", src.into(), sandbox()).unwrap();
    let (_, _, failure) = validate(&env, 3, 1..=1);
    let f = failure.expect("hidden state must be caught");
    assert_eq!(
        (f.check, f.reason.as_str()),
        (Check::Determinism, "nondeterministic")
    );
    assert!(f.detail.contains("`prompt` differs"), "{f}");
}

#[test]
fn hash_order_is_fixed_and_set_iteration_is_deterministic() {
    let src = r#"
NAME = "sets"
CATEGORY = "logic"
DESCRIPTION = "Iterates a set of strings."

def generate(rng, difficulty):
    words = {"w%d" % rng.randint(0, 10 ** 6) for _ in range(30)}
    order = ",".join(words)
    return {"prompt": order, "data": order, "reference": order}

def verify(instance, answer):
    return answer.strip() == instance["data"]
"#;
    let env = PythonEnv::from_source("sets.py", src.into(), sandbox()).unwrap();
    // (The module then fails the answer-leak check: its prompt is its answer.)
    let (passed, _, _) = validate(&env, 5, 1..=2);
    assert!(passed.contains(&Check::Determinism), "{passed:?}");
}

#[test]
fn solve_is_checked_by_validation() {
    let src = r#"
NAME = "badsolve"
CATEGORY = "math"
DESCRIPTION = "solve() disagrees with verify()."

def generate(rng, difficulty):
    return {"prompt": "Say 1 (request %d)." % rng.randint(0, 10 ** 9), "data": 1}

def solve(instance):
    return "1" if instance["seed"] % 2 == 0 else "2"

def verify(instance, answer):
    return answer.strip() == "1"
"#;
    let env = PythonEnv::from_source("badsolve.py", src.into(), sandbox()).unwrap();
    assert!(env.has_solve());
    // Without a reference, solve's output is the reference.
    let inst = env.generate(0, 1).unwrap();
    assert_eq!(inst.reference, resyn_core::wrap_answer("1"));
    let (_, _, failure) = validate(&env, 4, 1..=1);
    let f = failure.expect("solve() disagreeing with verify() must fail");
    assert_eq!(f.check, Check::Reference, "{f}");
    assert!(f.detail.contains("reference answer of seed 1"), "{f}");
}

/// The bundled corpus loads, with a solver in every module and every
/// category covered. (Whether each module is *valid* is `resyn validate`'s
/// question, asked of the whole corpus by the CLI tests and
/// tests/python/test_corpus.py.)
#[test]
fn bundled_python_envs_load_with_solvers_in_every_category() {
    let dir = resyn_test::repo_path("envs/python");
    let envs: Vec<PythonEnv> = resyn_sandbox::load_dir(&dir, sandbox())
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let mut categories: Vec<_> = envs.iter().map(|e| e.meta().category).collect();
    categories.sort();
    categories.dedup();
    assert_eq!(categories.len(), 5, "one environment per category");
    for env in &envs {
        assert_eq!(env.meta().source, resyn_core::Source::Python);
        assert!(env.has_solve(), "{}", env.meta().id);
        let inst = env.generate(1, 5).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            env.verify(&inst, &inst.reference).correct,
            "{}",
            env.meta().id
        );
    }
}

#[test]
fn the_documented_example_passes() {
    let doc =
        std::fs::read_to_string(resyn_test::repo_path("docs/python-environments.md")).unwrap();
    let example = doc
        .find("## A complete example")
        .expect("the example section");
    let start =
        example + doc[example..].find("```python\n").expect("a python block") + "```python\n".len();
    let len = doc[start..].find("```").unwrap();
    let env = PythonEnv::from_source(
        "robot_walk_mini.py",
        doc[start..start + len].to_string(),
        sandbox(),
    )
    .unwrap();
    assert_eq!(env.meta().id, "robot_walk_mini");
    Conformance::new(&env).seeds(5).run();
    passes(&env, 3, 1..=10);
}
