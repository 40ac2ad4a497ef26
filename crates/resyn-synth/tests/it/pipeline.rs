//! The pipeline as a library, against the replay server: calibration with a
//! solver endpoint, and decontamination.

use std::sync::Arc;

use resyn_llm::test_server::TestServer;
use resyn_store::{CandidateStatus, Store};
use resyn_synth::keywords::{Keyword, order};
use resyn_synth::replay::Replay;
use resyn_synth::validate::{Thresholds, ValidationConfig, Validator};
use resyn_synth::{Pipeline, Quiet, SynthConfig, create_run};

use crate::common::fast_sandbox;

fn config(url: &str) -> SynthConfig {
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

fn alpha() -> Vec<Keyword> {
    order(
        vec![Keyword {
            keyword: "fixture alpha".into(),
            category: resyn_core::Category::Math,
        }],
        0,
    )
}

fn run(cfg: &SynthConfig) -> (tempfile::TempDir, Arc<Store>, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("s.db")).unwrap());
    let run = create_run(&store, cfg, &alpha()).unwrap();
    let validator = Validator::new(fast_sandbox().clone(), cfg.validation.clone());
    let p = Arc::new(
        Pipeline::new(store.clone(), run, validator, Vec::new(), Arc::new(Quiet)).unwrap(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(p.run()).unwrap();
    assert_eq!(s.pending, 0);
    (dir, store, run)
}

fn outcome(store: &Store, run: i64, key: &str) -> resyn_store::Candidate {
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
