//! Well-behaved environments through the shared conformance harness, plus
//! determinism checks.

use resyn_core::Environment;
use resyn_core::testing::Conformance;
use resyn_sandbox::{Error, PythonEnv, validate};

use crate::common::{load, sandbox};

#[test]
fn fixture_passes_conformance_and_validation() {
    let env = load("good/add.py");
    let report = Conformance::new(&env).seeds(8).run();
    assert_eq!(report.instances, 80);
    let v = validate(&env, 0..5, 1..=10).unwrap();
    assert_eq!(v.instances, 50);
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
    let e = validate(&env, 0..3, 1..=1).unwrap_err();
    assert!(matches!(e, Error::NonDeterministic { .. }), "{e}");
    assert!(e.to_string().contains("`prompt` differs"), "{e}");
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
    validate(&env, 0..5, 1..=2).unwrap();
}

#[test]
fn solve_is_checked_by_validation() {
    let src = r#"
NAME = "badsolve"
CATEGORY = "math"
DESCRIPTION = "solve() disagrees with verify()."

def generate(rng, difficulty):
    return {"prompt": "Say 1.", "data": 1}

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
    let e = validate(&env, 0..4, 1..=1).unwrap_err();
    assert!(e.to_string().contains("reference answer of seed 1"), "{e}");
}

#[test]
fn bundled_python_envs_pass_conformance_and_validation() {
    let dir = crate::common::repo_root().join("envs/python");
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
        let report = Conformance::new(env).seeds(6).run();
        assert!(report.rejected > 0);
        let v = validate(env, 0..4, 1..=10).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.solved, 40);
    }
}

#[test]
fn the_documented_example_passes() {
    let doc =
        std::fs::read_to_string(crate::common::repo_root().join("docs/python-environments.md"))
            .unwrap();
    let start = doc.find("```python\n").expect("a python block") + "```python\n".len();
    let len = doc[start..].find("```").unwrap();
    let env = PythonEnv::from_source(
        "robot_walk_mini.py",
        doc[start..start + len].to_string(),
        sandbox(),
    )
    .unwrap();
    assert_eq!(env.meta().id, "robot_walk_mini");
    Conformance::new(&env).seeds(5).run();
    validate(&env, 0..3, 1..=10).unwrap();
}
