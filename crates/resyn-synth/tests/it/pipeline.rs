//! The pipeline as a library, against the replay server: calibration with a
//! solver endpoint, and decontamination.

use std::sync::Arc;

use resyn_core::Environment;
use resyn_llm::test_server::TestServer;
use resyn_store::{Accepted, CandidateStatus, NewEnvironment, StageEvent, Store};
use resyn_synth::keywords::{Keyword, order};
use resyn_synth::replay::Replay;
use resyn_synth::validate::{Thresholds, ValidationConfig, Validator};
use resyn_synth::{Pipeline, Quiet, SynthConfig, create_run};

use crate::common::fast_sandbox;

pub(crate) fn config(url: &str) -> SynthConfig {
    SynthConfig {
        base_url: url.into(),
        model: "fixture-model".into(),
        target: 10,
        concurrency: 4,
        repair_rounds: 1,
        retry_base_ms: 10,
        validation: ValidationConfig {
            thresholds: Thresholds {
                seeds: 4,
                ..Thresholds::default()
            },
            ..ValidationConfig::default()
        },
        ..SynthConfig::default()
    }
}

fn keyword(k: &str) -> Vec<Keyword> {
    order(
        vec![Keyword {
            keyword: k.into(),
            category: resyn_core::Category::Math,
        }],
        0,
    )
}

fn run(cfg: &SynthConfig) -> (tempfile::TempDir, Arc<Store>, i64) {
    run_keyword(cfg, "fixture alpha")
}

fn run_keyword(cfg: &SynthConfig, kw: &str) -> (tempfile::TempDir, Arc<Store>, i64) {
    run_against(cfg, kw, &[], Vec::new())
}

/// A run of keyword `kw` in a store that already holds `stored`, with
/// `natives` as the environments outside the store.
pub(crate) fn run_against(
    cfg: &SynthConfig,
    kw: &str,
    stored: &[NewEnvironment],
    natives: Vec<Arc<dyn Environment>>,
) -> (tempfile::TempDir, Arc<Store>, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("s.db")).unwrap());
    for env in stored {
        let ev = StageEvent {
            stage: "store".into(),
            passed: true,
            reason: "ok".into(),
            detail: String::new(),
            round: 0,
        };
        assert!(matches!(
            store.accept(env, &ev).unwrap(),
            Accepted::Stored(_)
        ));
    }
    let run = create_run(&store, cfg, &keyword(kw)).unwrap();
    let validator = Validator::new(fast_sandbox().clone(), cfg.validation.clone());
    let p =
        Arc::new(Pipeline::new(store.clone(), run, validator, natives, Arc::new(Quiet)).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(p.run()).unwrap();
    assert_eq!(s.pending, 0);
    (dir, store, run)
}

pub(crate) fn outcome(store: &Store, run: i64, key: &str) -> resyn_store::Candidate {
    store
        .candidates(run)
        .unwrap()
        .into_iter()
        .find(|c| c.title.contains(&format!("[fixture:{key}]")))
        .unwrap()
}

#[test]
fn calibration_keeps_falling_solve_rates_and_stores_the_curve() {
    let server = TestServer::builder().workers(2).start(Replay::new());
    let cfg = SynthConfig {
        solver_base_url: Some(server.base_url()),
        solver_model: Some("solver".into()),
        calibration_samples: 3,
        ..config(&server.base_url())
    };
    let (_d, store, run) = run(&cfg);
    let modexp = outcome(&store, run, "good_modexp");
    assert_eq!(modexp.status, CandidateStatus::Accepted, "{modexp:?}");
    let env = store.environment("modexp_fixture").unwrap();
    let cal = env.env.calibration.unwrap();
    assert_eq!(cal["passed"], true, "{cal}");
    assert_eq!(cal["curve"].as_array().unwrap().len(), 10);
    assert!(cal["p_value"].as_f64().unwrap() < 0.05);
    assert_eq!(cal["curve"][0]["solved"], 3);
    // The solver never solves digit sums: rejected as impossible.
    let ds = outcome(&store, run, "syntax_fix");
    assert_eq!(
        (ds.status, ds.stage.as_str(), ds.reason.as_str()),
        (CandidateStatus::Rejected, "calibrate", "never_solved"),
        "{ds:?}"
    );
    // Solver calls are recorded for audit.
    assert!(
        store
            .calls(run)
            .unwrap()
            .iter()
            .filter(|c| c.purpose == "solve")
            .count()
            >= 30
    );
}

#[test]
fn prompts_overlapping_a_benchmark_are_rejected() {
    let server = TestServer::builder().workers(2).start(Replay::new());
    let dir = tempfile::tempdir().unwrap();
    let bench = dir.path().join("bench.jsonl");
    std::fs::write(
        &bench,
        "{\"input\": \"Compute it, that is the remainder of a division.\", \"target\": \"3\"}\n",
    )
    .unwrap();
    let mut cfg = config(&server.base_url());
    cfg.benchmark_files = vec![bench];
    cfg.dedup.ngram = 4;
    let (_d, store, run) = run(&cfg);
    let m = outcome(&store, run, "good_modexp");
    assert_eq!(
        (m.stage.as_str(), m.reason.as_str()),
        ("decontaminate", "benchmark_overlap"),
        "{m:?}"
    );
    assert!(m.detail.contains("that is the remainder"), "{}", m.detail);
    assert_eq!(
        outcome(&store, run, "syntax_fix").status,
        CandidateStatus::Accepted
    );
}

#[test]
fn structured_proposals_send_the_schema_and_nothing_else_changes() {
    let server = TestServer::builder().workers(2).start(Replay::new());
    for (style, expected) in [
        (resyn_synth::StructuredOutput::JsonObject, "json_object"),
        (resyn_synth::StructuredOutput::JsonSchema, "json_schema"),
    ] {
        let mut cfg = config(&server.base_url());
        cfg.structured_proposals = style;
        cfg.target = 1;
        let (_d, store, run) = run(&cfg);
        let calls = store.calls(run).unwrap();
        let proposal = calls.iter().find(|c| c.purpose == "proposal").unwrap();
        let rf = &proposal.request["response_format"];
        assert_eq!(rf["type"], expected, "{rf}");
        let schema = if expected == "json_object" {
            &rf["schema"]
        } else {
            &rf["json_schema"]["schema"]
        };
        assert_eq!(schema["type"], "array", "{rf}");
        assert!(
            schema["items"]["required"]
                .as_array()
                .unwrap()
                .contains(&"title".into())
        );
        assert!(
            calls
                .iter()
                .filter(|c| c.purpose != "proposal")
                .all(|c| c.request.get("response_format").is_none())
        );
        assert!(store.accepted_count(run).unwrap() >= 1);
    }
}

fn with_solver(url: &str, k: u32) -> SynthConfig {
    SynthConfig {
        solver_base_url: Some(url.into()),
        solver_model: Some("solver".into()),
        calibration_samples: k,
        ..config(url)
    }
}

/// The trust outcomes of issue 13, each on its own fixture (keyword
/// `fixture zeta`), with a solver at k = 8 answers per level.
#[test]
fn disagreements_are_adjudicated_and_saturation_and_review_problems_repaired() {
    let server = TestServer::builder().workers(2).start(Replay::new());
    let cfg = with_solver(&server.base_url(), 8);
    let (_d, store, run) = run_keyword(&cfg, "fixture zeta");

    // A verifier that also accepts one rare wrong family (a sum that forgot
    // the last number), which no probe constructs: the solver's answers hit
    // it, two independent verifiers outvote the module, the repair carries
    // the evidence, and an unchanged module is rejected.
    let rare = outcome(&store, run, "rare_false_accept");
    assert_eq!(
        (rare.status, rare.stage.as_str(), rare.reason.as_str()),
        (
            CandidateStatus::Rejected,
            "cross_verify",
            "module_overruled"
        ),
        "{rare:?}"
    );
    // One solver answer of the 80 (k = 8 per level) hits the bug, in each
    // round: an agreement of 98.75%, which a rate threshold lets through.
    assert!(
        rare.detail.contains("overrule your verify() on 1 of"),
        "{}",
        rare.detail
    );
    let reqs = server.requests();
    let repair = reqs
        .iter()
        .find(|r| {
            r.prompt
                .contains("failed resyn's `cross_verify` check (reason: module_overruled)")
                && r.prompt.contains("list_sum_fixture")
        })
        .expect("a repair request carrying the disputed answers");
    for evidence in [
        "Add up these numbers: ",
        "Answer string passed to verify(): \"",
        "- your verify(): correct",
        "- a verifier written from the question text alone: wrong",
        "- a second verifier written from the question text alone: wrong",
        "a model's answer",
    ] {
        assert!(
            repair.prompt.contains(evidence),
            "{evidence}\n{}",
            repair.prompt
        );
    }

    // A correct multi-answer module whose first second verifier accepts
    // only the smallest factor: the tie-breaker upholds the module, the
    // wrong verifier is replaced, the module is stored with the resolved
    // disagreements in its report.
    let multi = outcome(&store, run, "multi_answer");
    assert_eq!(multi.status, CandidateStatus::Accepted, "{multi:?}");
    let env = store.environment("prime_factor_fixture").unwrap();
    let cross = &env.env.validation["cross_verify"];
    let disputes = cross["disagreements"].as_array().unwrap();
    assert!(!disputes.is_empty(), "{cross}");
    assert!(
        disputes.iter().all(|d| d["resolution"] == "upheld"),
        "{cross}"
    );
    assert_eq!(cross["unresolved"], 0);
    let kept = cross["verifier_code"].as_str().unwrap();
    assert!(
        kept.contains("prime ="),
        "the validity-checking verifier is kept: {kept}"
    );
    assert_eq!(env.env.calibration.as_ref().unwrap()["passed"], true);

    // Solved almost always at every level: not kept as calibrated, after a
    // repair round that was told the curve.
    let sat = outcome(&store, run, "saturated");
    assert_eq!(
        (sat.status, sat.stage.as_str()),
        (CandidateStatus::Rejected, "calibrate"),
        "{sat:?}"
    );
    assert!(
        ["no_headroom", "no_decreasing_trend"].contains(&sat.reason.as_str()),
        "{sat:?}"
    );
    assert!(
        reqs.iter()
            .any(|r| r.prompt.contains("failed resyn's `calibrate` check")
                && r.prompt.contains("add_pair_fixture")
                && r.prompt.contains("solve rate by difficulty level")),
        "the calibration failure goes back to the model"
    );

    // "Verdict: needs revision" with a bullet list: repaired with the
    // reviewer's problems, then accepted.
    let revised = outcome(&store, run, "review_revise");
    assert_eq!(revised.status, CandidateStatus::Accepted, "{revised:?}");
    assert!(reqs.iter().any(|r| {
        r.prompt.contains("failed resyn's `review` check")
            && r.prompt
                .contains("does not say how to write a product of zero")
    }));

    // Disagreement counts and the funnel are in the summary.
    let summary = store.summary(run).unwrap();
    let count = |how: &str| {
        summary
            .disagreements
            .iter()
            .find(|(h, _)| h == how)
            .map_or(0, |(_, n)| *n)
    };
    assert!(count("overruled") >= 1, "{:?}", summary.disagreements);
    assert!(count("upheld") >= 1, "{:?}", summary.disagreements);
    assert_eq!(count("unresolved"), 0);
    assert_eq!(summary.uncalibrated, 0);
    let passed = |stage: &str| {
        summary
            .passed_by_stage
            .iter()
            .find(|(s, _)| s == stage)
            .map(|(_, n)| *n)
    };
    assert_eq!(passed("store"), Some(2), "{:?}", summary.passed_by_stage);
    assert!(passed("cross_verify").unwrap() >= 2);
}

/// A module that, told to repair something else, "fixes" its verifier to
/// agree with a second verifier adjudication already outvoted, fails.
#[test]
fn a_module_caving_to_an_outvoted_verifier_does_not_pass() {
    let server = TestServer::builder().workers(2).start(Replay::new());
    let cfg = with_solver(&server.base_url(), 4);
    let (_d, store, run) = run_keyword(&cfg, "fixture eta");
    let c = outcome(&store, run, "multi_answer_caves");
    assert_eq!(
        (c.status, c.stage.as_str(), c.reason.as_str()),
        (
            CandidateStatus::Rejected,
            "cross_verify",
            "settled_verdict_changed"
        ),
        "{c:?}"
    );
    assert!(c.detail.contains("Give one prime factor"), "{}", c.detail);
    assert!(store.environments().unwrap().is_empty());
}

/// The reviewer can be another endpoint and model, at temperature 0; the
/// second verifier never sees the module's description.
#[test]
fn review_goes_to_the_reviewer_and_the_second_verifier_sees_only_questions() {
    let generator = TestServer::builder().workers(2).start(Replay::new());
    let reviewer = TestServer::builder().workers(2).start(Replay::new());
    let mut cfg = config(&generator.base_url());
    cfg.review_base_url = Some(reviewer.base_url());
    cfg.review_model = Some("judge-model".into());
    cfg.target = 1;
    let (_d, store, run) = run(&cfg);
    assert_eq!(store.accepted_count(run).unwrap(), 1);
    let reviews = reviewer.requests();
    assert!(!reviews.is_empty());
    for r in &reviews {
        assert!(r.prompt.starts_with("Review "), "{}", r.prompt);
        assert_eq!(r.model, "judge-model");
        assert_eq!(r.body["temperature"], 0.0, "{}", r.body);
    }
    let gen_reqs = generator.requests();
    assert!(gen_reqs.iter().all(|r| !r.prompt.starts_with("Review ")));
    let cross: Vec<_> = gen_reqs
        .iter()
        .filter(|r| r.prompt.starts_with("Write a verifier"))
        .collect();
    assert!(!cross.is_empty());
    for r in cross {
        assert!(
            !r.prompt.contains("[fixture:"),
            "no proposal text: {}",
            r.prompt
        );
        assert!(!r.prompt.contains("DESCRIPTION"), "{}", r.prompt);
        assert!(
            r.prompt.contains("leading and trailing whitespace"),
            "{}",
            r.prompt
        );
    }
}
