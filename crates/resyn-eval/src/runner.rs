//! Fetching completions: cache first, then the endpoint, with bounded
//! concurrency, a call budget and cancellation.
//!
//! Each (item, sample index) is one request with `n = 1`; sample `s` sends
//! `seed + s` when a seed is configured, so samples differ and each is cached
//! on its own. Requests with equal cache keys (the same prompt and sample
//! index) are sent once. The number of tasks alive is kept at twice the
//! client's concurrency, so the client's semaphore always has a request
//! waiting when a slot frees, and memory stays bounded for any item count.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use resyn_llm::{ChatRequest, Client, Message};
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::Result;
use crate::cache::{Cache, CacheRecord, cache_key};

/// Sampling settings sent with every request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Temperature (server default when unset).
    pub temperature: Option<f64>,
    /// Nucleus mass.
    pub top_p: Option<f64>,
    /// Completion token limit.
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Vec<String>,
    /// Base seed; sample `s` uses `seed + s`.
    pub seed: Option<u64>,
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Model name.
    pub model: String,
    /// Optional system message.
    pub system: Option<String>,
    /// Sampling settings.
    pub sampling: Sampling,
    /// Samples per item (the k of mean@k).
    pub samples: u32,
    /// Stop after this many new API calls (the rest stays for a rerun).
    pub max_calls: Option<u64>,
}

impl RunConfig {
    /// The request for sample `sample` of `prompt`.
    pub fn request(&self, prompt: &str, sample: u32) -> ChatRequest {
        let mut messages = Vec::with_capacity(2);
        if let Some(s) = &self.system {
            messages.push(Message::system(s.clone()));
        }
        messages.push(Message::user(prompt));
        ChatRequest {
            model: self.model.clone(),
            messages,
            temperature: self.sampling.temperature,
            top_p: self.sampling.top_p,
            max_tokens: self.sampling.max_tokens,
            n: None,
            stop: self.sampling.stop.clone(),
            seed: self
                .sampling
                .seed
                .map(|s| s.wrapping_add(u64::from(sample))),
            extra: serde_json::Map::new(),
        }
    }
}

/// Progress callbacks (the CLI draws a bar).
pub trait Progress: Send + Sync {
    /// `total` unique requests, of which `cached` are already answered.
    fn begin(&self, total: u64, cached: u64) {
        let _ = (total, cached);
    }
    /// One new request finished (`ok` = a completion came back).
    fn advance(&self, ok: bool) {
        let _ = ok;
    }
    /// Fetching is over.
    fn end(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What became of one (item, sample).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A completion, and whether it came from the cache.
    Done {
        /// The completion.
        record: CacheRecord,
        /// Read from the cache rather than requested.
        cached: bool,
    },
    /// The request failed after retries.
    Failed(String),
    /// Not requested (call budget reached or interrupted).
    NotRun,
}

/// Completions for every item and sample, plus fetch statistics.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// `outcomes[i][s]` for item `i`, sample `s`.
    pub outcomes: Vec<Vec<Outcome>>,
    /// Unique requests needed.
    pub unique_requests: u64,
    /// Answered from the cache.
    pub cached: u64,
    /// New calls that returned (a completion or a final error); calls
    /// abandoned by an interruption are not counted.
    pub new_calls: u64,
    /// New calls that failed.
    pub failed: u64,
    /// Requests not made.
    pub not_run: u64,
    /// Stopped by the cancellation signal.
    pub interrupted: bool,
    /// Wall time of fetching.
    pub elapsed: Duration,
    /// Latencies of new successful calls, in ms.
    pub latencies_ms: Vec<f64>,
}

enum Slot {
    Cached(CacheRecord),
    New(CacheRecord),
    Failed(String),
    NotRun,
}

/// Fetch every sample of every item, from `cache` or from `client`.
///
/// New completions are appended to the cache as they arrive. When `cancel`
/// resolves, requests in flight are abandoned and the function returns with
/// `interrupted` set; the cache keeps everything completed before.
///
/// # Errors
/// Only cache I/O errors; failed requests are reported per sample.
///
/// `prompts` are the user messages (e.g. [`crate::EvalItem::prompt`]); the
/// dataset builder's `llm_answer` mode uses this too.
pub async fn fetch(
    prompts: &[&str],
    config: &RunConfig,
    client: &Client,
    cache: &mut Cache,
    progress: &dyn Progress,
    cancel: impl Future<Output = ()>,
) -> Result<Fetched> {
    let start = Instant::now();
    // Unique requests, and each (item, sample)'s index among them.
    let mut keys: HashMap<String, usize> = HashMap::new();
    let mut unique: Vec<(String, u32, ChatRequest)> = Vec::new();
    let mut index: Vec<Vec<usize>> = Vec::with_capacity(prompts.len());
    for prompt in prompts {
        let mut row = Vec::with_capacity(config.samples as usize);
        for s in 0..config.samples {
            let req = config.request(prompt, s);
            let key = cache_key(&req, s);
            let k = *keys.entry(key.clone()).or_insert_with(|| {
                unique.push((key, s, req));
                unique.len() - 1
            });
            row.push(k);
        }
        index.push(row);
    }
    drop(keys);
    let mut slots: Vec<Slot> = Vec::with_capacity(unique.len());
    let mut pending = Vec::new();
    for (k, (key, _, _)) in unique.iter().enumerate() {
        match cache.get(key) {
            Some(r) => slots.push(Slot::Cached(r.clone())),
            None => {
                slots.push(Slot::NotRun);
                pending.push(k);
            }
        }
    }
    let cached = (unique.len() - pending.len()) as u64;
    progress.begin(unique.len() as u64, cached);

    let unique = Arc::new(unique);
    // Spawn no more tasks than the client runs at once: a finished task
    // waits in the join set until its record is appended to the cache, so a
    // larger window would let a kill -9 lose completed calls, not only the
    // ones in flight.
    let window = client.max_concurrency().max(1);
    let budget = config.max_calls.unwrap_or(u64::MAX);
    let mut tasks = JoinSet::new();
    let (mut next, mut calls, mut failed) = (0usize, 0u64, 0u64);
    let mut latencies = Vec::new();
    let mut interrupted = false;
    let cancel = std::pin::pin!(cancel);
    let mut cancel = cancel;
    let mut io_error = None;
    loop {
        while tasks.len() < window && next < pending.len() && calls < budget {
            let k = pending[next];
            let (client, unique) = (client.clone(), unique.clone());
            tasks.spawn(async move { (k, client.chat(&unique[k].2).await) });
            next += 1;
            calls += 1;
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            () = &mut cancel => {
                interrupted = true;
                tasks.abort_all();
                break;
            }
            joined = tasks.join_next() => {
                let Some(joined) = joined else { break };
                // A panicking task is a bug in the client; surface it.
                let (k, result) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                match result {
                    Ok(resp) => {
                        let (key, sample, req) = &unique[k];
                        let choice = resp.choices.into_iter().next();
                        let record = CacheRecord {
                            key: key.clone(),
                            model: req.model.clone(),
                            sample: *sample,
                            text: choice.as_ref().map(|c| c.text.clone()).unwrap_or_default(),
                            finish_reason: choice.as_ref().and_then(|c| c.finish_reason.as_ref()).map(|f| f.as_str().to_string()),
                            refusal: choice.and_then(|c| c.refusal),
                            prompt_tokens: resp.usage.prompt_tokens,
                            completion_tokens: resp.usage.completion_tokens,
                            latency_ms: resp.latency.as_secs_f64() * 1000.0,
                        };
                        latencies.push(record.latency_ms);
                        if let Err(e) = cache.insert(record.clone()) {
                            // Stop scheduling; keep what is in flight out of the report.
                            io_error = Some(e);
                            tasks.abort_all();
                            break;
                        }
                        slots[k] = Slot::New(record);
                        progress.advance(true);
                    }
                    Err(e) => {
                        failed += 1;
                        slots[k] = Slot::Failed(e.to_string());
                        progress.advance(false);
                    }
                }
            }
        }
    }
    cache.sync()?;
    progress.end();
    if let Some(e) = io_error {
        return Err(e);
    }
    let not_run = slots.iter().filter(|s| matches!(s, Slot::NotRun)).count() as u64;
    let outcomes = index
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|k| match &slots[k] {
                    Slot::Cached(r) => Outcome::Done {
                        record: r.clone(),
                        cached: true,
                    },
                    Slot::New(r) => Outcome::Done {
                        record: r.clone(),
                        cached: false,
                    },
                    Slot::Failed(e) => Outcome::Failed(e.clone()),
                    Slot::NotRun => Outcome::NotRun,
                })
                .collect()
        })
        .collect();
    Ok(Fetched {
        outcomes,
        unique_requests: slots.len() as u64,
        cached,
        new_calls: latencies.len() as u64 + failed,
        failed,
        not_run,
        interrupted,
        elapsed: start.elapsed(),
        latencies_ms: latencies,
    })
}
