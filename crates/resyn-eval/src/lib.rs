//! Evaluate any OpenAI-compatible model on resyn environments and on the
//! public reasoning benchmarks (BBH, BBEH, GSM8K, AIME).
//!
//! How the pieces fit:
//! 1. **Items** ([`EvalItem`]): environment instances from a [`Registry`]
//!    ([`env_items`] with an [`EnvSelection`]), scored by the environment's
//!    verifier; or benchmark questions loaded from local files
//!    ([`bench::Benchmark::load`]), scored by documented matchers
//!    ([`bench::matching`]).
//! 2. **Fetching** ([`runner::fetch`]): `samples` completions per item through
//!    a [`resyn_llm::Client`] (bounded concurrency, retries), reading and
//!    appending the resumable on-disk [`Cache`] so that an interrupted run
//!    continues where it stopped and re-scoring costs no calls.
//! 3. **Scoring and aggregation** ([`evaluate`] does 2 and 3): a [`Report`]
//!    with per-item results, mean@k, unbiased pass@k, Wilson intervals per
//!    suite, group and difficulty, token usage and timings.
//! 4. **Reading results**: [`Report::summary_table`], [`compare()`] (paired
//!    bootstrap significance) and [`html::render`] (a self-contained HTML
//!    report with SVG plots); [`env_completions`] hands a report's
//!    environment completions back (regenerated instances, cached texts) to
//!    be scored again by other verifiers.
//!
//! Scoring a benchmark answer (no network):
//! ```
//! use resyn_eval::bench::{BenchItem, Benchmark, Matcher};
//! let item = BenchItem {
//!     id: "gsm8k/0".into(),
//!     benchmark: Benchmark::Gsm8k,
//!     subtask: "gsm8k".into(),
//!     question: "Tom has 1,200 apples and buys 34 more. How many does he have?".into(),
//!     target: "1234".into(),
//!     matcher: Matcher::Numeric,
//! };
//! assert!(item.prompt().contains("<answer>"));
//! assert!(item.score("1200 + 34 = 1234. <answer>$1,234</answer>").0);
//! assert!(!item.score("<answer>1233</answer>").0);
//! ```
//!
//! A whole run:
//! ```no_run
//! # async fn demo() -> resyn_eval::Result<()> {
//! use resyn_eval::{Cache, EnvSelection, NoProgress, ReportOptions, RunConfig, Sampling};
//! let registry = resyn_core::Registry::new(); // e.g. resyn_envs::registry()
//! let items = resyn_eval::env_items(&registry, &EnvSelection {
//!     ids: vec!["all".into()], categories: vec![], difficulties: (1, 10), per_level: 20, seed: 0,
//! })?;
//! let client = resyn_llm::Client::builder("http://127.0.0.1:8000/v1").max_concurrency(64).build()?;
//! let config = RunConfig {
//!     model: "qwen2.5-7b-instruct".into(), system: None, samples: 4, max_calls: None,
//!     sampling: Sampling { temperature: Some(0.6), ..Sampling::default() },
//! };
//! let mut cache = Cache::open("eval-cache.jsonl")?;
//! let report = resyn_eval::evaluate(&items, &config, &client, &mut cache, &NoProgress,
//!     std::future::pending(), &ReportOptions::default()).await?;
//! report.write("report.json".as_ref())?;
//! print!("{}", report.summary_table());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub use cache::{Cache, CacheLoad, CacheRecord, cache_key};
pub use compare::{CompareRow, Comparison, compare};
pub use completions::{EnvCompletion, EnvCompletions, env_completions};
pub use error::{Error, Result};
pub use evaluate::{ReportOptions, evaluate};
pub use item::{ENVS_SUITE, EnvSelection, EvalItem, Scored, Target, env_items};
pub use report::{
    GroupSummary, ItemResult, LevelSummary, Percentiles, REPORT_FORMAT, Report, ReportConfig,
    SampleResult, Stats, SuiteSummary, Timings, UsageSummary, VERIFY_CHUNK,
};
pub use resyn_core::Registry;
pub use runner::{NoProgress, Outcome, Progress, RunConfig, Sampling};

pub mod bench;
pub mod cache;
mod compare;
mod completions;
mod error;
mod evaluate;
pub mod html;
mod item;
mod report;
pub mod runner;
pub mod stats;
