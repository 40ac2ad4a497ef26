//! The configuration of a synthesis run (stored with the run, so
//! `--resume` needs nothing but the run id).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::calibrate::Policy;
use crate::dedup::DedupConfig;
use crate::validate::ValidationConfig;

/// Everything a run needs besides the store and the sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SynthConfig {
    /// Generator endpoint (`.../v1`).
    pub base_url: String,
    /// Generator model.
    pub model: String,
    /// Environment variable holding the generator's API key.
    pub api_key_env: Option<String>,
    /// Solver endpoint for calibration (and cross-verification on real answers).
    pub solver_base_url: Option<String>,
    /// Solver model.
    pub solver_model: Option<String>,
    /// Environment variable holding the solver's API key.
    pub solver_api_key_env: Option<String>,
    /// Environments to accept.
    pub target: u64,
    /// Candidates (and LLM requests) in flight at once.
    pub concurrency: usize,
    /// Repair rounds per candidate.
    pub repair_rounds: u32,
    /// Tasks proposed per keyword.
    pub tasks_per_keyword: usize,
    /// Most candidates a run processes (0: 20 × target).
    pub max_candidates: u64,
    /// Seed of keyword ordering and few-shot choice.
    pub seed: u64,
    /// Few-shot examples per implementation prompt.
    pub few_shot: usize,
    /// Directory of seed environments (few-shot examples, reserved names).
    pub examples_dir: Option<PathBuf>,
    /// Sampling temperature of generation calls.
    pub temperature: Option<f64>,
    /// `max_tokens` of generation calls.
    pub max_tokens: Option<u32>,
    /// Run the two-step LLM review.
    pub review: bool,
    /// Reviewer endpoint (review and judge calls); the generator's when
    /// unset. A model judging its own code is weak.
    pub review_base_url: Option<String>,
    /// Reviewer model; the generator model when unset.
    pub review_model: Option<String>,
    /// Environment variable holding the reviewer's API key.
    pub review_api_key_env: Option<String>,
    /// Sampling temperature of review and judge calls.
    pub review_temperature: Option<f64>,
    /// Run cross-verification.
    pub cross_verify: bool,
    /// Disagreements between the verifiers that adjudication cannot settle
    /// (no majority) an environment may keep; they are listed in its
    /// stored report.
    pub cross_max_unresolved: usize,
    /// Solver samples per difficulty level.
    pub calibration_samples: u32,
    /// Calibration thresholds: trend significance, headroom at the top,
    /// reach at the bottom.
    pub calibration: Policy,
    /// `max_tokens` of solver calls.
    pub solver_max_tokens: Option<u32>,
    /// Benchmark files for decontamination.
    pub benchmark_files: Vec<PathBuf>,
    /// Offline validation thresholds.
    pub validation: ValidationConfig,
    /// Dedup thresholds.
    pub dedup: DedupConfig,
    /// Per-request timeout of LLM calls, seconds.
    pub request_timeout_s: u64,
    /// Retries of LLM calls (429/5xx/timeouts).
    pub max_retries: u32,
    /// First retry backoff, milliseconds.
    pub retry_base_ms: u64,
    /// Ask for proposals as schema-constrained JSON.
    pub structured_proposals: StructuredOutput,
}

/// How to ask an endpoint for schema-constrained JSON (structured output).
/// Servers that support it decode under a grammar, so even small models
/// return parseable proposals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StructuredOutput {
    /// Plain text; the reply is parsed leniently (default).
    #[default]
    None,
    /// `response_format: {"type": "json_schema", "json_schema": {...}}`:
    /// OpenAI, vLLM, SGLang, llama.cpp's own server.
    JsonSchema,
    /// `response_format: {"type": "json_object", "schema": {...}}`: the
    /// server of `llama-cpp-python`.
    JsonObject,
}

impl StructuredOutput {
    /// The `response_format` request field for JSON matching `schema`
    /// (named `name`), or `None` for plain text.
    pub fn response_format(
        self,
        name: &str,
        schema: serde_json::Value,
    ) -> Option<serde_json::Value> {
        match self {
            Self::None => None,
            Self::JsonSchema => Some(serde_json::json!({
                "type": "json_schema",
                "json_schema": {"name": name, "strict": true, "schema": schema},
            })),
            Self::JsonObject => Some(serde_json::json!({"type": "json_object", "schema": schema})),
        }
    }
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            model: String::new(),
            api_key_env: None,
            solver_base_url: None,
            solver_model: None,
            solver_api_key_env: None,
            target: 10,
            concurrency: 8,
            repair_rounds: 2,
            tasks_per_keyword: 4,
            max_candidates: 0,
            seed: 0,
            few_shot: 2,
            examples_dir: None,
            temperature: Some(0.7),
            max_tokens: Some(8192),
            review: true,
            review_base_url: None,
            review_model: None,
            review_api_key_env: None,
            review_temperature: Some(0.0),
            cross_verify: true,
            cross_max_unresolved: 0,
            calibration_samples: 4,
            calibration: Policy::default(),
            solver_max_tokens: Some(4096),
            benchmark_files: Vec::new(),
            validation: ValidationConfig::default(),
            dedup: DedupConfig::default(),
            request_timeout_s: 600,
            max_retries: 5,
            retry_base_ms: 500,
            structured_proposals: StructuredOutput::None,
        }
    }
}

impl SynthConfig {
    /// The candidate budget.
    pub fn budget(&self) -> u64 {
        if self.max_candidates > 0 {
            self.max_candidates
        } else {
            self.target.saturating_mul(20).max(20)
        }
    }
}
