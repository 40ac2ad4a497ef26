//! Untrusted rewards and malformed generate results.

use resyn_core::{Environment, ReasonCode};
use resyn_sandbox::{Error, PythonEnv};

use crate::common::{generate_error_at, sandbox};

const REWARDS: &str = r#"
NAME = "rewards"
CATEGORY = "math"
DESCRIPTION = "Returns whatever reward the answer asks for."

def generate(rng, difficulty):
    return {"prompt": "Pick a reward.", "data": {"k": 1}, "reference": "one"}

def verify(instance, answer):
    a = answer.strip()
    table = {
        "one": 1.0, "true": True, "false": False, "half": 0.5, "int1": 1,
        "nan": float("nan"), "inf": float("inf"), "big": 1.5, "neg": -0.5,
        "str": "yes", "none": None, "huge": 10 ** 400,
    }
    if a == "raise":
        raise ValueError("cannot parse " + a)
    if a == "mutate":
        instance["data"]["k"] = 99
        return 0.0
    if a == "k":
        return 1.0 if instance["data"]["k"] == 1 else 0.0
    return table[a]
"#;

#[test]
fn untrusted_rewards_become_verdicts() {
    let env = PythonEnv::from_source("rewards.py", REWARDS.into(), sandbox()).unwrap();
    let inst = env.generate(0, 1).unwrap();
    let cases: &[(&str, f64, ReasonCode, &str)] = &[
        ("one", 1.0, ReasonCode::Ok, ""),
        ("true", 1.0, ReasonCode::Ok, ""),
        ("int1", 1.0, ReasonCode::Ok, ""),
        ("false", 0.0, ReasonCode::Wrong, "rejected"),
        ("half", 0.5, ReasonCode::Partial, "partial"),
        ("nan", 0.0, ReasonCode::EnvError, "nan"),
        ("inf", 0.0, ReasonCode::EnvError, "inf"),
        ("big", 0.0, ReasonCode::EnvError, "1.5"),
        ("neg", 0.0, ReasonCode::EnvError, "-0.5"),
        ("str", 0.0, ReasonCode::EnvError, "str"),
        ("none", 0.0, ReasonCode::EnvError, "NoneType"),
        ("huge", 0.0, ReasonCode::EnvError, "not a reward"),
        (
            "raise",
            0.0,
            ReasonCode::EnvError,
            "ValueError: cannot parse raise",
        ),
        ("missing", 0.0, ReasonCode::EnvError, "KeyError"),
    ];
    let responses: Vec<String> = cases
        .iter()
        .map(|c| format!("<answer>{}</answer>", c.0))
        .collect();
    let items: Vec<_> = responses.iter().map(|r| (&inst, r.as_str())).collect();
    let verdicts = env.verify_batch(&items);
    for (v, (answer, reward, reason, detail)) in verdicts.iter().zip(cases) {
        assert_eq!((v.reward, v.reason), (*reward, *reason), "{answer}: {v:?}");
        assert!(v.detail.contains(detail), "{answer}: {:?}", v.detail);
    }
    // No answer block: never reaches Python.
    assert_eq!(env.verify(&inst, "one").reason, ReasonCode::NoAnswer);
    // An instance of another environment.
    let mut other = inst.clone();
    other.env = "elsewhere".into();
    assert_eq!(
        env.verify(&other, "<answer>one</answer>").reason,
        ReasonCode::InvalidInstance
    );
}

#[test]
fn a_verifier_mutating_its_instance_does_not_affect_other_items() {
    let env = PythonEnv::from_source("rewards.py", REWARDS.into(), sandbox()).unwrap();
    let inst = env.generate(0, 1).unwrap();
    let v = env.verify_batch(&[
        (&inst, "<answer>mutate</answer>"),
        (&inst, "<answer>k</answer>"),
    ]);
    assert!(v[1].correct, "{:?}", v[1]);
}

const SHAPES: &str = r#"
NAME = "shapes"
CATEGORY = "logic"
DESCRIPTION = "Returns malformed instances on purpose."

def generate(rng, difficulty):
    bad = {
        1: ["not", "a", "dict"],
        2: {"prompt": "p", "data": 1, "reference": "r", "refernce": "typo"},
        3: {"prompt": "p", "data": {1, 2}, "reference": "r"},
        4: {"prompt": "p", "data": {1: "int key"}, "reference": "r"},
        5: {"prompt": "p", "data": 2 ** 70, "reference": "r"},
        6: {"prompt": "", "data": 1, "reference": "r"},
        7: {"prompt": "p", "data": 1},
        8: {"prompt": "p", "data": float("nan"), "reference": "r"},
        9: {"prompt": "p", "data": 1, "reference": 42},
        10: {"prompt": "fine", "data": [1, 2.5, None, True, "s"], "reference": "r"},
    }
    return bad[difficulty]

def verify(instance, answer):
    return 0.0
"#;

#[test]
fn malformed_generate_results_are_bad_returns() {
    let env = PythonEnv::from_source("shapes.py", SHAPES.into(), sandbox()).unwrap();
    let reqs: Vec<(u64, u8)> = (1..=10).map(|d| (0, d)).collect();
    let b = env.try_generate_batch(&reqs, false);
    let expect = [
        "must return a dict",
        "unknown key(s) 'refernce'",
        "type set is not JSON",
        "keys must be str",
        "does not fit in 64 bits",
        "non-empty str",
        "no 'reference' and the module defines no solve",
        "not a finite number",
        "'reference'] must be a str",
    ];
    for (r, want) in b.results.iter().zip(expect) {
        match r {
            Err(e @ Error::BadReturn { .. }) => {
                assert!(e.to_string().contains(want), "want {want:?}: {e}")
            }
            other => panic!("want {want:?}, got {other:?}"),
        }
    }
    let ok = b.results[9].as_ref().unwrap();
    assert_eq!(
        ok.instance.data,
        serde_json::json!([1, 2.5, null, true, "s"])
    );
    assert!(env.generate(0, 0).is_err() && env.generate(0, 11).is_err());
}

#[test]
fn unpaired_surrogates_in_output_do_not_break_the_protocol() {
    let src = r#"
NAME = "surrogates"
CATEGORY = "logic"
DESCRIPTION = "Prints and raises text with unpaired surrogates."

def generate(rng, difficulty):
    if difficulty == 2:
        return {"prompt": "bad \ud800", "data": 1, "reference": "ok"}
    return {"prompt": "Say ok.", "data": 1, "reference": "ok"}

def verify(instance, answer):
    print("noise \udc00")
    if answer.strip() == "raise":
        raise ValueError("bad \ud800 value")
    return answer.strip() == "ok"
"#;
    let env = PythonEnv::from_source("surrogates.py", src.into(), sandbox()).unwrap();
    let inst = env.generate(0, 1).unwrap();
    let b = env.try_verify_batch(&[
        (&inst, "<answer>ok</answer>"),
        (&inst, "<answer>raise</answer>"),
    ]);
    assert_eq!(b.results[0].as_ref().unwrap().as_ref().unwrap(), &1.0);
    assert!(b.stdout.contains("noise ?"), "{:?}", b.stdout);
    let e = b.results[1].as_ref().unwrap_err().to_string();
    assert!(e.contains("ValueError: bad ? value"), "{e}");
    let e = generate_error_at(&env, 0, 2);
    assert!(
        matches!(e, Error::BadReturn { .. }) && e.to_string().contains("surrogate"),
        "{e}"
    );
}

/// Through the `Environment` trait, a failed generation keeps the sandbox's
/// own error as its source (a caller can tell an exception from a timeout)
/// and still says in its message what was raised.
#[test]
fn generation_errors_keep_the_sandbox_error_as_their_source() {
    let src = r#"
NAME = "raises"
CATEGORY = "math"
DESCRIPTION = "Generation raises at difficulty 2."

def generate(rng, difficulty):
    if difficulty == 2:
        raise ValueError("no level two")
    return {"prompt": "Say ok.", "data": 1, "reference": "ok"}

def verify(instance, answer):
    return answer.strip() == "ok"
"#;
    let env = PythonEnv::from_source("raises.py", src.into(), sandbox()).unwrap();
    let e = env.generate(7, 2).unwrap_err();
    assert!(
        matches!(&e, resyn_core::Error::Generation { env, seed: 7, difficulty: 2, .. } if env == "raises"),
        "{e:?}"
    );
    let source = std::error::Error::source(&e).expect("the sandbox error is kept");
    match source.downcast_ref::<Error>() {
        Some(Error::Exception { exception, .. }) => {
            assert_eq!(exception.type_name, "ValueError");
            assert_eq!(exception.message, "no level two");
        }
        other => panic!("expected a sandbox exception, got {other:?}"),
    }
    let text = e.to_string();
    assert!(
        text.starts_with("environment `raises` failed to generate (seed 7, difficulty 2): ")
            && text.contains("ValueError: no level two"),
        "{text}"
    );
    // The chain names the cause once.
    assert_eq!(resyn_core::error_chain(&e), text);
}
