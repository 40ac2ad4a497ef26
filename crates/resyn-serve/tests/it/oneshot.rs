//! `app(state).oneshot(request)`: no socket.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use resyn_reward::RewardConfig;
use resyn_serve::{Limits, app};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{ground_truth, instances, state, state_with, think};

pub(crate) async fn call(
    app: axum::Router,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, v)
}

#[tokio::test]
async fn verify_by_id_instance_and_ground_truth() {
    let insts = instances(3);
    let body = json!({"items": [
        {"id": insts[0].id, "response": insts[0].reference},
        {"instance": insts[1], "response": "<answer>nonsense</answer>"},
        {"ground_truth": ground_truth(&insts[2]), "response": think(&insts[2].reference)},
        {"id": insts[0].id, "response": ""},
    ]});
    let (status, v) = call(app(state()), "POST", "/verify", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(
        (r[0]["score"].as_f64(), r[0]["correct"].as_bool()),
        (Some(1.0), Some(true))
    );
    assert_eq!(r[1]["score"], 0.0);
    assert!(
        ["parse_error", "wrong"].contains(&r[1]["reason"].as_str().unwrap()),
        "{}",
        r[1]
    );
    assert_eq!(
        (r[2]["score"].as_f64(), r[2]["format_ok"].as_bool()),
        (Some(1.0), Some(true))
    );
    assert_eq!(r[3]["reason"], "no_answer");
}

#[tokio::test]
async fn request_weights_override_the_default() {
    let inst = &instances(1)[0];
    let items = json!([{"id": inst.id, "response": think(&inst.reference)}]);
    let (_, v) = call(
        app(state()),
        "POST",
        "/verify",
        Some(json!({"items": items})),
    )
    .await;
    assert_eq!(v["results"][0]["score"], 1.0);
    let body = json!({"items": items, "reward": {"verifier_weight": 0.5, "format_weight": 0.25}});
    let (_, v) = call(app(state()), "POST", "/verify", Some(body)).await;
    assert_eq!(v["results"][0]["score"], 0.75);
    // The server default applies when the request gives none.
    let st = state_with(
        Limits::default(),
        RewardConfig {
            format_weight: 0.1,
            ..Default::default()
        },
    );
    let (_, v) = call(app(st), "POST", "/verify", Some(json!({"items": items}))).await;
    assert!((v["results"][0]["score"].as_f64().unwrap() - 1.1).abs() < 1e-9);
}

#[tokio::test]
async fn bad_items_are_422_naming_the_item() {
    let insts = instances(1);
    let cases = [
        (json!({"id": "nope", "response": ""}), "unknown_instance"),
        (
            json!({"instance": {"env": "nope"}, "response": ""}),
            "invalid_request",
        ),
        (
            json!({"ground_truth": "{]", "response": ""}),
            "malformed_ground_truth",
        ),
        (
            json!({"ground_truth": "{\"reward_mode\":\"magic\"}", "response": ""}),
            "malformed_ground_truth",
        ),
        (json!({"response": ""}), "invalid_request"),
        (
            json!({"id": insts[0].id, "ground_truth": "{}", "response": ""}),
            "invalid_request",
        ),
    ];
    for (item, code) in cases {
        let body = json!({"items": [{"id": insts[0].id, "response": ""}, item]});
        let (status, v) = call(app(state()), "POST", "/verify", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["code"], code, "{v}");
        if code != "invalid_request" {
            assert!(
                v["error"]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("items[1]: "),
                "{v}"
            );
        }
    }
    let mut alien = insts[0].clone();
    alien.env = "no_such_env".into();
    let (status, v) = call(
        app(state()),
        "POST",
        "/verify",
        Some(json!({"items": [{"instance": alien, "response": ""}]})),
    )
    .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unknown_environment")
        )
    );
}

#[tokio::test]
async fn openrlhf_protocol() {
    let insts = instances(2);
    let prompt = "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nSolve it.<|im_end|>\n<|im_start|>assistant\n";
    let body = json!({
        "query": [
            format!("{prompt}{}<|im_end|>", think(&insts[0].reference)),
            format!("{prompt}<answer>wrong</answer><|im_end|><|endoftext|>"),
        ],
        "prompts": [prompt, prompt],
        "labels": [ground_truth(&insts[0]), insts[1].id],
    });
    let st = state_with(
        Limits::default(),
        RewardConfig {
            format_weight: 0.5,
            ..Default::default()
        },
    );
    for path in ["/openrlhf", "/get_reward"] {
        let (status, v) = call(app(st.clone()), "POST", path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["rewards"], json!([1.5, 0.0]), "{v}");
        assert_eq!(v["scores"], json!([1.0, 0.0]));
        assert_eq!(v["extra_logs"]["format_ok"], json!([1.0, 0.0]));
        assert_eq!(v["extra_logs"]["correct"], json!([1.0, 0.0]));
    }
    let (status, v) = call(
        app(state()),
        "POST",
        "/get_reward",
        Some(json!({"query": ["x"]})),
    )
    .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_labels"))
    );
    let (status, v) = call(
        app(state()),
        "POST",
        "/get_reward",
        Some(json!({"query": ["x"], "labels": []})),
    )
    .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request"))
    );
    let (status, v) = call(
        app(state()),
        "POST",
        "/get_reward",
        Some(json!({"query": ["x"], "labels": ["42"]})),
    )
    .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("malformed_ground_truth")
        )
    );
}

#[tokio::test]
async fn limits_and_routes() {
    let limits = Limits {
        max_batch: 2,
        max_body_bytes: 2048,
        ..Limits::default()
    };
    let st = state_with(limits, RewardConfig::default());
    let item = json!({"id": "x", "response": ""});
    let (status, v) = call(
        app(st.clone()),
        "POST",
        "/verify",
        Some(json!({"items": [item, item, item]})),
    )
    .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("batch_too_large"))
    );
    let big = json!({"items": [{"id": "x", "response": "y".repeat(4096)}]});
    let (status, v) = call(app(st.clone()), "POST", "/verify", Some(big)).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
    );
    let (status, v) = call(app(st.clone()), "GET", "/nope", None).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, v) = call(app(st.clone()), "GET", "/verify", None).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
    let (status, v) = call(app(st.clone()), "GET", "/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (v["status"].as_str(), v["instances"].as_u64()),
        (Some("ok"), Some(16))
    );
}

#[tokio::test]
async fn slow_requests_time_out_with_503() {
    let limits = Limits {
        timeout: std::time::Duration::from_millis(100),
        ..Limits::default()
    };
    let st = state_with(limits, RewardConfig::default());
    let slow = resyn_core::Instance {
        id: "s".into(),
        env: "slow".into(),
        env_version: 1,
        seed: 0,
        difficulty: 1,
        prompt: String::new(),
        data: json!({}),
        reference: String::new(),
    };
    let (status, v) = call(
        app(st),
        "POST",
        "/verify",
        Some(json!({"items": [{"instance": slow, "response": ""}]})),
    )
    .await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("timeout")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limit_queues_requests_and_the_queue_counts_toward_the_timeout() {
    // One request at a time; each takes ~400 ms (the slow environment). The
    // second request waits for the first, so it cannot finish within 600 ms.
    let limits = Limits {
        concurrency: 1,
        timeout: std::time::Duration::from_millis(600),
        ..Limits::default()
    };
    let st = state_with(limits, RewardConfig::default());
    let slow = resyn_core::Instance {
        id: "s".into(),
        env: "slow".into(),
        env_version: 1,
        seed: 0,
        difficulty: 1,
        prompt: String::new(),
        data: json!({}),
        reference: String::new(),
    };
    let body = json!({"items": [{"instance": slow, "response": ""}]});
    let router = app(st);
    let (a, b) = tokio::join!(
        call(router.clone(), "POST", "/verify", Some(body.clone())),
        call(router.clone(), "POST", "/verify", Some(body)),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE],
        "{a:?} {b:?}"
    );
    // Health is outside the limit and answers while a slow request runs.
    let (s, _) = call(router, "GET", "/health", None).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn an_environment_that_cannot_run_is_a_503_never_a_zero() {
    let mut reg = crate::common::registry();
    let stuck = resyn_core::testing::CannotRun::like(
        reg.get("tower_of_hanoi").unwrap().as_ref(),
        "cannot_run",
    );
    reg.register(std::sync::Arc::new(stuck)).unwrap();
    let st = resyn_serve::AppState::new(
        resyn_reward::Scorer::new(reg),
        Vec::new(),
        RewardConfig::default(),
        Limits::default(),
    )
    .unwrap();
    let mut stuck = instances(1).remove(0);
    stuck.env = "cannot_run".into();
    let ok = instances(1).remove(0);
    let body = json!({"items": [
        {"instance": ok, "response": ok.reference},
        {"instance": stuck, "response": stuck.reference},
    ]});
    let (status, v) = call(app(st), "POST", "/verify", Some(body)).await;
    crate::common::assert_error(status.as_u16(), &v, 503, "environment_unavailable");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`cannot_run` cannot run on this machine")
            && message.contains(resyn_core::testing::CannotRun::DETAIL),
        "{message}"
    );
}
