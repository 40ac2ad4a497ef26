//! `manifest.json`: what a build produced, from what, and the hash of every
//! file. It holds no timestamps or timings, so equal builds give
//! byte-identical manifests; maps are ordered (difficulty levels
//! numerically, splits train/validation/test).

use std::collections::BTreeMap;

use resyn_core::{Category, Source};
use serde::{Deserialize, Serialize};

use crate::{DatasetConfig, Split};

/// The manifest format identifier.
pub const MANIFEST_FORMAT: &str = "resyn-dataset/1";

/// Contents of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// Version of resyn that built the dataset.
    pub resyn_version: String,
    /// The full resolved config (defaults filled in, CLI overrides applied).
    pub config: DatasetConfig,
    /// Whole-dataset counts.
    pub totals: Totals,
    /// Per split: rows, and rows per category and difficulty.
    pub splits: BTreeMap<Split, SplitSummary>,
    /// Every environment in the dataset, in build order.
    pub environments: Vec<EnvSummary>,
    /// Environments left out, with the reason.
    pub excluded: Vec<Excluded>,
    /// Every file written besides the manifest.
    pub files: Vec<FileEntry>,
    /// `reward = "llm_answer"` only: how the LLM's answers fared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_answer: Option<LlmAnswerSummary>,
}

/// How the LLM's answers of an `llm_answer` build fared (rows of the dataset).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LlmAnswerSummary {
    /// The model that answered.
    pub model: String,
    /// Rows whose ground truth holds an answer.
    pub answered: u64,
    /// Rows where the reply had no extractable answer (they score 0).
    pub unanswered: u64,
    /// Answers the environment's verifier accepts: the label accuracy,
    /// which the verifier-reward arm has by construction.
    pub verified_correct: u64,
}

/// Whole-dataset counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Totals {
    /// Rows in the dataset (all splits).
    pub instances: u64,
    /// Instances the config asked for from the included environments.
    pub requested: u64,
    /// Instances generated and checked, refills included (included
    /// environments only).
    pub generated: u64,
    /// Instances dropped because their normalized prompt was already in
    /// the dataset.
    pub duplicates_dropped: u64,
    /// Environments in the dataset.
    pub environments: u64,
    /// Environments excluded.
    pub excluded_environments: u64,
    /// Reference answers that failed verification (excluded environments).
    pub reference_failures: u64,
    /// Generation errors (excluded environments).
    pub generation_errors: u64,
}

/// Rows of one split.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SplitSummary {
    /// Rows.
    pub rows: u64,
    /// Rows per category.
    pub by_category: BTreeMap<String, u64>,
    /// Rows per difficulty level.
    pub by_difficulty: BTreeMap<u8, u64>,
}

/// One environment's contribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnvSummary {
    /// Environment id.
    pub id: String,
    /// Environment version.
    pub version: u32,
    /// Category.
    pub category: Category,
    /// Source.
    pub source: Source,
    /// Instances asked for.
    pub requested: u64,
    /// Instances generated and checked (refills included).
    pub generated: u64,
    /// Rows in the dataset.
    pub rows: u64,
    /// Duplicates dropped.
    pub duplicates_dropped: u64,
    /// Rows per difficulty level.
    pub by_difficulty: BTreeMap<u8, u64>,
    /// Rows per split.
    pub by_split: BTreeMap<Split, u64>,
}

/// An environment left out of the dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Excluded {
    /// Environment id.
    pub id: String,
    /// Environment version.
    pub version: u32,
    /// Category.
    pub category: Category,
    /// Why, in words (counts and the first failure).
    pub reason: String,
    /// Reference answers that did not verify to 1.0.
    pub reference_failures: u64,
    /// Instances whose generation failed.
    pub generation_errors: u64,
}

/// A written file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileEntry {
    /// Path relative to the dataset directory.
    pub path: String,
    /// Data rows in it.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of its bytes.
    pub sha256: String,
}

impl Manifest {
    /// Read a `manifest.json`.
    ///
    /// # Errors
    /// When it is not a valid manifest.
    pub fn from_json(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s)
    }

    /// Pretty JSON with a trailing newline, as written to `manifest.json`.
    pub fn to_json_pretty(&self) -> String {
        // Every field is a string, integer, float or ordered map with string
        // or integer keys: serialization cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
