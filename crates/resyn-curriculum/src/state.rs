//! Saving and restoring a [`Generator`]: controller, stream position, open
//! groups and not yet taken decisions.
//!
//! The state is one JSON document (format [`STATE_FORMAT`]) written
//! atomically (temporary file + rename): a crash or `kill -9` leaves the
//! previous state or the new one, never a torn file. Restoring it with the
//! same environments gives a generator whose future draws, decisions and
//! states are byte-identical to those of the generator that was saved.
//! Floats are written in shortest round-trip form and parsed exactly.

use std::path::Path;

use resyn_core::Registry;
use serde::{Deserialize, Serialize};

use crate::controller::{Decision, EnvState};
use crate::generator::{OpenGroup, RunOptions};
use crate::{CurriculumConfig, Error, Generator, Result};

/// The `format` field of a saved state.
pub const STATE_FORMAT: &str = "resyn-curriculum-state/1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    format: String,
    run: RunOptions,
    config: CurriculumConfig,
    envs: Vec<SavedEnv>,
    draws: u64,
    outcomes: u64,
    next_seq: u64,
    open: Vec<OpenGroup>,
    decisions: Vec<Decision>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedEnv {
    version: u32,
    state: EnvState,
}

impl Generator {
    /// The state as JSON (one line, no trailing newline).
    pub fn state_json(&self) -> String {
        let state = State {
            format: STATE_FORMAT.to_string(),
            run: self.run,
            config: self.config.clone(),
            envs: self
                .envs
                .iter()
                .zip(&self.handles)
                .map(|(s, h)| SavedEnv {
                    version: h.meta().version,
                    state: s.clone(),
                })
                .collect(),
            draws: self.draws,
            outcomes: self.outcomes,
            next_seq: self.next_seq,
            open: self.open.values().cloned().collect(),
            decisions: self.decisions.clone(),
        };
        // Plain data with finite floats (rewards are checked, centres are
        // clamped): serialization cannot fail.
        serde_json::to_string(&state).unwrap_or_else(|e| unreachable!("state serializes: {e}"))
    }

    /// Restore from [`Generator::state_json`] over the same environments.
    ///
    /// # Errors
    /// [`Error::State`] for JSON that is not a state of this format, or
    /// when `registry` does not hold exactly the saved environments at
    /// their saved versions.
    pub fn from_state_json(registry: Registry, json: &str) -> Result<Self> {
        let s: State = serde_json::from_str(json)
            .map_err(|e| Error::state(format!("not a curriculum state: {e}")))?;
        if s.format != STATE_FORMAT {
            return Err(Error::state(format!(
                "format `{}`, expected `{STATE_FORMAT}`",
                s.format
            )));
        }
        s.config
            .validate()
            .map_err(|e| Error::state(e.to_string()))?;
        let mut g = Generator::empty(registry, s.config, s.run);
        let saved: Vec<(&str, u32)> = s
            .envs
            .iter()
            .map(|e| (e.state.id.as_str(), e.version))
            .collect();
        let now: Vec<(&str, u32)> = g
            .handles
            .iter()
            .map(|h| (h.meta().id.as_str(), h.meta().version))
            .collect();
        if saved != now {
            return Err(Error::state(env_diff(&saved, &now)));
        }
        g.envs = s.envs.into_iter().map(|e| e.state).collect();
        for o in &s.open {
            if o.env >= g.envs.len() {
                return Err(Error::state(format!(
                    "open group {} names environment #{}",
                    o.id, o.env
                )));
            }
        }
        g.draws = s.draws;
        g.outcomes = s.outcomes;
        g.next_seq = s.next_seq;
        g.open_ids = s.open.iter().map(|o| (o.id.clone(), o.draw)).collect();
        g.open = s.open.into_iter().map(|o| (o.draw, o)).collect();
        g.decisions = s.decisions;
        Ok(g)
    }

    /// Save the state to `path` atomically.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut json = self.state_json();
        json.push('\n');
        resyn_core::write_atomic(path, json.as_bytes()).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Restore from a file written by [`Generator::save`].
    ///
    /// # Errors
    /// [`Error::Io`], or [`Error::State`] with the path (see
    /// [`Generator::from_state_json`]).
    pub fn load(registry: Registry, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_state_json(registry, &json).map_err(|e| match e {
            Error::State { message, .. } => Error::State {
                path: Some(path.to_path_buf()),
                message,
            },
            other => other,
        })
    }
}

/// Which environments differ between a saved state and a registry.
fn env_diff(saved: &[(&str, u32)], now: &[(&str, u32)]) -> String {
    let mut parts = Vec::new();
    for (id, v) in saved {
        match now.iter().find(|(n, _)| n == id) {
            None => parts.push(format!("`{id}` is missing")),
            Some((_, w)) if w != v => {
                parts.push(format!("`{id}` is at version {w}, saved at version {v}"));
            }
            Some(_) => {}
        }
    }
    for (id, _) in now {
        if !saved.iter().any(|(s, _)| s == id) {
            parts.push(format!("`{id}` was not in the saved run"));
        }
    }
    format!(
        "the environments differ from the saved run's: {}",
        parts.join(", ")
    )
}
