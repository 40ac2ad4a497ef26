//! The dataset config (`resyn dataset build CONFIG.toml`).
//!
//! Every field has a default ([`DatasetConfig::default`]), so an empty file
//! (or no file) is a valid config; `configs/default.toml` spells the
//! defaults out and a test keeps the two equal. Unknown keys are rejected,
//! and every error names the offending field by its dotted path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use resyn_core::{Category, MAX_DIFFICULTY, MIN_DIFFICULTY, Source};
use resyn_curriculum::CurriculumConfig;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The default system prompt: think first, then answer in tags (the format
/// the published format reward checks).
pub const DEFAULT_SYSTEM_PROMPT: &str = "You are a careful reasoner. First think through the \
problem step by step inside <think> </think> tags, then give your final answer inside \
<answer> </answer> tags.";

/// How a trainer computes the reward for a response; decides what
/// `reward_model.ground_truth` holds (see [`resyn_core::GroundTruth`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RewardMode {
    /// resyn's verifier scores the response; the ground truth carries the
    /// instance (id, env, version, seed, difficulty, data).
    Verifier,
    /// Exact canonical match (whitespace-collapsed, case-insensitive) of
    /// the extracted answer against the answer of the environment's own
    /// reference solver.
    Code,
    /// Exact canonical match against the answer an LLM endpoint wrote for
    /// the instance at build time (`[llm_answer]`; cached).
    LlmAnswer,
}

impl RewardMode {
    /// The snake_case name used in configs and ground truths.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verifier => "verifier",
            Self::Code => "code",
            Self::LlmAnswer => "llm_answer",
        }
    }
}

/// An output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Format {
    /// verl parquet: `{split}.parquet`.
    Parquet,
    /// JSON Lines for TRL / OpenRLHF: `{split}.jsonl`.
    Jsonl,
}

impl Format {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Parquet => "parquet",
            Self::Jsonl => "jsonl",
        }
    }
}

/// The full dataset configuration. See `configs/default.toml` for every
/// field with its documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatasetConfig {
    /// Master seed: picks instance seeds, difficulty order and (with
    /// `max_environments`) which environments are used.
    pub seed: u64,
    /// Instances generated per environment.
    pub instances_per_env: u64,
    /// A total instance budget spread evenly over the selected
    /// environments; overrides `instances_per_env` when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_instances: Option<u64>,
    /// Use at most this many environments, chosen deterministically from
    /// `seed`, round-robin over categories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_environments: Option<usize>,
    /// How rewards are computed.
    pub reward: RewardMode,
    /// Extra rounds of fresh seeds that replace instances dropped as
    /// duplicates (0: never replace).
    pub refill_rounds: u32,
    /// Which environments.
    pub select: Selection,
    /// Which difficulty levels, and how often.
    pub difficulty: DifficultySpec,
    /// Train/validation/test fractions.
    pub split: SplitFractions,
    /// How an instance becomes a chat prompt.
    pub prompt: PromptTemplate,
    /// Where and what to write.
    pub output: OutputConfig,
    /// The endpoint that answers every instance when
    /// `reward = "llm_answer"` (required then, unused otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm_answer: Option<LlmAnswerConfig>,
    /// The adaptive curriculum of online generation ([`crate::online_generator`]);
    /// `dataset build` ignores it. Absent: the defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curriculum: Option<CurriculumConfig>,
}

impl Default for DatasetConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            instances_per_env: 40,
            total_instances: None,
            max_environments: None,
            reward: RewardMode::Verifier,
            refill_rounds: 4,
            select: Selection::default(),
            difficulty: DifficultySpec::default(),
            split: SplitFractions::default(),
            prompt: PromptTemplate::default(),
            output: OutputConfig::default(),
            llm_answer: None,
            curriculum: None,
        }
    }
}

/// `[llm_answer]`: the OpenAI-compatible endpoint whose answers become the
/// ground truth of `reward = "llm_answer"`. Answers are cached in `cache`
/// (JSON Lines, appended as they arrive), so a rebuild or an interrupted
/// build asks only for what is missing, and the same cache gives
/// byte-identical datasets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmAnswerConfig {
    /// Endpoint, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// Model name sent with each request.
    pub model: String,
    /// Environment variable holding the API key (none sent when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Sampling temperature (0: greedy, the usual choice for labels).
    #[serde(default)]
    pub temperature: f64,
    /// Completion token limit per answer.
    #[serde(default = "default_llm_max_tokens")]
    pub max_tokens: u32,
    /// Requests in flight at once.
    #[serde(default = "default_llm_concurrency")]
    pub concurrency: usize,
    /// Per-request timeout, seconds (each request is retried on 429, 5xx
    /// and timeouts).
    #[serde(default = "default_llm_timeout")]
    pub timeout_secs: u64,
    /// Retries of a failed request (429, 5xx, timeouts, connection errors)
    /// with exponential backoff.
    #[serde(default = "default_llm_retries")]
    pub max_retries: u32,
    /// Answer cache (relative to the working directory).
    #[serde(default = "default_llm_cache")]
    pub cache: PathBuf,
}

fn default_llm_max_tokens() -> u32 {
    4096
}
fn default_llm_concurrency() -> usize {
    8
}
fn default_llm_timeout() -> u64 {
    600
}
fn default_llm_retries() -> u32 {
    5
}
fn default_llm_cache() -> PathBuf {
    PathBuf::from("llm-answers.jsonl")
}

/// Environment selection; empty lists mean "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Selection {
    /// Only these environment ids (all when empty).
    pub ids: Vec<String>,
    /// Never these environment ids.
    pub exclude: Vec<String>,
    /// Only these categories (all when empty).
    pub categories: Vec<Category>,
    /// Only these sources: `native`, `python`, `synth` (all when empty).
    pub sources: Vec<Source>,
    /// Also use synthesized environments that no solver calibrated (`resyn
    /// synth` without a solver endpoint): their difficulty scaling and their
    /// verifier on real model answers were never checked.
    pub include_uncalibrated: bool,
}

/// Difficulty levels: a uniform range, or a weighted mix inside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DifficultySpec {
    /// Lowest level (1..=10).
    pub min: u8,
    /// Highest level (1..=10).
    pub max: u8,
    /// Level → relative weight, e.g. `{ 1 = 1.0, 5 = 2.0 }`. When set, only
    /// these levels are used, in these proportions; they must lie within
    /// `min..=max`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<BTreeMap<String, f64>>,
}

impl Default for DifficultySpec {
    fn default() -> Self {
        Self {
            min: MIN_DIFFICULTY,
            max: MAX_DIFFICULTY,
            mix: None,
        }
    }
}

impl DifficultySpec {
    /// The levels with their weights, in increasing level order.
    ///
    /// # Errors
    /// [`Error::Config`] naming `difficulty.*` when the spec is invalid.
    pub fn weights(&self) -> Result<Vec<(u8, f64)>> {
        for (name, v) in [("min", self.min), ("max", self.max)] {
            if !(MIN_DIFFICULTY..=MAX_DIFFICULTY).contains(&v) {
                return Err(Error::config(
                    format!("difficulty.{name}"),
                    format!("{v} is outside {MIN_DIFFICULTY}..={MAX_DIFFICULTY}"),
                ));
            }
        }
        if self.min > self.max {
            return Err(Error::config(
                "difficulty.min",
                format!("min {} is above max {}", self.min, self.max),
            ));
        }
        let Some(mix) = &self.mix else {
            return Ok((self.min..=self.max).map(|d| (d, 1.0)).collect());
        };
        let mut out = BTreeMap::new();
        for (key, &w) in mix {
            let field = format!("difficulty.mix.{key}");
            let level: u8 = key.trim().parse().map_err(|_| {
                Error::config(&field, "keys must be difficulty levels (integers 1-10)")
            })?;
            if !(self.min..=self.max).contains(&level) {
                return Err(Error::config(
                    &field,
                    format!(
                        "level {level} is outside difficulty.min..=max ({}..={})",
                        self.min, self.max
                    ),
                ));
            }
            if !w.is_finite() || w < 0.0 {
                return Err(Error::config(
                    &field,
                    format!("weight {w} must be finite and >= 0"),
                ));
            }
            if out.insert(level, w).is_some() {
                return Err(Error::config(
                    &field,
                    format!("level {level} is given twice"),
                ));
            }
        }
        if !out.values().any(|&w| w > 0.0) {
            return Err(Error::config(
                "difficulty.mix",
                "needs at least one positive weight",
            ));
        }
        Ok(out.into_iter().filter(|&(_, w)| w > 0.0).collect())
    }
}

/// Fractions of the deduplicated instances per split; they sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitFractions {
    /// Training fraction.
    pub train: f64,
    /// Validation fraction.
    pub validation: f64,
    /// Test fraction.
    pub test: f64,
}

impl Default for SplitFractions {
    fn default() -> Self {
        Self {
            train: 0.9,
            validation: 0.05,
            test: 0.05,
        }
    }
}

impl SplitFractions {
    /// The fractions in [`crate::Split::ALL`] order.
    pub fn as_array(&self) -> [f64; 3] {
        [self.train, self.validation, self.test]
    }
}

/// How an instance prompt becomes a chat message list: an optional system
/// message, then one user message `prefix + instance.prompt + suffix`.
/// The answer-format instruction is already part of `instance.prompt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PromptTemplate {
    /// System message; empty for none.
    pub system: String,
    /// Text put before the instance prompt in the user message.
    pub prefix: String,
    /// Text put after the instance prompt in the user message.
    pub suffix: String,
}

impl Default for PromptTemplate {
    fn default() -> Self {
        Self {
            system: DEFAULT_SYSTEM_PROMPT.to_string(),
            prefix: String::new(),
            suffix: String::new(),
        }
    }
}

/// Output location and formats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Output directory, relative to the working directory; replaced
    /// atomically by a successful build.
    pub dir: PathBuf,
    /// Formats to write besides `manifest.json`.
    pub formats: Vec<Format>,
    /// Rows per Parquet row group.
    pub row_group_size: usize,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("out/dataset"),
            formats: vec![Format::Parquet, Format::Jsonl],
            row_group_size: 8192,
        }
    }
}

impl DatasetConfig {
    /// Parse and validate a TOML config.
    ///
    /// # Errors
    /// [`Error::Syntax`] for malformed TOML, [`Error::Config`] naming the
    /// field for unknown keys, wrong types and invalid values.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let de = toml::Deserializer::parse(text).map_err(|e| Error::Syntax {
            path: None,
            message: e.to_string(),
        })?;
        let config: Self = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let at = inner
                .span()
                .map(|s| {
                    let (line, col) = line_col(text, s.start);
                    format!(" (line {line}, column {col})")
                })
                .unwrap_or_default();
            Error::config(
                if path == "." {
                    "(top level)".to_string()
                } else {
                    path
                },
                format!("{}{at}", inner.message()),
            )
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Read, parse and validate a TOML config file.
    ///
    /// # Errors
    /// As [`DatasetConfig::from_toml_str`], with the path attached, or
    /// [`Error::Io`].
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml_str(&text).map_err(|e| e.with_config_path(path))
    }

    /// Check the values (types are checked by parsing).
    ///
    /// # Errors
    /// [`Error::Config`] naming the first invalid field.
    pub fn validate(&self) -> Result<()> {
        if self.instances_per_env == 0 && self.total_instances.is_none() {
            return Err(Error::config("instances_per_env", "must be at least 1"));
        }
        if self.total_instances == Some(0) {
            return Err(Error::config("total_instances", "must be at least 1"));
        }
        if self.max_environments == Some(0) {
            return Err(Error::config("max_environments", "must be at least 1"));
        }
        self.difficulty.weights()?;
        let names = ["train", "validation", "test"];
        let fr = self.split.as_array();
        for (name, f) in names.iter().zip(fr) {
            if !f.is_finite() || !(0.0..=1.0).contains(&f) {
                return Err(Error::config(
                    format!("split.{name}"),
                    format!("{f} is not a fraction in [0, 1]"),
                ));
            }
        }
        let sum: f64 = fr.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err(Error::config(
                "split",
                format!("train + validation + test must be 1, got {sum}"),
            ));
        }
        if self.output.dir.as_os_str().is_empty() {
            return Err(Error::config("output.dir", "must not be empty"));
        }
        if self.output.formats.is_empty() {
            return Err(Error::config(
                "output.formats",
                "name at least one format (parquet, jsonl)",
            ));
        }
        let mut seen = self.output.formats.clone();
        seen.sort();
        seen.dedup();
        if seen.len() != self.output.formats.len() {
            return Err(Error::config("output.formats", "a format is listed twice"));
        }
        if self.output.row_group_size == 0 {
            return Err(Error::config("output.row_group_size", "must be at least 1"));
        }
        match (&self.llm_answer, self.reward) {
            (None, RewardMode::LlmAnswer) => {
                return Err(Error::config(
                    "llm_answer",
                    "reward = \"llm_answer\" needs an [llm_answer] section with base_url and model",
                ));
            }
            (Some(l), _) => l.validate()?,
            (None, _) => {}
        }
        if let Some(c) = &self.curriculum {
            c.validate().map_err(crate::Error::from_curriculum)?;
        }
        for (k, id) in self.select.ids.iter().enumerate() {
            if id.trim().is_empty() {
                return Err(Error::config(
                    format!("select.ids[{k}]"),
                    "empty environment id",
                ));
            }
        }
        Ok(())
    }

    /// The config as pretty TOML (e.g. to show what a build used).
    ///
    /// # Errors
    /// Never in practice: every field is representable in TOML.
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| Error::config("(top level)", e.to_string()))
    }
}

/// 1-based line and column of byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl LlmAnswerConfig {
    fn validate(&self) -> Result<()> {
        for (name, v) in [("base_url", &self.base_url), ("model", &self.model)] {
            if v.trim().is_empty() {
                return Err(Error::config(
                    format!("llm_answer.{name}"),
                    "must not be empty",
                ));
            }
        }
        if !self.base_url.starts_with("http://") && !self.base_url.starts_with("https://") {
            return Err(Error::config(
                "llm_answer.base_url",
                format!("{:?} is not an http(s) URL", self.base_url),
            ));
        }
        if !self.temperature.is_finite() || !(0.0..=2.0).contains(&self.temperature) {
            return Err(Error::config(
                "llm_answer.temperature",
                format!("{} is outside 0..=2", self.temperature),
            ));
        }
        for (name, v) in [
            ("max_tokens", u64::from(self.max_tokens)),
            ("concurrency", self.concurrency as u64),
            ("timeout_secs", self.timeout_secs),
        ] {
            if v == 0 {
                return Err(Error::config(
                    format!("llm_answer.{name}"),
                    "must be at least 1",
                ));
            }
        }
        if self.cache.as_os_str().is_empty() {
            return Err(Error::config("llm_answer.cache", "must not be empty"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        DatasetConfig::from_toml_str(text).unwrap_err().to_string()
    }

    #[test]
    fn empty_config_is_the_default() {
        assert_eq!(
            DatasetConfig::from_toml_str("").unwrap(),
            DatasetConfig::default()
        );
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("bogus = 1", "bogus", "unknown field `bogus`"),
            ("[split]\ntrain = \"x\"", "split.train", "invalid type"),
            ("[split]\ntrain = 0.5", "split", "must be 1"),
            (
                "[split]\ntrain = -0.1\nvalidation = 1.1",
                "split.train",
                "fraction",
            ),
            ("[select]\nid = [\"a\"]", "select.id", "unknown field `id`"),
            (
                "[select]\ncategories = [\"cooking\"]",
                "select.categories[0]",
                "cooking",
            ),
            ("[select]\nsources = [\"web\"]", "select.sources[0]", "web"),
            ("reward = \"judge\"", "reward", "judge"),
            (
                "reward = \"llm_answer\"",
                "llm_answer",
                "needs an [llm_answer]",
            ),
            ("[llm_answer]\nmodel = \"m\"", "llm_answer", "base_url"),
            (
                "[llm_answer]\nbase_url = \"ftp://x\"\nmodel = \"m\"",
                "llm_answer.base_url",
                "not an http",
            ),
            (
                "[llm_answer]\nbase_url = \"http://x\"\nmodel = \"m\"\nconcurrency = 0",
                "llm_answer.concurrency",
                "at least 1",
            ),
            ("[difficulty]\nmin = 0", "difficulty.min", "outside"),
            ("[difficulty]\nmin = 5\nmax = 2", "difficulty.min", "above"),
            (
                "[difficulty]\nmix = { 11 = 1.0 }",
                "difficulty.mix.11",
                "outside",
            ),
            (
                "[difficulty]\nmix = { x = 1.0 }",
                "difficulty.mix.x",
                "levels",
            ),
            (
                "[difficulty]\nmix = { 2 = 0.0 }",
                "difficulty.mix",
                "positive",
            ),
            (
                "[difficulty]\nmix = { 2 = -1.0 }",
                "difficulty.mix.2",
                ">= 0",
            ),
            ("instances_per_env = 0", "instances_per_env", "at least 1"),
            (
                "instances_per_env = -3",
                "instances_per_env",
                "invalid value",
            ),
            ("max_environments = 0", "max_environments", "at least 1"),
            ("[output]\nformats = []", "output.formats", "at least one"),
            ("[output]\nformats = [\"csv\"]", "output.formats[0]", "csv"),
            (
                "[output]\nformats = [\"jsonl\", \"jsonl\"]",
                "output.formats",
                "twice",
            ),
            ("[prompt]\nsystem = 3", "prompt.system", "invalid type"),
            (
                "[curriculum]\ntarget_low = 0.9",
                "curriculum.target_low",
                "below target_high",
            ),
            (
                "[curriculum]\nbogus = 1",
                "curriculum.bogus",
                "unknown field",
            ),
            (
                "[curriculum.envs.maze]\nmax = 11",
                "curriculum.envs.maze.max",
                "outside",
            ),
            (
                "[curriculum]\nmin_samples = \"x\"",
                "curriculum.min_samples",
                "invalid type",
            ),
        ];
        for (text, field, what) in cases {
            let e = err(text);
            assert!(e.contains(&format!("field `{field}`")), "{text:?} -> {e}");
            assert!(e.contains(what), "{text:?} -> {e}");
        }
    }

    #[test]
    fn type_errors_carry_line_and_column() {
        let e = err("seed = 1\n[split]\ntrain = \"x\"\n");
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn syntax_errors_are_reported() {
        let e = DatasetConfig::from_toml_str("seed = = 1").unwrap_err();
        assert!(matches!(e, Error::Syntax { .. }), "{e}");
    }

    #[test]
    fn mix_weights_are_ordered_and_zero_weights_dropped() {
        let c = DatasetConfig::from_toml_str("[difficulty]\nmix = { 10 = 1.0, 2 = 3.0, 5 = 0.0 }")
            .unwrap();
        assert_eq!(c.difficulty.weights().unwrap(), vec![(2, 3.0), (10, 1.0)]);
    }

    #[test]
    fn toml_round_trip() {
        let mut c = DatasetConfig {
            total_instances: Some(100),
            max_environments: Some(3),
            ..DatasetConfig::default()
        };
        c.difficulty.mix = Some([("3".to_string(), 1.0)].into());
        c.curriculum = Some(CurriculumConfig {
            target_low: 0.25,
            ..CurriculumConfig::default()
        });
        let back = DatasetConfig::from_toml_str(&c.to_toml_string().unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
