//! `reward = "llm_answer"`: the dataset builder's answers come from the
//! `[llm_answer]` endpoint through the evaluation runner, so they share its
//! client (retries on 429/5xx/timeouts, bounded concurrency), its JSONL
//! cache (appended as replies arrive; a torn last line is repaired) and
//! its Ctrl-C handling. A rebuild asks only for what the cache lacks, and
//! the same cache gives byte-identical datasets.

use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use resyn_core::{BoxError, ExtractConfig, extract_answer};
use resyn_data::{AnswerRequest, AnswerSource, LlmAnswerConfig};
use resyn_eval::{Cache, Outcome, RunConfig, Sampling, runner::fetch};
use resyn_llm::{Client, RetryPolicy};

/// Asks an OpenAI-compatible endpoint, through a cache.
pub(crate) struct LlmAnswers {
    runtime: tokio::runtime::Runtime,
    client: Client,
    config: LlmAnswerConfig,
    cache: Mutex<Cache>,
    counts: Mutex<Counts>,
}

/// What answering cost, for the summary.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    /// Answers read from the cache.
    pub cached: u64,
    /// New calls made.
    pub calls: u64,
}

impl LlmAnswers {
    /// Client and cache for `config`.
    pub(crate) fn new(config: &LlmAnswerConfig) -> anyhow::Result<Self> {
        let mut builder = Client::builder(&config.base_url)
            .max_concurrency(config.concurrency)
            .timeout(Duration::from_secs(config.timeout_secs))
            .retry(RetryPolicy {
                max_retries: config.max_retries,
                ..RetryPolicy::default()
            });
        if let Some(var) = &config.api_key_env {
            builder = builder.api_key_env(var);
        }
        let client = builder.build().context("llm_answer endpoint")?;
        let cache = Cache::open(&config.cache)
            .with_context(|| format!("opening the answer cache {}", config.cache.display()))?;
        let load = cache.load_stats();
        if load.torn_bytes > 0 || load.skipped_lines > 0 {
            eprintln!(
                "answer cache {}: cut a torn last line ({} bytes), skipped {} unreadable lines",
                config.cache.display(),
                load.torn_bytes,
                load.skipped_lines
            );
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        Ok(Self {
            runtime,
            client,
            config: config.clone(),
            cache: Mutex::new(cache),
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Answers read from the cache and new calls so far.
    pub(crate) fn counts(&self) -> Counts {
        *self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn run_config(&self, system: Option<&str>) -> RunConfig {
        RunConfig {
            model: self.config.model.clone(),
            system: system.map(str::to_string),
            sampling: Sampling {
                temperature: Some(self.config.temperature),
                max_tokens: Some(self.config.max_tokens),
                ..Sampling::default()
            },
            samples: 1,
            max_calls: None,
        }
    }
}

/// The bare answer of a reply, if it has a non-empty one.
fn answer_of(reply: &str) -> Option<String> {
    let a = extract_answer(reply, &ExtractConfig::default()).ok()?;
    let t = a.text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl AnswerSource for LlmAnswers {
    fn answers(&self, requests: &[AnswerRequest<'_>]) -> Result<Vec<Option<String>>, BoxError> {
        let Some(first) = requests.first() else {
            return Ok(Vec::new());
        };
        // The template's system message is the same for every row.
        let config = self.run_config(first.system);
        let prompts: Vec<&str> = requests.iter().map(|r| r.user).collect();
        let bar = crate::cmd::eval::completion_bar();
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let cache_path = self.config.cache.display().to_string();
        let fetched = self
            .runtime
            .block_on(async {
                let cancel = async {
                    if tokio::signal::ctrl_c().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                };
                fetch(&prompts, &config, &self.client, &mut cache, &bar, cancel).await
            })
            .with_context(|| format!("answer cache {cache_path}"))?;
        {
            let mut c = self
                .counts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            c.cached += fetched.cached;
            c.calls += fetched.new_calls;
        }
        if fetched.interrupted {
            return Err(format!(
                "interrupted; the answers received so far are cached in {cache_path}, \
                 run the build again to continue"
            )
            .into());
        }
        requests
            .iter()
            .zip(fetched.outcomes)
            .map(|(r, mut o)| match o.pop() {
                Some(Outcome::Done { record, .. }) => Ok(answer_of(&record.text)),
                Some(Outcome::Failed(e)) => Err(format!(
                    "asking {} about instance {} failed: {e} (answers so far are cached in \
                     {cache_path})",
                    self.config.base_url, r.instance_id
                )
                .into()),
                _ => Err(format!("no answer was requested for instance {}", r.instance_id).into()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::answer_of;

    #[test]
    fn answers_are_extracted_like_responses() {
        assert_eq!(
            answer_of("<think>x</think><answer> 42 </answer>").as_deref(),
            Some("42")
        );
        assert_eq!(answer_of("the answer is 42"), None);
        assert_eq!(answer_of("<answer>  </answer>"), None);
        assert_eq!(
            answer_of("<answer>1</answer> <answer>2</answer>").as_deref(),
            Some("2")
        );
    }
}
