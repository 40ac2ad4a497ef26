//! Online instances over HTTP: draw, report (directly or through
//! `/verify`), status, persistence across a restart.

use axum::http::StatusCode;
use resyn_core::Registry;
use resyn_curriculum::{CurriculumConfig, Generator, RunOptions};
use resyn_serve::{AppState, Online, app};
use serde_json::{Value, json};

use crate::common::{ground_truth, instances, state};
use crate::oneshot::call;

/// Two native environments, decisions every 8 outcomes.
fn generator() -> Generator {
    let all = resyn_envs::registry();
    let mut reg = Registry::new();
    for id in ["maze", "knapsack"] {
        reg.register(all.get(id).unwrap().clone()).unwrap();
    }
    let config = CurriculumConfig {
        min_samples: 8,
        group_size: 2,
        ..CurriculumConfig::default()
    };
    Generator::new(reg, config, RunOptions::default()).unwrap()
}

fn with(online: Online) -> AppState {
    state().with_curriculum(online)
}

async fn draw(st: &AppState, n: usize) -> Vec<Value> {
    let (status, v) = call(
        app(st.clone()),
        "POST",
        "/curriculum/draw",
        Some(json!({"n": n})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["instances"].as_array().unwrap().clone()
}

/// Outcomes the curriculum counted, over all environments.
async fn outcomes_counted(st: &AppState) -> u64 {
    let (_, v) = call(app(st.clone()), "GET", "/curriculum", None).await;
    v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["stats"]["outcomes"].as_u64().unwrap())
        .sum()
}

/// Report both responses of every instance right.
async fn report_right(st: &AppState, batch: &[Value]) -> (StatusCode, Value) {
    let outcomes: Vec<Value> = batch
        .iter()
        .flat_map(|i| {
            (0..2).map(move |_| {
                json!({"id": i["id"], "env": i["env"], "difficulty": i["difficulty"], "reward": 1.0})
            })
        })
        .collect();
    call(
        app(st.clone()),
        "POST",
        "/curriculum/report",
        Some(json!({"outcomes": outcomes})),
    )
    .await
}

#[tokio::test]
async fn draw_report_and_status() {
    let st = with(Online::new(generator()));
    let batch = draw(&st, 6).await;
    assert_eq!(batch.len(), 6);
    for i in &batch {
        assert!(
            ["maze", "knapsack"].contains(&i["env"].as_str().unwrap()),
            "{i}"
        );
        assert!(i["prompt"].as_str().is_some_and(|p| !p.is_empty()));
    }
    let (status, v) = report_right(&st, &batch).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        (v["accepted"].as_u64(), v["groups_closed"].as_u64()),
        (Some(12), Some(6))
    );
    let (status, v) = call(app(st.clone()), "GET", "/curriculum", None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["position"], 6);
    let envs = v["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 2);
    assert_eq!(outcomes_counted(&st).await, 12);
    let (_, v) = call(app(st), "GET", "/health", None).await;
    assert_eq!(v["curriculum"], true);
}

#[tokio::test]
async fn verify_reports_verifier_rewards_when_asked() {
    let st = with(Online::new(generator()));
    let batch = draw(&st, 2).await;
    let items: Vec<Value> = batch
        .iter()
        .flat_map(|i| {
            [
                json!({"instance": i, "response": i["reference"]}),
                json!({"instance": i, "response": "<answer>no</answer>"}),
            ]
        })
        .collect();
    let body = json!({"items": items, "report": true, "reward": {"verifier_weight": 1.0, "format_weight": 0.5}});
    let (status, v) = call(app(st.clone()), "POST", "/verify", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["results"].as_array().unwrap().len(), 4);
    let (_, v) = call(app(st.clone()), "GET", "/curriculum", None).await;
    let envs = v["environments"].as_array().unwrap();
    let sum = |k: &str| -> f64 { envs.iter().map(|e| e["stats"][k].as_f64().unwrap()).sum() };
    // The verifier's reward (not the format-shaped score) was reported.
    assert_eq!((sum("outcomes"), sum("reward_sum")), (4.0, 2.0));
    assert_eq!((sum("groups"), sum("mixed_groups")), (2.0, 2.0));

    // Without "report" nothing is reported.
    let body = json!({"items": [{"instance": batch[0], "response": ""}]});
    call(app(st.clone()), "POST", "/verify", Some(body)).await;
    assert_eq!(outcomes_counted(&st).await, 4);

    // An instance of an environment outside the curriculum, a ground
    // truth without an instance: 422 naming the item, nothing reported.
    let hanoi = &instances(1)[0];
    let code_truth =
        json!({"reward_mode": "code", "id": "abc", "env": "maze", "env_version": 1, "answer": "x"})
            .to_string();
    let cases = [
        (
            json!({"instance": hanoi, "response": ""}),
            "invalid_outcome",
            "unknown environment",
        ),
        (
            json!({"ground_truth": code_truth, "response": ""}),
            "invalid_request",
            "needs an instance",
        ),
    ];
    for (item, code, want) in cases {
        let body = json!({"items": [{"instance": batch[0], "response": ""}, item], "report": true});
        let (status, v) = call(app(st.clone()), "POST", "/verify", Some(body)).await;
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{v}"
        );
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with("items[1]: ") && msg.contains(want), "{msg}");
    }
    assert_eq!(outcomes_counted(&st).await, 4);
}

#[tokio::test]
async fn without_a_curriculum_the_routes_say_so() {
    let inst = &instances(1)[0];
    let cases = [
        ("POST", "/curriculum/draw", Some(json!({"n": 1}))),
        ("POST", "/curriculum/report", Some(json!({"outcomes": []}))),
        ("GET", "/curriculum", None),
        (
            "POST",
            "/verify",
            Some(
                json!({"items": [{"ground_truth": ground_truth(inst), "response": ""}], "report": true}),
            ),
        ),
    ];
    for (method, path, body) in cases {
        let (status, v) = call(app(state()), method, path, body).await;
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("no_curriculum")),
            "{path}: {v}"
        );
    }
}

#[tokio::test]
async fn bad_requests_are_4xx_and_change_nothing() {
    let st = with(Online::new(generator()));
    let batch = draw(&st, 1).await;
    let good = json!({"id": batch[0]["id"], "env": batch[0]["env"], "difficulty": batch[0]["difficulty"], "reward": 1.0});
    let cases = [
        (
            "/curriculum/draw",
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            "/curriculum/draw",
            json!({"n": 1_000_000}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
        ),
        (
            "/curriculum/report",
            json!({"outcomes": [good, {"env": "maze", "difficulty": 1, "reward": 2.0}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_outcome",
        ),
        (
            "/curriculum/report",
            json!({"outcomes": [{"env": "nope", "difficulty": 1, "reward": 1.0}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_outcome",
        ),
        (
            "/curriculum/report",
            json!({"outcomes": [{"env": "maze", "reward": 1.0}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
    ];
    for (path, body, want, code) in cases {
        let (status, v) = call(app(st.clone()), "POST", path, Some(body)).await;
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (want, Some(code)),
            "{path}: {v}"
        );
    }
    let (_, v) = call(app(st.clone()), "GET", "/curriculum", None).await;
    assert_eq!(v["position"], 1);
    assert_eq!(outcomes_counted(&st).await, 0);
}

#[tokio::test]
async fn state_and_decisions_persist_and_a_restarted_server_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (state_path, log_path) = (
        dir.path().join("state.json"),
        dir.path().join("decisions.jsonl"),
    );
    let st = with(
        Online::new(generator())
            .state_file(&state_path)
            .decision_log(&log_path),
    );
    for _ in 0..4 {
        let batch = draw(&st, 4).await;
        assert_eq!(report_right(&st, &batch).await.0, StatusCode::OK);
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    let decisions: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!decisions.is_empty());
    assert!(decisions.iter().any(|d| d["action"] == "up"), "{log}");
    for (i, d) in decisions.iter().enumerate() {
        assert_eq!(d["seq"], i as u64);
    }
    // A server restarted from the saved state draws what this one draws next.
    let restarted = with(Online::new(
        Generator::load(generator().registry().clone(), &state_path).unwrap(),
    ));
    assert_eq!(draw(&restarted, 5).await, draw(&st, 5).await);
}
