//! Shared helpers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use resyn_eval::bench::Benchmark;
use resyn_eval::{Cache, EvalItem, NoProgress, Report, ReportOptions, RunConfig, Sampling};
use resyn_llm::test_server::{Behavior, RecordedRequest, TestServer};
use resyn_llm::{Client, RetryPolicy};

/// Benchmark files in each format (shared with the CLI's tests).
pub(crate) fn fixtures() -> PathBuf {
    resyn_test::fixture("eval")
}

pub(crate) fn bench_items(b: Benchmark, sub: &str) -> Vec<EvalItem> {
    b.load(&fixtures().join(sub))
        .unwrap()
        .into_iter()
        .map(EvalItem::from_bench)
        .collect()
}

pub(crate) use resyn_test::TempDir;

pub(crate) fn client(server: &TestServer, concurrency: usize) -> Client {
    Client::builder(server.base_url())
        .max_concurrency(concurrency)
        .timeout(Duration::from_secs(10))
        .retry(RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_millis(200),
        })
        .build()
        .unwrap()
}

pub(crate) fn config(samples: u32) -> RunConfig {
    RunConfig {
        model: "test-model".into(),
        system: None,
        sampling: Sampling {
            temperature: Some(0.0),
            max_tokens: Some(512),
            ..Sampling::default()
        },
        samples,
        max_calls: None,
    }
}

pub(crate) async fn run(
    items: &[EvalItem],
    cfg: &RunConfig,
    client: &Client,
    cache: &mut Cache,
) -> Report {
    resyn_eval::evaluate(
        items,
        cfg,
        client,
        cache,
        &NoProgress,
        std::future::pending(),
        &ReportOptions::default(),
    )
    .await
    .unwrap()
}

/// A responder answering each prompt by lookup (404 for unknown prompts).
pub(crate) fn by_prompt(map: HashMap<String, Behavior>) -> impl Fn(&RecordedRequest) -> Behavior {
    move |r: &RecordedRequest| map.get(&r.prompt).cloned().unwrap_or(Behavior::status(404))
}
