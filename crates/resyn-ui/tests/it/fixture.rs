//! A store written with the store API: one finished run with accepted,
//! rejected and pending candidates, stage events and LLM calls; a
//! calibrated environment with full reports (plus fields no view knows);
//! an environment whose description, code and reports are hostile HTML;
//! and a second, running run. Helpers call the router in-process.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use resyn_registry::{Sources, StoreSource};
use resyn_store::{
    Accepted, CallRecord, CandidateStatus, Checkpoint, NewCandidate, NewEnvironment, StageEvent,
    Store,
};
use resyn_test::{add_module, stored_env};
use resyn_ui::{UiState, app};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The calibrated environment.
pub(crate) const ENV: &str = "add_fixture";
/// The environment made of hostile HTML.
pub(crate) const HOSTILE: &str = "hostile_fixture";

/// A working module adding two integers; `comment` goes on its first line
/// and `prompt_suffix` after its answer format.
pub(crate) fn module(name: &str, comment: &str, prompt_suffix: &str) -> String {
    let format = "Answer format: a single integer.";
    format!(
        "# {comment}{}",
        add_module(name).replace(format, &format!("{format}{prompt_suffix}"))
    )
}

pub(crate) const HOSTILE_TEXT: &str =
    "<script>alert('pwned')</script><img src=x onerror=\"alert(1)\">";

/// The fixture store and what is in it.
pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: PathBuf,
    pub run: i64,
    pub live_run: i64,
    /// Candidates: accepted as ENV, accepted as HOSTILE, rejected at
    /// validate, rejected at calibrate, pending.
    pub cands: Vec<i64>,
    /// The first LLM call.
    pub call: i64,
}

fn ev(stage: &str, passed: bool, reason: &str, detail: &str, round: u32) -> StageEvent {
    StageEvent {
        stage: stage.into(),
        passed,
        reason: reason.into(),
        detail: detail.into(),
        round,
    }
}

fn stored(name: &str, code: String, description: &str, run: i64, cand: i64) -> NewEnvironment {
    NewEnvironment {
        description: description.into(),
        run_id: Some(run),
        candidate_id: Some(cand),
        ..stored_env(name, &code)
    }
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("resyn.db");
        let s = Store::open(&path).unwrap();
        let run = s
            .create_run(&json!({"model": "fixture-model", "base_url": "http://127.0.0.1:9/v1", "target": 2, "cross_min_agreement": 0.98}))
            .unwrap();
        s.add_keywords(run, &[("adding".into(), "math".into())])
            .unwrap();
        let kw = s.pending_keywords(run).unwrap();
        let titles = [
            "Add two numbers".to_string(),
            format!("Hostile {HOSTILE_TEXT}"),
            format!("Broken {HOSTILE_TEXT}"),
            "Too hard".to_string(),
            "Still going".to_string(),
        ];
        let cands: Vec<NewCandidate> = titles
            .iter()
            .map(|t| NewCandidate {
                keyword: "adding".into(),
                title: t.clone(),
                proposal: json!({"title": t, "description": HOSTILE_TEXT}),
            })
            .collect();
        let ids = s.finish_keyword(kw[0].id, &cands).unwrap();
        for &c in &ids[..4] {
            s.record_stage(c, &ev("extract", true, "ok", "", 0), None)
                .unwrap();
        }
        // ENV: a failed validation repaired, then every stage.
        s.record_stage(
            ids[0],
            &ev("validate", false, "api:missing_api", "no verify()", 0),
            None,
        )
        .unwrap();
        let checkpoint = Checkpoint {
            code: Some(module(ENV, "adds", "")),
            round: 1,
            review_passed: true,
            cross_code: Some("def verify(instance, answer):\n    return 0.0\n".into()),
            ..Checkpoint::default()
        };
        for stage in ["validate", "review", "cross_verify", "calibrate"] {
            s.record_stage(
                ids[0],
                &ev(stage, true, "ok", "{\"checks\": 14}", 1),
                Some(&checkpoint),
            )
            .unwrap();
        }
        let mut env = stored(
            ENV,
            module(ENV, "adds", ""),
            "Add two integers.",
            run,
            ids[0],
        );
        env.provenance = json!({
            "keyword": "adding", "model": "fixture-model", "endpoint": "http://127.0.0.1:9/v1/chat/completions",
            "solver": {"model": "solver-model", "endpoint": "http://127.0.0.1:9/v1/chat/completions"},
            "run": run, "candidate": ids[0], "repair_rounds": 1,
            "proposal": {"title": "Add two numbers", "verification": "Recompute the sum."},
            "calls": [{"purpose": "implement"}, {"purpose": "repair"}],
            "a_future_field": "shown generically",
        });
        env.validation = json!({
            "offline": {
                "passed": true, "failure": null,
                "passed_checks": ["size", "parse", "imports", "api", "load", "generate", "probes"],
                "stats": {"instances": 60, "solved": 0, "unique_ratio": 1.0, "prompt_chars_min": 20,
                          "prompt_chars_max": 31, "probes": 100, "probes_rejected": 100,
                          "probe_families": {"empty": [0, 40], "garbage": [0, 60]}},
            },
            "review": {"code_review": {"pass": true, "problems": []},
                       "question_review": {"pass": true, "problems": []}},
            "cross_verify": {"agreement": 1.0, "compared": 120, "reference_disagreements": 0,
                             "verifier_errors": 0, "disagreements": []},
            "future_check": {"verdict": "a report field no view knows"},
        });
        let curve: Vec<Value> = (1..=10u32)
            .map(|d| json!({"difficulty": d, "n": 4, "solved": 4u32.saturating_sub((d - 1) / 2)}))
            .collect();
        env.calibration = Some(
            json!({"curve": curve, "z": -4.2, "p_value": 1.3e-5, "alpha": 0.05, "passed": true, "reason": "ok"}),
        );
        assert!(matches!(
            s.accept(&env, &ev("store", true, "ok", ENV, 1)).unwrap(),
            Accepted::Stored(_)
        ));
        // HOSTILE: hostile everywhere a string can go.
        // The store's description is the module's own (a stored module is
        // refused when its metadata disagrees with the store's).
        let description = format!("Add two integers. {HOSTILE_TEXT}");
        let code = module(
            HOSTILE,
            "</pre></code><script>alert('code')</script>",
            " <img src=x onerror=\\\"alert(2)\\\">",
        )
        .replace(
            "DESCRIPTION = \"Add two integers.\"",
            &format!(
                "DESCRIPTION = {}",
                serde_json::to_string(&description).unwrap()
            ),
        );
        let mut h = stored(HOSTILE, code, &description, run, ids[1]);
        h.provenance = json!({"keyword": HOSTILE_TEXT, "model": HOSTILE_TEXT});
        h.validation = json!({"cross_verify": {"agreement": 0.5, "disagreements": [{"answer": HOSTILE_TEXT}]}, HOSTILE_TEXT: HOSTILE_TEXT});
        assert!(matches!(
            s.accept(&h, &ev("store", true, "ok", HOSTILE, 0)).unwrap(),
            Accepted::Stored(_)
        ));
        s.finish_candidate(
            ids[2],
            CandidateStatus::Rejected,
            &ev(
                "validate",
                false,
                "api:missing_api",
                &format!("Traceback: {HOSTILE_TEXT}"),
                0,
            ),
        )
        .unwrap();
        s.record_stage(ids[3], &ev("validate", true, "ok", "", 0), None)
            .unwrap();
        // First seen last, but shown in pipeline order (after validate).
        s.record_stage(ids[3], &ev("name", true, "ok", "", 0), None)
            .unwrap();
        s.finish_candidate(
            ids[3],
            CandidateStatus::Rejected,
            &ev("calibrate", false, "never_solved", "solved 0 of 40", 0),
        )
        .unwrap();
        let mut call = 0;
        for (cand, purpose, status) in [
            (ids[0], "implement", "ok"),
            (ids[0], "repair", "error"),
            (ids[2], "implement", "ok"),
        ] {
            let id = s
                .record_call(&CallRecord {
                    run_id: Some(run),
                    candidate_id: Some(cand),
                    purpose: purpose.into(),
                    request_hash: format!("{purpose}-{cand}"),
                    request: json!({"model": "fixture-model", "messages": [
                        {"role": "system", "content": "You write environments."},
                        {"role": "user", "content": format!("Implement {HOSTILE_TEXT}")},
                    ]}),
                    reply: (status == "ok").then(|| format!("```python\n# {HOSTILE_TEXT}\n```")),
                    finish_reason: (status == "ok").then(|| "stop".to_string()),
                    prompt_tokens: 1000,
                    completion_tokens: 250,
                    latency_ms: 1500,
                    status: status.into(),
                    error: (status != "ok").then(|| "HTTP 500".to_string()),
                })
                .unwrap();
            if call == 0 {
                call = id;
            }
        }
        s.update_run(run, resyn_store::RunStatus::Finished, 61_000)
            .unwrap();
        let live_run = s.create_run(&json!({"model": "live-model"})).unwrap();
        drop(s);
        Fixture {
            dir,
            store: path,
            run,
            live_run,
            cands: ids,
            call,
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The gallery over `store` (no environment directory).
pub(crate) fn state(store: StoreSource) -> UiState {
    UiState::new(Sources {
        store,
        ..Sources::default()
    })
    .unwrap()
}

pub(crate) fn on(store: &Path) -> Router {
    app(state(StoreSource::Path(store.to_path_buf())))
}

/// GET a page: status, headers, body.
pub(crate) async fn get(app: &Router, path: &str) -> (StatusCode, HeaderMap, String) {
    let req = Request::builder().uri(path).body(Body::empty()).unwrap();
    send(app, req).await
}

/// POST a form, asking for JSON or HTML.
pub(crate) async fn post_form(
    app: &Router,
    path: &str,
    body: &str,
    json: bool,
) -> (StatusCode, String) {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "accept",
            if json {
                "application/json"
            } else {
                "text/html"
            },
        )
        .body(Body::from(body.to_string()))
        .unwrap();
    let (s, _, b) = send(app, req).await;
    (s, b)
}

pub(crate) async fn send(app: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

/// No markup of the hostile strings got through: the page's only script is
/// the gallery's own, there is no image, and no attribute was broken out of.
pub(crate) fn assert_inert(html: &str) {
    let scripts = html.matches("<script").count();
    assert_eq!(scripts, 1, "scripts in {html}");
    assert!(html.contains("assets/app.js\" defer></script>"));
    assert!(!html.contains("<img"), "an image got through: {html}");
    assert!(
        !html.contains("onerror=\"") && !html.contains("alert('pwned')</script>"),
        "{html}"
    );
}
