//! Builds validated, trainer-ready RL datasets from resyn environments.
//!
//! A [`DatasetConfig`] (TOML, every field defaulted; see
//! `configs/default.toml`) selects environments, an instance budget,
//! difficulty levels, splits, the chat template and the reward mode.
//! [`DatasetBuilder`] turns it into a directory holding:
//!
//! - `{train,validation,test}.parquet`: verl's RL format (columns
//!   `data_source`, `prompt`, `ability`, `reward_model`, `extra_info`; see
//!   [`verl_schema`]),
//! - `{train,validation,test}.jsonl`: the same rows for TRL and OpenRLHF
//!   (`prompt` message list, `label` = ground truth),
//! - `manifest.json` ([`Manifest`]): counts per environment, difficulty
//!   and split, dropped duplicates, excluded environments with reasons, the
//!   resolved config, the resyn version and the SHA-256 of every file.
//!
//! Every instance's reference response is verified before its row is
//! written; an environment with a failing reference or a generation error
//! is excluded whole, with the reason in the manifest. Prompts are
//! deduplicated by [`normalized_prompt_hash`] across all splits. The same
//! config over the same environments gives byte-identical files; the
//! output directory is replaced atomically and memory stays bounded
//! whatever the dataset size. The `ground_truth` strings are
//! [`resyn_core::GroundTruth`]s, which reward functions decode and score.
//! [`online_generator`] turns the same config (its `[select]`, `seed`,
//! difficulty bounds and `[curriculum]` section) into an online
//! [`resyn_curriculum::Generator`], and [`OnlineRows`] renders its
//! instances as the rows a build would write.
//!
//! ```
//! use resyn_core::GroundTruth;
//! use resyn_data::{DatasetBuilder, DatasetConfig, Format};
//!
//! let tmp = tempfile::tempdir().unwrap();
//! let dir = tmp.path();
//! let mut config = DatasetConfig::from_toml_str(r#"
//!     instances_per_env = 20
//!     [select]
//!     ids = ["tower_of_hanoi"]
//!     [difficulty]
//!     max = 4
//! "#)?;
//! config.output.dir = dir.join("ds");
//! config.output.formats = vec![Format::Jsonl];
//! let registry = resyn_envs::registry();
//! let report = DatasetBuilder::new(config, &registry).build()?;
//! assert_eq!(report.manifest.totals.instances, 20);
//!
//! // Score a response against a row's ground truth, as a reward function would.
//! let line = std::fs::read_to_string(dir.join("ds/train.jsonl")).unwrap();
//! let row: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
//! let truth = GroundTruth::from_json(row["label"].as_str().unwrap()).unwrap();
//! let verdict = truth.score(&registry, "<answer>A->B</answer>").unwrap();
//! assert!(verdict.reward <= 1.0);
//! # Ok::<(), resyn_data::Error>(())
//! ```
#![deny(missing_docs)]

pub use build::{AnswerRequest, AnswerSource, BuildReport, DatasetBuilder, NoProgress, Progress};
pub use config::{
    DEFAULT_SYSTEM_PROMPT, DatasetConfig, DifficultySpec, Format, LlmAnswerConfig, OutputConfig,
    PromptTemplate, RewardMode, Selection, SplitFractions,
};
pub use error::{Error, Result};
pub use hashing::normalized_prompt_hash;
pub use manifest::{
    EnvSummary, Excluded, FileEntry, LlmAnswerSummary, MANIFEST_FORMAT, Manifest, SplitSummary,
    Totals,
};
pub use online::{
    ONLINE_SPLIT, OnlineRows, online_generator, online_generator_from_state, online_registry,
    online_run_options,
};
pub use parquet_sink::verl_schema;
pub use plan::seed_base;
pub use split::Split;

mod build;
mod config;
mod error;
mod hashing;
mod jsonl_sink;
mod lookahead;
mod manifest;
mod online;
mod parallel;
mod parquet_sink;
mod plan;
mod row;
mod split;
mod staging;
mod writer;
