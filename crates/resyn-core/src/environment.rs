//! The `Environment` trait and its metadata.

use serde::{Deserialize, Serialize};

use crate::{Instance, Result, Verdict};

/// Lowest difficulty level.
pub const MIN_DIFFICULTY: u8 = 1;
/// Highest difficulty level.
pub const MAX_DIFFICULTY: u8 = 10;

/// The kind of reasoning an environment exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Category {
    /// Find an assignment satisfying constraints (sudoku, SAT, coloring, ...).
    ConstraintSatisfaction,
    /// Carry out or design an algorithm (sorting, paths, knapsack, ...).
    Algorithmic,
    /// Reason about positions, shapes and movement.
    Spatial,
    /// Deductive logic (knights and knaves, syllogisms, ...).
    Logic,
    /// Arithmetic and number problems.
    Math,
}

impl Category {
    /// All categories, in display order.
    pub const ALL: [Category; 5] = [
        Self::ConstraintSatisfaction,
        Self::Algorithmic,
        Self::Spatial,
        Self::Logic,
        Self::Math,
    ];

    /// The snake_case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConstraintSatisfaction => "constraint_satisfaction",
            Self::Algorithmic => "algorithmic",
            Self::Spatial => "spatial",
            Self::Logic => "logic",
            Self::Math => "math",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Category {
    type Err = UnknownCategory;

    /// Accepts the snake_case names, case-insensitively, with spaces or
    /// hyphens for underscores.
    fn from_str(s: &str) -> std::result::Result<Self, UnknownCategory> {
        let norm = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == norm)
            .ok_or_else(|| UnknownCategory {
                name: s.to_string(),
            })
    }
}

/// A name that is not a [`Category`] (the error of parsing one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category `{name}` (expected one of: {})", category_names())]
pub struct UnknownCategory {
    /// The name as given.
    pub name: String,
}

fn category_names() -> String {
    Category::ALL.map(Category::as_str).join(", ")
}

/// Where an environment's code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// Written in Rust, part of resyn.
    Native,
    /// A Python module from an environment directory, run in the sandbox.
    Python,
    /// Written by the synthesis pipeline and stored in the resyn store.
    Synth,
}

impl Source {
    /// The snake_case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Python => "python",
            Self::Synth => "synth",
        }
    }
}

/// What describes an environment; `resyn envs --json` prints these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvMeta {
    /// Unique id, e.g. `sudoku`.
    pub id: String,
    /// Bumped whenever generated instances or verification change.
    pub version: u32,
    /// Kind of reasoning.
    pub category: Category,
    /// One-paragraph description of the task.
    pub description: String,
    /// Lowest supported difficulty.
    pub min_difficulty: u8,
    /// Highest supported difficulty.
    pub max_difficulty: u8,
    /// Native, Python or synthesized.
    pub source: Source,
    /// For synthesized environments: whether a solver model calibrated its
    /// difficulty when it was accepted (`false`: no solver endpoint was
    /// given, so neither difficulty nor real model answers were checked;
    /// datasets leave such environments out unless asked). `None` for
    /// native and hand-written Python environments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrated: Option<bool>,
}

/// A reasoning environment: an instance generator and a verifier.
///
/// Implementations must be deterministic (see the crate docs) and `verify`
/// must be total: any response string, however hostile, yields a verdict.
pub trait Environment: Send + Sync {
    /// Metadata.
    fn meta(&self) -> &EnvMeta;

    /// Generate the instance for `seed` at `difficulty`.
    ///
    /// # Errors
    /// [`crate::Error::DifficultyOutOfRange`] for an unsupported difficulty;
    /// backends (e.g. sandboxed Python) report their failures as errors too.
    fn generate(&self, seed: u64, difficulty: u8) -> Result<Instance>;

    /// Verify a full model response to `instance`.
    fn verify(&self, instance: &Instance, response: &str) -> Verdict;

    /// Generate many instances; backends with per-call overhead override this
    /// to batch. Results are in request order.
    fn generate_batch(&self, requests: &[(u64, u8)]) -> Vec<Result<Instance>> {
        requests.iter().map(|&(s, d)| self.generate(s, d)).collect()
    }

    /// Verify many responses; backends with per-call overhead override this
    /// to batch. Results are in request order.
    fn verify_batch(&self, items: &[(&Instance, &str)]) -> Vec<Verdict> {
        items.iter().map(|(i, r)| self.verify(i, r)).collect()
    }

    /// Prepare to be used soon, in the background, without blocking: a
    /// sandboxed environment starts its worker so that the next call does not
    /// wait for it. A hint; the default does nothing.
    fn warm_up(&self) {}

    /// Check that `difficulty` is in range.
    ///
    /// # Errors
    /// [`crate::Error::DifficultyOutOfRange`] when it is not.
    fn check_difficulty(&self, difficulty: u8) -> Result<()> {
        let m = self.meta();
        if (m.min_difficulty..=m.max_difficulty).contains(&difficulty) {
            Ok(())
        } else {
            Err(crate::Error::DifficultyOutOfRange {
                env: m.id.clone(),
                difficulty,
                min: m.min_difficulty,
                max: m.max_difficulty,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_parses_loosely_and_errors_clearly() {
        assert_eq!(
            "Constraint Satisfaction".parse::<Category>(),
            Ok(Category::ConstraintSatisfaction)
        );
        assert_eq!("spatial".parse::<Category>(), Ok(Category::Spatial));
        let err = "cooking".parse::<Category>().unwrap_err().to_string();
        assert!(err.contains("cooking") && err.contains("logic"), "{err}");
    }

    #[test]
    fn source_names_match_the_json_names() {
        for s in [Source::Native, Source::Python, Source::Synth] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
