//! Adaptive curriculum for resyn environments: every instance fresh, each
//! environment's difficulty following the policy.
//!
//! A [`Generator`] owns the environments of a run (a
//! [`resyn_core::Registry`]: native, Python and synthesized environments
//! alike) and a controller configured by a [`CurriculumConfig`] (the
//! `[curriculum]` section of a dataset config). A trainer alternates:
//!
//! 1. [`Generator::draw`]: fresh instances. The environment is chosen by
//!    weight, the level from that environment's difficulty distribution
//!    (triangular, `spread` levels wide, around a centre), the seed from a
//!    per-environment counter, all randomness from the run seed and the
//!    draw number: the stream is reproducible and never repeats an id.
//! 2. [`Generator::report`]: one [`Outcome`] per response (GRPO samples G
//!    responses per prompt; the G outcomes of an instance form a group).
//!    After `min_samples` outcomes of an environment the controller
//!    decides on their mean reward `a` (the window's accuracy):
//!    - above `target_high`: the centre moves up by
//!      `clamp(gain * |a - mid|, min_step, max_step)` levels (`mid`: the
//!      band's middle), below `target_low` down by as much, within the
//!      environment's bounds; in the band it holds;
//!    - at its top level with `a >= retire_accuracy` for `retire_after`
//!      decisions in a row, the environment is retired;
//!    - its sampling weight becomes `floor + (1 - floor) * 4a(1 - a)`:
//!      environments with learning signal (accuracy inside the band) are
//!      drawn most, saturated or hopeless ones least.
//!
//!    Outcomes of instances drawn before the centre last moved are stale
//!    and do not enter a decision. Every decision (holds too) is a
//!    [`Decision`], taken with [`Generator::take_decisions`] and written
//!    as JSON Lines with [`write_decisions`] (or appended to a log file
//!    with [`append_decisions`]).
//! 3. [`Generator::save`] / [`Generator::load`]: the whole state
//!    (controller, stream position, open groups) in one atomically
//!    written JSON file; a restored generator continues with the same
//!    instances and decisions as one never interrupted.
//!
//! [`sim`] simulates a learning policy to compare this controller with
//! uniform sampling and RLVE's promote-only rule (`docs/curriculum.md`).
//!
//! ```
//! use resyn_curriculum::{CurriculumConfig, Generator, Outcome, RunOptions};
//!
//! let config = CurriculumConfig { min_samples: 16, ..CurriculumConfig::default() };
//! let run = RunOptions { seed: 7, ..RunOptions::default() };
//! let mut generator = Generator::new(resyn_envs::registry(), config, run)?;
//! for _step in 0..4 {
//!     let batch = generator.draw(8)?;
//!     // The trainer samples G = 8 responses per instance and verifies them;
//!     // here every response is right, so difficulties go up.
//!     let outcomes: Vec<Outcome> = batch
//!         .iter()
//!         .flat_map(|inst| (0..8).map(move |_| Outcome {
//!             id: Some(inst.id.clone()),
//!             env: inst.env.clone(),
//!             difficulty: inst.difficulty,
//!             reward: 1.0,
//!         }))
//!         .collect();
//!     generator.report(&outcomes)?;
//! }
//! let mut log = Vec::new();
//! resyn_curriculum::write_decisions(&generator.take_decisions(), &mut log).unwrap();
//! assert!(String::from_utf8(log).unwrap().contains(r#""action":"up""#));
//!
//! // Save, restore, and the stream continues identically.
//! let dir = tempfile::tempdir().unwrap();
//! let state = dir.path().join("state.json");
//! generator.save(&state)?;
//! let mut restored = Generator::load(resyn_envs::registry(), &state)?;
//! assert_eq!(restored.draw(4)?, generator.draw(4)?);
//! # Ok::<(), resyn_curriculum::Error>(())
//! ```
#![deny(missing_docs)]

pub use config::{CurriculumConfig, EnvOverride};
pub use controller::{Action, Decision, EnvStats, Status};
pub use error::{Error, Result};
pub use generator::{EnvSnapshot, Generator, MAX_OPEN_GROUPS, Outcome, ReportSummary, RunOptions};
pub use log::{append_decisions, write_decisions};
pub use state::STATE_FORMAT;

mod config;
mod controller;
mod error;
mod generator;
mod log;
mod random;
mod state;

pub mod sim;
