//! The curriculum policy parameters: the `[curriculum]` section of a
//! dataset config (TOML), every field defaulted.
//!
//! [`CurriculumConfig::default`] is the documented default; `configs/default.toml`
//! lists every field with its meaning. [`CurriculumConfig::validate`] names
//! the offending field relative to the section (`target_low`,
//! `envs.sudoku.max`); a caller embedding the section prefixes it.

use std::collections::BTreeMap;

use resyn_core::{MAX_DIFFICULTY, MIN_DIFFICULTY};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How the controller moves each environment's difficulty and weighs
/// environments against each other. See the crate docs for the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CurriculumConfig {
    /// Lower edge of the target accuracy band: below it, difficulty moves down.
    pub target_low: f64,
    /// Upper edge of the target accuracy band: above it, difficulty moves up.
    pub target_high: f64,
    /// Outcomes (responses) of an environment between two decisions.
    pub min_samples: u64,
    /// Levels moved per unit of accuracy error, measured from the middle
    /// of the band (a proportional controller: accuracy 1.0 with the
    /// default band and gain moves up 2 levels).
    pub gain: f64,
    /// Smallest move of a decision outside the band, in levels.
    pub min_step: f64,
    /// Largest move of one decision, in levels.
    pub max_step: f64,
    /// Half-width, in levels, of the triangular difficulty distribution
    /// around an environment's centre (more than 0.5: the nearest level
    /// always has weight).
    pub spread: f64,
    /// Starting centre of every environment's difficulty distribution
    /// (clamped into its bounds).
    pub start: f64,
    /// Window accuracy at or above which an environment whose centre is
    /// at its top level counts as saturated.
    pub retire_accuracy: f64,
    /// Consecutive saturated decisions that retire an environment (no
    /// more draws for the rest of the run); 0 never retires.
    pub retire_after: u32,
    /// Sampling weight of an environment with no learning signal; an
    /// environment's weight is `floor + (1 - floor) * 4a(1 - a)` for its
    /// last window accuracy `a` (1 before its first decision).
    pub weight_floor: f64,
    /// Responses the trainer samples per prompt (GRPO's G: verl's
    /// `rollout.n`, TRL's `num_generations`): an instance's outcomes form
    /// one group, closed after this many.
    pub group_size: u32,
    /// Consecutive generation failures that disable an environment.
    pub max_generation_failures: u32,
    /// Per-environment bounds and start, by environment id.
    pub envs: BTreeMap<String, EnvOverride>,
}

impl Default for CurriculumConfig {
    fn default() -> Self {
        Self {
            target_low: 0.3,
            target_high: 0.7,
            min_samples: 64,
            gain: 4.0,
            min_step: 0.25,
            max_step: 2.0,
            spread: 1.5,
            start: 1.0,
            retire_accuracy: 0.9,
            retire_after: 3,
            weight_floor: 0.1,
            group_size: 8,
            max_generation_failures: 8,
            envs: BTreeMap::new(),
        }
    }
}

/// `[curriculum.envs.ID]`: narrower bounds or another start for one
/// environment. Bounds are intersected with what the environment supports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvOverride {
    /// Lowest difficulty level to draw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u8>,
    /// Highest difficulty level to draw (the level retirement is judged at).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u8>,
    /// Starting centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
}

impl CurriculumConfig {
    /// Check the values (types are checked by parsing).
    ///
    /// # Errors
    /// [`Error::Config`] naming the first invalid field, relative to the
    /// `[curriculum]` section.
    pub fn validate(&self) -> Result<()> {
        let fraction = |name: &str, v: f64| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::config(name, format!("{v} is not in [0, 1]")))
            }
        };
        fraction("target_low", self.target_low)?;
        fraction("target_high", self.target_high)?;
        fraction("retire_accuracy", self.retire_accuracy)?;
        fraction("weight_floor", self.weight_floor)?;
        if self.target_low >= self.target_high {
            return Err(Error::config(
                "target_low",
                format!(
                    "{} must be below target_high ({})",
                    self.target_low, self.target_high
                ),
            ));
        }
        if self.weight_floor == 0.0 {
            // A zero floor could starve every environment of draws at once.
            return Err(Error::config("weight_floor", "must be above 0"));
        }
        if self.min_samples == 0 {
            return Err(Error::config("min_samples", "must be at least 1"));
        }
        for (name, v) in [
            ("group_size", self.group_size),
            ("max_generation_failures", self.max_generation_failures),
        ] {
            if v == 0 {
                return Err(Error::config(name, "must be at least 1"));
            }
        }
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::config(
                    name,
                    format!("{v} must be a positive number"),
                ))
            }
        };
        positive("gain", self.gain)?;
        positive("max_step", self.max_step)?;
        if !self.min_step.is_finite() || self.min_step < 0.0 || self.min_step > self.max_step {
            return Err(Error::config(
                "min_step",
                format!("{} must be in [0, max_step]", self.min_step),
            ));
        }
        if !self.spread.is_finite() || self.spread <= 0.5 || self.spread > 10.0 {
            return Err(Error::config(
                "spread",
                format!("{} must be above 0.5 and at most 10", self.spread),
            ));
        }
        check_level("start", self.start)?;
        for (id, o) in &self.envs {
            o.validate(id)?;
        }
        Ok(())
    }
}

impl EnvOverride {
    fn validate(&self, id: &str) -> Result<()> {
        let field = |name: &str| format!("envs.{id}.{name}");
        for (name, v) in [("min", self.min), ("max", self.max)] {
            if let Some(v) = v
                && !(MIN_DIFFICULTY..=MAX_DIFFICULTY).contains(&v)
            {
                return Err(Error::config(
                    field(name),
                    format!("{v} is outside {MIN_DIFFICULTY}..={MAX_DIFFICULTY}"),
                ));
            }
        }
        if let (Some(lo), Some(hi)) = (self.min, self.max)
            && lo > hi
        {
            return Err(Error::config(
                field("min"),
                format!("min {lo} is above max {hi}"),
            ));
        }
        if let Some(s) = self.start {
            check_level(&field("start"), s)?;
        }
        Ok(())
    }
}

fn check_level(field: &str, v: f64) -> Result<()> {
    if v.is_finite() && (f64::from(MIN_DIFFICULTY)..=f64::from(MAX_DIFFICULTY)).contains(&v) {
        Ok(())
    } else {
        Err(Error::config(
            field,
            format!("{v} is outside {MIN_DIFFICULTY}..={MAX_DIFFICULTY}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        CurriculumConfig::default().validate().unwrap();
    }

    #[test]
    fn errors_name_the_field() {
        let base = CurriculumConfig::default;
        let cases: Vec<(CurriculumConfig, &str)> = vec![
            (
                CurriculumConfig {
                    target_low: 0.8,
                    ..base()
                },
                "target_low",
            ),
            (
                CurriculumConfig {
                    target_high: f64::NAN,
                    ..base()
                },
                "target_high",
            ),
            (
                CurriculumConfig {
                    min_samples: 0,
                    ..base()
                },
                "min_samples",
            ),
            (
                CurriculumConfig {
                    spread: 0.5,
                    ..base()
                },
                "spread",
            ),
            (
                CurriculumConfig {
                    min_step: 3.0,
                    ..base()
                },
                "min_step",
            ),
            (
                CurriculumConfig {
                    weight_floor: 0.0,
                    ..base()
                },
                "weight_floor",
            ),
            (
                CurriculumConfig {
                    start: 11.0,
                    ..base()
                },
                "start",
            ),
            (
                CurriculumConfig {
                    envs: [(
                        "maze".to_string(),
                        EnvOverride {
                            min: Some(5),
                            max: Some(3),
                            start: None,
                        },
                    )]
                    .into(),
                    ..base()
                },
                "envs.maze.min",
            ),
        ];
        for (c, field) in cases {
            match c.validate() {
                Err(Error::Config { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
