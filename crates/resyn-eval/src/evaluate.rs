//! Fetch, score and summarize in one call.

use std::future::Future;
use std::time::{Instant, SystemTime};

use resyn_llm::Client;

use crate::cache::Cache;
use crate::report::{
    Percentiles, REPORT_FORMAT, Report, ReportConfig, Timings, UsageSummary, score_items, summarize,
};
use crate::runner::{Progress, RunConfig, fetch};
use crate::{EvalItem, Result};

/// Report details that do not affect what is fetched.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Base URL to record.
    pub base_url: String,
    /// Target descriptions to record.
    pub targets: Vec<String>,
    /// Keep each response's text in the report.
    pub include_responses: bool,
}

/// Evaluate `items`: fetch every sample (cache first), score, summarize.
///
/// # Errors
/// Cache I/O errors only; failed requests are recorded in the report, which
/// is then marked incomplete.
pub async fn evaluate(
    items: &[EvalItem],
    config: &RunConfig,
    client: &Client,
    cache: &mut Cache,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
    options: &ReportOptions,
) -> Result<Report> {
    let started = Instant::now();
    let started_at_unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let before = client.usage();
    let prompts: Vec<&str> = items.iter().map(|i| i.prompt.as_str()).collect();
    let fetched = fetch(&prompts, config, client, cache, progress, cancel).await?;
    let after = client.usage();
    let scoring = Instant::now();
    let results = score_items(items, &fetched, options.include_responses);
    let score_s = scoring.elapsed().as_secs_f64();
    let suites = summarize(&results);
    let mut usage = UsageSummary {
        requests: fetched.unique_requests,
        cached: fetched.cached,
        new_calls: fetched.new_calls,
        failed: fetched.failed,
        not_run: fetched.not_run,
        http_attempts: after.attempts - before.attempts,
        retries: after.retries - before.retries,
        ..UsageSummary::default()
    };
    for s in results.iter().flat_map(|i| &i.samples) {
        usage.prompt_tokens += s.prompt_tokens;
        usage.completion_tokens += s.completion_tokens;
        if s.scored && !s.cached {
            usage.new_completion_tokens += s.completion_tokens;
        }
    }
    let fetch_s = fetched.elapsed.as_secs_f64();
    let complete = results.iter().all(|i| i.samples.iter().all(|s| s.scored));
    Ok(Report {
        format: REPORT_FORMAT.to_string(),
        config: ReportConfig {
            base_url: options.base_url.clone(),
            run: config.clone(),
            concurrency: client.max_concurrency(),
            targets: options.targets.clone(),
            started_at_unix,
            resyn_version: env!("CARGO_PKG_VERSION").to_string(),
        },
        complete,
        usage,
        timings: Timings {
            wall_s: started.elapsed().as_secs_f64(),
            fetch_s,
            score_s,
            calls_per_s: if fetch_s > 0.0 {
                fetched.new_calls as f64 / fetch_s
            } else {
                0.0
            },
            latency_ms: Percentiles::of(&fetched.latencies_ms),
        },
        suites,
        items: results,
    })
}
