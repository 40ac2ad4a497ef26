//! Behavioural dedup against known environments, in both directions: the
//! known verifier on the candidate's instances, and the candidate's verifier
//! on the known environment's instances.

use std::sync::Arc;

use resyn_core::{Environment, Instance};
use resyn_llm::test_server::TestServer;
use resyn_sandbox::PythonEnv;
use resyn_store::{Candidate, CandidateStatus, NewEnvironment, Store};
use resyn_synth::code_hash;
use resyn_synth::dedup::{Fingerprint, Shape};
use resyn_synth::replay::{Replay, fixture_code};

use crate::common::fast_sandbox;
use crate::pipeline::{config, outcome, run_against};

/// The strict one: sorted integers separated by single spaces, nothing else.
fn sort_ints() -> String {
    fixture_code("http_flaky").unwrap()
}

fn load(code: &str) -> PythonEnv {
    PythonEnv::from_source("known.py", code.to_string(), fast_sandbox()).unwrap()
}

/// Three instances per level, as dedup samples a known environment.
fn instances(code: &str) -> Vec<Instance> {
    let env = load(code);
    let m = env.meta();
    let requests: Vec<(u64, u8)> = (m.min_difficulty..=m.max_difficulty)
        .flat_map(|d| (0..3).map(move |s| (s, d)))
        .collect();
    env.generate_batch(&requests)
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// The fingerprint `code` is stored with; `shape: false` as stores written
/// before answer shapes were recorded have it.
fn fingerprint(code: &str, shape: bool) -> Fingerprint {
    let inst = instances(code);
    let fp = Fingerprint::new(
        load(code).meta().description.as_str(),
        inst.iter().map(|i| i.prompt.as_str()),
    );
    if shape { fp.with_shape(&inst) } else { fp }
}

fn stored(name: &str, code: &str, fp: &Fingerprint) -> NewEnvironment {
    NewEnvironment {
        name: name.into(),
        version: 1,
        content_hash: code_hash(code),
        category: "algorithmic".into(),
        description: String::new(),
        code: code.into(),
        provenance: serde_json::json!({}),
        validation: serde_json::json!({}),
        calibration: None,
        fingerprint: serde_json::to_value(fp).unwrap(),
        run_id: None,
        candidate_id: None,
    }
}

/// The detail of `c`'s rejection as a behavioural duplicate; fails when it
/// was not rejected so.
fn duplicate_detail<'a>(c: &'a Candidate, context: &str) -> &'a str {
    assert_eq!(
        (c.status, c.stage.as_str(), c.reason.as_str()),
        (CandidateStatus::Rejected, "dedup", "behavioural_duplicate"),
        "{context}{c:?}"
    );
    &c.detail
}

fn passed_dedup(store: &Store, c: &Candidate) -> bool {
    store
        .stage_events(c.id)
        .unwrap()
        .iter()
        .any(|e| e.stage == "dedup" && e.passed)
}

/// The known verifier wants one exact layout and rejects the candidate's
/// comma-separated references, so only the reverse direction sees that the
/// candidate's verifier accepts the known references: the same task, checked
/// more leniently. Known as a stored module (instances generated on demand)
/// and as a native environment (instances generated up front).
#[test]
fn a_lenient_restatement_of_a_known_task_is_a_behavioural_duplicate() {
    let server = TestServer::builder().workers(2).start(Replay::new());
    let cfg = config(&server.base_url());
    let strict = sort_ints();
    let as_stored = vec![stored(
        "sort_ints_fixture",
        &strict,
        &fingerprint(&strict, true),
    )];
    let as_native: Vec<Arc<dyn Environment>> = vec![Arc::new(load(&strict))];
    for (known, natives) in [(as_stored, Vec::new()), (Vec::new(), as_native)] {
        let native = !natives.is_empty();
        let (_d, store, run) = run_against(&cfg, "fixture theta", &known, natives);
        let c = outcome(&store, run, "lenient_sort");
        let detail = duplicate_detail(&c, &format!("native: {native}: "));
        let theirs =
            "`sort_ints_fixture`'s reference answers on `sort_ints_fixture`'s own instances";
        assert!(
            detail.starts_with("this environment's verifier accepts") && detail.contains(theirs),
            "native: {native}: {detail}"
        );
    }
}

/// Ascending and descending order: same data, same answer shapes, so they
/// are compared, but neither verifier accepts the other's answers.
#[test]
fn different_tasks_with_resembling_answers_are_not_duplicates() {
    let descending = include_str!("../fixtures/llm/order_descending.py");
    let strict = sort_ints();
    assert!(
        Shape::of(&instances(&strict)).resembles(&Shape::of(&instances(descending))),
        "the test needs shapes that resemble"
    );
    let server = TestServer::builder().workers(2).start(Replay::new());
    let cfg = config(&server.base_url());
    let known = stored("sort_ints_fixture", &strict, &fingerprint(&strict, true));
    let (_d, store, run) = run_against(&cfg, "fixture iota", &[known], Vec::new());
    let c = outcome(&store, run, "descending_sort");
    assert!(passed_dedup(&store, &c), "{c:?}");
    assert_eq!(c.status, CandidateStatus::Accepted, "{c:?}");
}

/// A store written before answer shapes were recorded: its environment is
/// now compared by behaviour too (its shape taken from generated instances),
/// so a paraphrase of it is rejected.
#[test]
fn a_stored_environment_without_a_recorded_shape_is_compared_by_behaviour() {
    let depth = fixture_code("chatter_good").unwrap();
    let fp = fingerprint(&depth, false);
    assert_eq!(fp.shape, Shape::default());
    let server = TestServer::builder().workers(2).start(Replay::new());
    let cfg = config(&server.base_url());
    let known = stored("bracket_depth_fixture", &depth, &fp);
    let (_d, store, run) = run_against(&cfg, "fixture kappa", &[known], Vec::new());
    let c = outcome(&store, run, "depth_paraphrase");
    let detail = duplicate_detail(&c, "");
    assert!(
        detail.starts_with("the verifier of `bracket_depth_fixture` accepts"),
        "{detail}"
    );
}

/// Stored modules that no longer load or generate get no behavioural
/// comparison: the run goes on and the candidate is not rejected for them.
#[test]
fn known_modules_that_cannot_generate_neither_crash_dedup_nor_reject() {
    let strict = sort_ints();
    let fp = fingerprint(&strict, true);
    // A copy of the strict task that raises in generate(), stored with the
    // shape it had when it still generated, and one that does not parse,
    // stored without a shape.
    let raises = strict
        .replace("sort_ints_fixture", "sort_ints_raises")
        .replace(
            "def generate(rng, difficulty):\n",
            "def generate(rng, difficulty):\n    raise RuntimeError(\"gone\")\n",
        );
    let broken = strict
        .replace("sort_ints_fixture", "sort_ints_broken")
        .replace(
            "def verify(instance, answer):",
            "def verify(instance, answer)",
        );
    assert!(raises.contains("RuntimeError") && broken.contains("answer)\n"));
    let known = [
        stored("sort_ints_raises", &raises, &fp),
        stored(
            "sort_ints_broken",
            &broken,
            &Fingerprint {
                shape: Shape::default(),
                ..fp.clone()
            },
        ),
    ];
    let server = TestServer::builder().workers(2).start(Replay::new());
    let cfg = config(&server.base_url());
    let (_d, store, run) = run_against(&cfg, "fixture theta", &known, Vec::new());
    let c = outcome(&store, run, "lenient_sort");
    assert!(passed_dedup(&store, &c), "{c:?}");
    assert_eq!(c.status, CandidateStatus::Accepted, "{c:?}");
}
