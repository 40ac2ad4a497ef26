//! The client against the local test server: answers, errors, retries,
//! timeouts and concurrency.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use resyn_llm::test_server::{Behavior, Script, TestServer};
use resyn_llm::{ChatRequest, Client, Error, FinishReason, RetryPolicy};

fn fast_retries(n: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries: n,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
    }
}

fn client(server: &TestServer, retries: u32) -> Client {
    Client::builder(server.base_url())
        .retry(fast_retries(retries))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test]
async fn answers_with_text_usage_and_sampling_params() {
    let server = TestServer::start(Behavior::answer("<answer>42</answer>"));
    let c = Client::builder(server.base_url())
        .api_key("sk-test")
        .build()
        .unwrap();
    let mut req = ChatRequest::new("m1", "What is six times seven?");
    req.temperature = Some(0.7);
    req.top_p = Some(0.9);
    req.max_tokens = Some(64);
    req.n = Some(3);
    req.seed = Some(11);
    req.stop = vec!["</answer>".into()];
    let resp = c.chat(&req).await.unwrap();
    assert_eq!(resp.model, "m1");
    assert_eq!(resp.choices.len(), 3);
    assert!(resp.texts().all(|t| t == "<answer>42</answer>"));
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(resp.attempts, 1);
    assert!(resp.usage.prompt_tokens > 0 && resp.usage.completion_tokens > 0);
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.prompt, "What is six times seven?");
    assert_eq!((r.n, r.seed), (3, Some(11)));
    assert_eq!(r.body["temperature"], 0.7);
    assert_eq!(r.body["top_p"], 0.9);
    assert_eq!(r.body["max_tokens"], 64);
    assert_eq!(r.body["stop"][0], "</answer>");
    assert_eq!(r.authorization.as_deref(), Some("Bearer sk-test"));
    let u = c.usage();
    assert_eq!((u.attempts, u.succeeded, u.failed, u.retries), (1, 1, 0, 0));
    assert_eq!(u.completion_tokens, resp.usage.completion_tokens);
}

#[tokio::test]
async fn truncated_refusal_and_malformed() {
    let script = Script::new(Behavior::answer("ok"))
        .on("truncate", [Behavior::truncated("<answer>12")])
        .on("refuse", [Behavior::refusal("I can't help with that.")])
        .on(
            "garble",
            [Behavior::malformed("<html>502 Bad Gateway</html>")],
        )
        .on("empty", [Behavior::malformed(r#"{"choices":[]}"#)]);
    let server = TestServer::start(script);
    let c = client(&server, 3);
    let r = c.chat(&ChatRequest::new("m", "truncate")).await.unwrap();
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Length));
    assert_eq!(r.text(), "<answer>12");
    let r = c.chat(&ChatRequest::new("m", "refuse")).await.unwrap();
    assert_eq!(r.text(), "");
    assert_eq!(
        r.choices[0].refusal.as_deref(),
        Some("I can't help with that.")
    );
    let e = c.chat(&ChatRequest::new("m", "garble")).await.unwrap_err();
    assert!(matches!(e, Error::Malformed { .. }), "{e}");
    assert!(e.to_string().contains("502 Bad Gateway"), "{e}");
    let e = c.chat(&ChatRequest::new("m", "empty")).await.unwrap_err();
    assert!(matches!(e, Error::NoChoices { .. }), "{e}");
    // Malformed bodies are not retried: one request each.
    assert_eq!(server.request_count(), 4);
}

#[tokio::test]
async fn retries_429_and_5xx_then_succeeds() {
    let script = Script::new(Behavior::answer("fallback"))
        .on(
            "busy",
            [
                Behavior::rate_limited(0.05),
                Behavior::status(503),
                Behavior::status(500),
                Behavior::answer("finally"),
            ],
        )
        .on("teapot", [Behavior::status(418)]);
    let server = TestServer::start(script);
    let c = client(&server, 5);
    let t = Instant::now();
    let r = c.chat(&ChatRequest::new("m", "busy now")).await.unwrap();
    assert_eq!(r.text(), "finally");
    assert_eq!(r.attempts, 4);
    // Retry-After: 0.05 s was honoured although the backoff is ~5 ms.
    assert!(
        t.elapsed() >= Duration::from_millis(50),
        "{:?}",
        t.elapsed()
    );
    let e = c.chat(&ChatRequest::new("m", "teapot")).await.unwrap_err();
    assert_eq!(e.status(), Some(418));
    assert_eq!(e.attempts(), 1, "4xx other than 408/429 is not retried");
    let msg = e.to_string();
    assert!(
        msg.contains("418") && msg.contains("scripted status 418"),
        "{msg}"
    );
    let u = c.usage();
    assert_eq!((u.attempts, u.retries, u.succeeded, u.failed), (5, 3, 1, 1));
    assert_eq!(server.request_count(), 5);
}

#[tokio::test]
async fn gives_up_after_the_retry_budget() {
    let server = TestServer::start(Behavior::status(503));
    let c = client(&server, 2);
    let e = c.chat(&ChatRequest::new("m", "x")).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Status {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let server = TestServer::start(Behavior::answer("late").after(Duration::from_secs(3)));
    let c = Client::builder(server.base_url())
        .timeout(Duration::from_millis(150))
        .retry(fast_retries(1))
        .build()
        .unwrap();
    let t = Instant::now();
    let e = c.chat(&ChatRequest::new("m", "x")).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { attempts: 2, .. }), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Client::builder(format!("http://127.0.0.1:{port}/v1"))
        .retry(fast_retries(2))
        .build()
        .unwrap();
    let e = c.chat(&ChatRequest::new("m", "x")).await.unwrap_err();
    assert!(matches!(e, Error::Transport { attempts: 3, .. }), "{e}");
    assert!(e.to_string().contains(&port.to_string()), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limit_is_kept_and_filled() {
    let server = TestServer::builder()
        .latency(Duration::from_millis(60))
        .start(Behavior::answer("ok"));
    let c = Client::builder(server.base_url())
        .max_concurrency(5)
        .build()
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let c = c.clone();
        tasks.spawn(async move { c.chat(&ChatRequest::new("m", format!("q{i}"))).await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    let stats = server.stats();
    assert_eq!(stats.requests, 30);
    assert_eq!(stats.max_in_flight, 5, "limit kept and reached");
    assert_eq!(stats.in_flight, 0);
    assert_eq!(c.in_flight(), 0);
}
