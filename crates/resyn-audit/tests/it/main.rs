//! Auditing the fixture store's environments (`resyn_test::audit`), a
//! directory module and a native environment, response by response.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use resyn_audit::{EnvAudit, Error, Options, Report, Response, SecondStatus, SolveCheck, audit};
use resyn_core::{Instance, ReasonCode};
use resyn_registry::{Loaded, Sources, StoreSource};
use resyn_store::Store;
use resyn_test::audit::{AGREE, HACKED, PLAIN, WRONG_SECOND, add_verifier, audit_store};
use resyn_test::{add_module, store_event, stored_env};

/// A second verifier that raises on negative answers.
const RAISING: &str = "raising_second_add";
/// A second verifier that does not parse.
const UNLOADABLE: &str = "unloadable_second_add";
/// A directory module whose verify() rejects negative sums, which its
/// solve() returns.
const STRICT: &str = "strict_add";
/// A hacked module (like `HACKED`) whose stored tie-breaker does not parse.
const BROKEN_TIE: &str = "broken_tie_add";

fn setup(tmp: &Path) -> Loaded {
    let db = tmp.join("resyn.db");
    audit_store(&db);
    let store = Store::open(&db).unwrap();
    let raising = add_verifier(true).replace(
        "    text = answer.strip()\n",
        "    text = answer.strip()\n    if text.startswith(\"-\"):\n        raise ValueError(\"no negatives here\")\n",
    );
    for (name, second) in [(RAISING, raising), (UNLOADABLE, "def verify(:\n".into())] {
        let row = resyn_store::NewEnvironment {
            validation: serde_json::json!({"cross_verify": {"verifier_code": second}}),
            ..stored_env(name, &add_module(name))
        };
        store.accept(&row, &store_event()).unwrap();
    }
    let hacked = add_module(BROKEN_TIE).replace(
        "return 1.0 if int(text) == d[\"a\"] + d[\"b\"] else 0.0",
        "return 1.0 if abs(int(text)) == abs(d[\"a\"] + d[\"b\"]) else 0.0",
    );
    let row = resyn_store::NewEnvironment {
        validation: serde_json::json!({"cross_verify": {
            "verifier_code": add_verifier(true), "tie_breaker_code": "def verify(:\n"}}),
        ..stored_env(BROKEN_TIE, &hacked)
    };
    store.accept(&row, &store_event()).unwrap();
    drop(store);
    let dir = tmp.join("envs");
    std::fs::create_dir(&dir).unwrap();
    let strict = add_module(STRICT).replace("text.lstrip(\"-\").isdigit()", "text.isdigit()")
        + "\n\ndef solve(instance):\n    d = instance[\"data\"]\n    return str(d[\"a\"] + d[\"b\"])\n";
    std::fs::write(dir.join("strict_add.py"), strict).unwrap();
    Sources {
        env_dirs: vec![dir],
        store: StoreSource::Path(db),
        ..Sources::default()
    }
    .load()
    .unwrap()
}

fn sum(i: &Instance) -> i64 {
    i.data["a"].as_i64().unwrap() + i.data["b"].as_i64().unwrap()
}

fn answer(x: impl std::fmt::Display) -> String {
    format!("<think>adding</think><answer>{x}</answer>")
}

/// For each seed: the right sum, the sum with its sign flipped, the sum
/// plus one, and a response without an answer.
fn responses(loaded: &Loaded, env: &str, seeds: u64) -> Vec<Response> {
    let env = loaded.registry.get(env).unwrap();
    let mut out = Vec::new();
    for seed in 0..seeds {
        let inst = env.generate(seed, 2).unwrap();
        let s = sum(&inst);
        for (k, text) in [answer(s), answer(-s), answer(s + 1), "no idea".into()]
            .into_iter()
            .enumerate()
        {
            out.push(Response {
                instance: inst.clone(),
                response: text,
                origin: format!("{}:{seed}:{k}", inst.env),
            });
        }
    }
    out
}

fn env<'a>(report: &'a Report, id: &str) -> &'a EnvAudit {
    report.environments.iter().find(|e| e.env == id).unwrap()
}

#[test]
fn every_judge_is_compared_and_each_finding_is_counted_and_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let loaded = setup(tmp.path());
    let mut all = Vec::new();
    for id in [
        AGREE,
        HACKED,
        WRONG_SECOND,
        PLAIN,
        RAISING,
        UNLOADABLE,
        STRICT,
        BROKEN_TIE,
    ] {
        all.extend(responses(&loaded, id, 12));
    }
    let sudoku = loaded
        .registry
        .get("sudoku")
        .unwrap()
        .generate(1, 1)
        .unwrap();
    all.push(Response {
        response: sudoku.reference.clone(),
        instance: sudoku,
        origin: "native".into(),
    });
    let report = audit(&loaded, &all, &Options::default()).unwrap();
    assert_eq!(report.responses, all.len());
    let ids: Vec<&str> = report.environments.iter().map(|e| e.env.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "environments in id order");
    assert_eq!(ids.len(), 9);

    // Expected counts, from each environment's own instances.
    let n = 12 * 4;
    let count = |id: &str, f: &dyn Fn(i64) -> bool| {
        let sums: Vec<i64> = all
            .iter()
            .filter(|r| r.instance.env == id)
            .step_by(4)
            .map(|r| sum(&r.instance))
            .collect();
        assert_eq!(sums.len(), 12);
        sums.into_iter().filter(|&s| f(s)).count()
    };
    let negative = |id: &str| count(id, &|s| s < 0);
    let nonzero = |id: &str| count(id, &|s| s != 0);
    for id in [WRONG_SECOND, RAISING, STRICT] {
        let neg = negative(id);
        assert!(
            neg > 0 && neg < 12,
            "{id}: the seeds must give sums of both signs"
        );
    }

    let agree = env(&report, AGREE);
    assert_eq!(agree.second_verifier, SecondStatus::Stored);
    // No disagreement: no tie-breaker is loaded.
    assert_eq!(agree.tie_breaker, SecondStatus::None);
    assert!(agree.has_solve);
    assert_eq!(
        (agree.scored, agree.compared, agree.disagreements),
        (n, n, 0)
    );
    assert_eq!(agree.disagreement_rate, Some(0.0));
    // The right sum, and the flipped one when the sum is zero.
    assert_eq!(agree.solve_matches, 12 + (12 - nonzero(AGREE)));
    assert_eq!(agree.solve_rejections(), 0);
    assert!(!agree.failed && agree.examples.is_empty(), "{agree:?}");

    // The module accepts -(a + b): every flipped non-zero sum is a finding.
    let hacked = env(&report, HACKED);
    let flipped = nonzero(HACKED);
    assert!(flipped > 3);
    assert_eq!(hacked.disagreements, flipped);
    assert_eq!(
        (hacked.module_only_accepts, hacked.second_only_accepts),
        (flipped, 0)
    );
    assert_eq!(hacked.disagreement_rate, Some(flipped as f64 / n as f64));
    // The stored tie-breaker sides with the second verifier every time.
    assert_eq!(hacked.tie_breaker, SecondStatus::Stored);
    assert_eq!(
        (hacked.module_outvoted, hacked.second_outvoted),
        (flipped, 0)
    );
    assert!(hacked.failed && !hacked.has_solve);
    assert_eq!(hacked.examples.len(), 3, "Options::examples");
    let x = &hacked.examples[0];
    assert!(
        x.verify.correct
            && !x.second.as_ref().unwrap().correct
            && !x.tie_breaker.as_ref().unwrap().correct,
        "{x:?}"
    );
    assert_eq!(x.solve, SolveCheck::Unavailable);
    assert!(x.question.starts_with("What is "), "{}", x.question);
    let given: i64 = x.answer.as_deref().unwrap().parse().unwrap();
    let inst = all.iter().find(|r| r.instance.id == x.instance).unwrap();
    assert_eq!(given, -sum(&inst.instance));
    assert!(
        x.origin.starts_with("hacked_add:") && x.origin.ends_with(":1"),
        "{}",
        x.origin
    );

    // The second verifier rejects correct negative sums; solve() proves them.
    let wrong = env(&report, WRONG_SECOND);
    let wrong_negative = negative(WRONG_SECOND);
    assert_eq!(wrong.disagreements, wrong_negative);
    assert_eq!(
        (wrong.module_only_accepts, wrong.second_only_accepts),
        (wrong_negative, 0)
    );
    assert_eq!(
        (
            wrong.solve_rejected_by_module,
            wrong.solve_rejected_by_second
        ),
        (0, wrong_negative)
    );
    // Here the tie-breaker sides with verify(): the second verifier is outvoted.
    assert_eq!(
        (wrong.module_outvoted, wrong.second_outvoted),
        (0, wrong_negative)
    );
    assert!(wrong.failed);
    assert!(
        wrong
            .examples
            .iter()
            .all(|x| x.solve == SolveCheck::Equal && x.verify.correct)
    );

    // A tie-breaker that does not load: every disagreement counts an error.
    let broken = env(&report, BROKEN_TIE);
    assert_eq!(broken.tie_breaker, SecondStatus::Unloadable);
    assert_eq!(broken.disagreements, nonzero(BROKEN_TIE));
    assert_eq!(broken.errors.tie_breaker, broken.disagreements);
    assert_eq!((broken.module_outvoted, broken.second_outvoted), (0, 0));
    assert!(
        broken
            .errors
            .first
            .as_deref()
            .unwrap()
            .starts_with("tie-breaker:"),
        "{:?}",
        broken.errors
    );
    assert!(broken.examples.iter().all(|x| x.tie_breaker.is_none()));

    // No second verifier: no rate, no failure, not an error.
    let plain = env(&report, PLAIN);
    assert_eq!(plain.second_verifier, SecondStatus::None);
    assert_eq!(
        (plain.scored, plain.compared, plain.disagreement_rate),
        (n, 0, None)
    );
    assert!(!plain.failed && plain.errors.first.is_none());
    let native = env(&report, "sudoku");
    assert_eq!(native.second_verifier, SecondStatus::None);
    assert!(!native.has_solve && !native.failed);

    // A second verifier that raises is counted apart, never compared.
    let raising = env(&report, RAISING);
    // Negative answers: right sums below 0, flipped sums above 0, sums + 1 below 0.
    let negative_answers =
        negative(RAISING) + count(RAISING, &|s| s > 0) + count(RAISING, &|s| s + 1 < 0);
    assert_eq!(raising.errors.second, negative_answers);
    assert_eq!(raising.compared, n - negative_answers);
    assert_eq!(raising.disagreements, 0);
    assert!(!raising.failed);
    assert!(
        raising
            .errors
            .first
            .as_deref()
            .unwrap()
            .contains("no negatives here"),
        "{:?}",
        raising.errors
    );

    // One that does not load is reported, not compared, not a failure.
    let unloadable = env(&report, UNLOADABLE);
    assert_eq!(unloadable.second_verifier, SecondStatus::Unloadable);
    assert_eq!((unloadable.errors.second, unloadable.compared), (n, 0));
    assert!(!unloadable.failed);
    assert!(
        unloadable
            .errors
            .first
            .as_deref()
            .unwrap()
            .starts_with("second verifier:")
    );

    // Without a second verifier, solve() still catches a verify() that
    // rejects its own answers.
    let strict = env(&report, STRICT);
    assert_eq!(strict.second_verifier, SecondStatus::None);
    assert_eq!(strict.solve_rejected_by_module, negative(STRICT));
    assert!(strict.failed);
    let x = &strict.examples[0];
    assert_eq!(
        (x.solve, x.verify.reason),
        (SolveCheck::Equal, ReasonCode::Wrong)
    );

    assert!(report.failed);
    let table = report.table();
    let row = |id: &str| -> Vec<&str> {
        let line = table
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no row for {id} in\n{table}"));
        line.split_whitespace().collect()
    };
    assert_eq!(
        row(AGREE),
        [
            "agree_add",
            "synth",
            "stored",
            "48",
            "48",
            "0",
            "0.00%",
            "0",
            "0",
            "ok"
        ]
    );
    let rate = format!("{:.2}%", flipped as f64 / n as f64 * 100.0);
    assert_eq!(
        row(HACKED)[5..],
        [&*flipped.to_string(), &rate, "-", "0", "FAIL"]
    );
    assert_eq!(
        row(PLAIN)[2..],
        [
            "none", "48", "-", "-", "-", "-", "0", "no", "second", "verifier"
        ]
    );
    assert_eq!(row(UNLOADABLE).last(), Some(&"unloadable"));
    assert!(
        table.contains(&format!(
            "hacked_add:\n  disagreements: {flipped} of {n} compared"
        )),
        "{table}"
    );
    assert!(
        table.contains("    verify(): accepted   second verifier: rejected (wrong)   solve(): -"),
        "{table}"
    );
    assert!(
        table.contains("  solve(): of 12 answers equal to its own, verify() rejected"),
        "{table}"
    );
    assert!(
        !table.contains("Traceback"),
        "errors show their first line only:\n{table}"
    );
    assert!(
        !table.contains("Reason step by step"),
        "no answer instruction in questions:\n{table}"
    );
}

#[test]
fn the_threshold_sets_what_fails_but_solve_rejections_always_do() {
    let tmp = tempfile::tempdir().unwrap();
    let loaded = setup(tmp.path());
    let mut all = responses(&loaded, HACKED, 6);
    all.extend(responses(&loaded, WRONG_SECOND, 12));
    let lenient = Options {
        max_disagreement: 0.5,
        examples: 1,
    };
    let report = audit(&loaded, &all, &lenient).unwrap();
    let hacked = env(&report, HACKED);
    assert!(hacked.disagreements > 0 && !hacked.failed, "{hacked:?}");
    assert_eq!(hacked.examples.len(), 1);
    assert!(env(&report, WRONG_SECOND).failed);
    assert!(report.failed);
    let report = audit(&loaded, &responses(&loaded, HACKED, 6), &lenient).unwrap();
    assert!(!report.failed);
}

#[test]
fn questions_of_instances_rebuilt_from_ground_truth_are_regenerated() {
    let tmp = tempfile::tempdir().unwrap();
    let loaded = setup(tmp.path());
    let mut rs = responses(&loaded, HACKED, 4);
    let prompt = rs[0].instance.prompt.clone();
    for r in &mut rs {
        r.instance.prompt.clear();
        r.instance.reference.clear();
    }
    let report = audit(&loaded, &rs, &Options::default()).unwrap();
    let x = &env(&report, HACKED).examples[0];
    let flat = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.starts_with(x.question.trim_end_matches('…')),
        "{} / {flat}",
        x.question
    );
    assert!(x.question.len() > 20, "{}", x.question);
}

#[test]
fn unknown_environments_and_other_versions_name_the_response() {
    let tmp = tempfile::tempdir().unwrap();
    let loaded = setup(tmp.path());
    let mut rs = responses(&loaded, AGREE, 1);
    rs[2].instance.env_version = 7;
    let err = audit(&loaded, &rs, &Options::default()).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Version {
                version: 7,
                current: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().starts_with("agree_add:0:2: "), "{err}");
    rs[2].instance.env = "gone_env".into();
    let err = audit(&loaded, &rs, &Options::default()).unwrap_err();
    assert!(
        err.to_string().contains("unknown environment `gone_env`"),
        "{err}"
    );
}
