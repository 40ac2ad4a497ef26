//! The reward resyn hands to RL trainers, computed in one place for every
//! entry point (the Python package `resyn` and the HTTP server `resyn serve`).
//!
//! A trainer gives resyn a model response and something to score it
//! against, a [`Target`]:
//! - a dataset row's `reward_model.ground_truth` string, decoded by
//!   [`resyn_core::GroundTruth`] (the type the dataset builder encodes, so
//!   the encoding lives in exactly one place): `"verifier"` mode rebuilds the
//!   instance and runs the environment's verifier, `"code"` mode matches
//!   the answer exactly against the reference solver's answer;
//! - or a whole [`resyn_core::Instance`].
//!
//! The [`Scorer`] verifies, then [`compose`]s the final reward with the
//! caller's [`RewardConfig`]:
//!
//! ```text
//! score = verifier_weight * verdict.reward + format_weight * [format_ok]
//! ```
//!
//! where `format_ok` is [`check_format`]: the response holds one
//! `<think>...</think>` block followed by exactly one `<answer>...</answer>`
//! block. Defaults ([`RewardConfig::default`]): `verifier_weight = 1`,
//! `format_weight = 0`, so the score is the binary verifier reward unless a
//! format bonus is asked for. Batches ([`Scorer::score_ground_truths`],
//! [`Scorer::score_targets`]) decode and verify on all cores, grouped by
//! environment so sandboxed environments get whole batches, and return
//! results in input order.
//!
//! ```
//! use resyn_reward::{RewardConfig, Scorer};
//!
//! let registry = resyn_envs::registry();
//! let inst = registry.get("tower_of_hanoi")?.generate(7, 2)?;
//! // The dataset builder writes ground truths in this form.
//! let truth = serde_json::json!({
//!     "reward_mode": "verifier", "id": inst.id, "env": inst.env,
//!     "env_version": inst.env_version, "seed": inst.seed,
//!     "difficulty": inst.difficulty, "data": inst.data,
//! }).to_string();
//!
//! let scorer = Scorer::new(registry.clone());
//! let config = RewardConfig { format_weight: 0.1, ..Default::default() };
//! let response = format!("<think>recursion</think>{}", inst.reference);
//! let reward = scorer.score_ground_truth(&truth, &response, &config)?;
//! assert!(reward.verdict.correct && reward.format_ok);
//! assert!((reward.score - 1.1).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub use compose::{Reward, RewardConfig, compose};
pub use error::{Error, Result};
pub use format::{FormatViolation, check_format};
pub use scorer::{Observer, Scorer, Target};

mod compose;
mod error;
mod format;
mod parallel;
mod scorer;
