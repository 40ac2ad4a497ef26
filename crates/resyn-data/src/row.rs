//! One dataset row on its way from a worker to the writers.

use std::sync::Arc;

use resyn_core::EnvMeta;

use crate::{DatasetConfig, PromptTemplate, Split};

/// What every row of one environment shares.
#[derive(Debug)]
pub(crate) struct EnvInfo {
    /// Environment id.
    pub id: String,
    /// Environment version.
    pub version: u32,
    /// `resyn/<id>`: verl's `data_source`.
    pub data_source: String,
    /// The category name: verl's `ability`.
    pub ability: String,
}

impl EnvInfo {
    /// The row fields of an environment.
    pub(crate) fn new(m: &EnvMeta) -> Self {
        Self {
            id: m.id.clone(),
            version: m.version,
            data_source: format!("resyn/{}", m.id),
            ability: m.category.as_str().to_string(),
        }
    }
}

/// A generated, verified instance turned into row fields.
#[derive(Debug)]
pub(crate) struct Row {
    /// Normalized prompt hash (dedup key).
    pub hash: u64,
    /// Instance id.
    pub instance_id: String,
    /// Instance seed.
    pub seed: u64,
    /// Difficulty level.
    pub difficulty: u8,
    /// The user message: prefix + instance prompt + suffix.
    pub user: String,
    /// `reward_model.ground_truth` (a JSON string).
    pub ground_truth: String,
    /// The instance data, JSON-encoded.
    pub data: String,
}

/// A row with its place in the dataset.
#[derive(Debug)]
pub(crate) struct Placed {
    pub row: Row,
    pub split: Split,
    /// Row number within its split.
    pub index: u64,
}

/// Rows of one environment, sent to the writer thread in build order.
#[derive(Debug)]
pub(crate) struct Batch {
    pub env: Arc<EnvInfo>,
    pub rows: Vec<Placed>,
}

/// Whole-build constants the writers need.
#[derive(Debug, Clone)]
pub(crate) struct RowContext {
    /// System message (none when empty).
    pub system: Option<String>,
    /// `reward_model.style`.
    pub style: &'static str,
}

impl RowContext {
    /// The constants of rows built with `config`.
    pub(crate) fn new(config: &DatasetConfig) -> Self {
        let system = &config.prompt.system;
        Self {
            system: (!system.is_empty()).then(|| system.clone()),
            style: "rule",
        }
    }
}

/// The user message of an instance prompt: the template's prefix, the
/// prompt, its suffix.
pub(crate) fn user_message(template: &PromptTemplate, prompt: String) -> String {
    if template.prefix.is_empty() && template.suffix.is_empty() {
        prompt
    } else {
        format!("{}{}{}", template.prefix, prompt, template.suffix)
    }
}

/// The chat messages of a row: `(role, content)` pairs.
pub(crate) fn messages<'a>(
    ctx: &'a RowContext,
    row: &'a Row,
) -> ([(&'static str, &'a str); 2], usize) {
    match &ctx.system {
        Some(s) => ([("system", s.as_str()), ("user", row.user.as_str())], 2),
        None => ([("user", row.user.as_str()), ("", "")], 1),
    }
}
