//! Resumption: a call budget, an interruption mid-run, failed requests and a
//! torn cache line all leave a cache from which a rerun continues without
//! repeating any completed call.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::Duration;

use resyn_eval::bench::Benchmark;
use resyn_eval::{Cache, EvalItem, NoProgress, ReportOptions};
use resyn_llm::test_server::{Behavior, RecordedRequest, Script, TestServer};

use crate::common::*;

/// 40 distinct GSM8K-style items.
fn many_items() -> Vec<EvalItem> {
    let base = bench_items(Benchmark::Gsm8k, "gsm8k/test.jsonl");
    (0..40)
        .map(|i| {
            let mut it = base[i % base.len()].clone();
            it.id = format!("gsm8k/{i}");
            it.prompt = format!("Problem {i}: {}", it.prompt);
            it
        })
        .collect()
}

fn echo_right(items: &[EvalItem]) -> impl Fn(&RecordedRequest) -> Behavior + use<> {
    let targets: HashMap<String, String> = items
        .iter()
        .map(|i| (i.prompt.clone(), i.expected().unwrap().to_string()))
        .collect();
    move |r: &RecordedRequest| Behavior::answer(format!("<answer>{}</answer>", targets[&r.prompt]))
}

#[tokio::test]
async fn budget_abort_then_resume_then_free_rescore() {
    let dir = TempDir::new("budget");
    let items = many_items();
    let server = TestServer::start(echo_right(&items));
    let client = client(&server, 4);
    let mut cfg = config(2);
    cfg.sampling.seed = Some(1);
    cfg.max_calls = Some(25);

    let r1 = run(
        &items,
        &cfg,
        &client,
        &mut Cache::open(dir.join("c.jsonl")).unwrap(),
    )
    .await;
    assert!(!r1.complete);
    assert_eq!(server.request_count(), 25);
    assert_eq!((r1.usage.new_calls, r1.usage.not_run), (25, 55));
    assert_eq!(r1.suites[0].stats.samples, 25);

    cfg.max_calls = None;
    let r2 = run(
        &items,
        &cfg,
        &client,
        &mut Cache::open(dir.join("c.jsonl")).unwrap(),
    )
    .await;
    assert!(r2.complete);
    assert_eq!(
        server.request_count(),
        80,
        "only the 55 missing samples were requested"
    );
    assert_eq!((r2.usage.cached, r2.usage.new_calls), (25, 55));
    let bodies: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.body.to_string())
        .collect();
    assert_eq!(
        bodies.iter().collect::<HashSet<_>>().len(),
        80,
        "no request repeated"
    );

    let r3 = run(
        &items,
        &cfg,
        &client,
        &mut Cache::open(dir.join("c.jsonl")).unwrap(),
    )
    .await;
    assert_eq!(server.request_count(), 80, "re-scoring costs no calls");
    assert_eq!(r3.usage.cached, 80);
    assert_eq!(r3.suites, r2.suites);
    assert_eq!(r3.suites[0].stats.mean, 1.0);
}

#[tokio::test]
async fn interruption_mid_run_loses_nothing_completed() {
    let dir = TempDir::new("interrupt");
    let items = many_items();
    let server = TestServer::builder()
        .latency(Duration::from_millis(15))
        .start(echo_right(&items));
    let client = client(&server, 6);
    let cfg = config(1);
    // Interrupt once the server has seen 17 requests.
    let cancel = async {
        while server.request_count() < 17 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    let mut cache = Cache::open(dir.join("c.jsonl")).unwrap();
    let r1 = resyn_eval::evaluate(
        &items,
        &cfg,
        &client,
        &mut cache,
        &NoProgress,
        cancel,
        &ReportOptions::default(),
    )
    .await
    .unwrap();
    drop(cache);
    assert!(!r1.complete);
    let first: Vec<RecordedRequest> = server.requests();
    let cached = Cache::open(dir.join("c.jsonl")).unwrap();
    let n_cached = cached.len();
    assert!((10..40).contains(&n_cached), "{n_cached} cached");
    assert!(
        first.len() - n_cached <= 6,
        "at most the in-flight requests were lost"
    );
    let cached_prompts: HashSet<String> = items
        .iter()
        .filter(|i| {
            cached
                .get(&resyn_eval::cache_key(&cfg.request(&i.prompt, 0), 0))
                .is_some()
        })
        .map(|i| i.prompt.clone())
        .collect();
    drop(cached);

    server.reset();
    let mut cache = Cache::open(dir.join("c.jsonl")).unwrap();
    let r2 = run(&items, &cfg, &client, &mut cache).await;
    assert!(r2.complete);
    let second = server.requests();
    assert_eq!(
        second.len() + n_cached,
        items.len(),
        "every uncached item once, nothing else"
    );
    for r in &second {
        assert!(
            !cached_prompts.contains(&r.prompt),
            "cached prompt requested again"
        );
    }
    assert_eq!(r2.suites[0].stats.mean, 1.0);
}

#[tokio::test]
async fn http_errors_retries_and_failed_samples() {
    let dir = TempDir::new("errors");
    let items = bench_items(Benchmark::Gsm8k, "gsm8k/test.jsonl");
    let ok = |t: &str| Behavior::answer(format!("<answer>{t}</answer>"));
    let script = Script::new(ok("72"))
        .on(
            "Natalia",
            [
                Behavior::rate_limited(0.01),
                Behavior::status(503),
                ok("72"),
            ],
        )
        .on("Weng", [Behavior::status(500), ok("10")])
        .on("builder", [Behavior::status(400)])
        .on("Betty", [Behavior::malformed("upstream error <html>")]);
    let server = TestServer::start(script);
    let client = client(&server, 4);
    let r1 = run(
        &items,
        &config(1),
        &client,
        &mut Cache::open(dir.join("c.jsonl")).unwrap(),
    )
    .await;
    assert!(!r1.complete);
    assert_eq!(
        (r1.usage.new_calls, r1.usage.failed, r1.usage.retries),
        (4, 2, 3)
    );
    let sample = |r: &resyn_eval::Report, id: &str| {
        r.items.iter().find(|i| i.id == id).unwrap().samples[0].clone()
    };
    assert!(sample(&r1, "gsm8k/0").correct);
    assert!(sample(&r1, "gsm8k/1").correct);
    let s2 = sample(&r1, "gsm8k/2");
    assert_eq!(s2.reason, "request_failed");
    assert!(s2.error.as_deref().unwrap().contains("HTTP 400"), "{s2:?}");
    let s3 = sample(&r1, "gsm8k/3");
    assert!(
        s3.error.as_deref().unwrap().contains("upstream error"),
        "{s3:?}"
    );
    // Failures are left out of the aggregates, not counted as wrong.
    assert_eq!(r1.suites[0].stats.samples, 2);
    assert_eq!(r1.suites[0].stats.unscored, 2);
    assert_eq!(server.request_count(), 4 + 3);

    // A healthy server: only the two failed items are requested again.
    let healthy = TestServer::start(echo_right(&items));
    let r2 = run(
        &items,
        &config(1),
        &crate::common::client(&healthy, 4),
        &mut Cache::open(dir.join("c.jsonl")).unwrap(),
    )
    .await;
    assert!(r2.complete);
    let again: Vec<String> = healthy
        .requests()
        .iter()
        .map(|r| r.prompt.clone())
        .collect();
    assert_eq!(again.len(), 2);
    assert!(
        again.iter().any(|p| p.contains("builder")) && again.iter().any(|p| p.contains("Betty"))
    );
}

#[tokio::test]
async fn torn_last_cache_line_costs_one_call() {
    let dir = TempDir::new("torn");
    let items = bench_items(Benchmark::Gsm8k, "gsm8k/test.jsonl");
    let server = TestServer::start(echo_right(&items));
    let client = client(&server, 2);
    let path = dir.join("c.jsonl");
    run(
        &items,
        &config(1),
        &client,
        &mut Cache::open(&path).unwrap(),
    )
    .await;
    // Simulate a crash mid-write: cut the last line in half.
    let text = std::fs::read_to_string(&path).unwrap();
    let keep = text.trim_end().rfind('\n').unwrap() + 1 + 20;
    std::fs::write(&path, &text.as_bytes()[..keep]).unwrap();
    let mut cache = Cache::open(&path).unwrap();
    assert!(cache.load_stats().torn_bytes > 0);
    let r = run(&items, &config(1), &client, &mut cache).await;
    assert!(r.complete);
    assert_eq!(server.request_count(), 5);
    drop(cache);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.flush().unwrap();
    let lines = std::fs::read_to_string(&path).unwrap();
    assert_eq!(lines.lines().count(), 4);
    assert!(
        lines
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
}
