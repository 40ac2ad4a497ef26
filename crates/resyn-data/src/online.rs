//! Online generation from a dataset config: the environments, seed and
//! difficulty bounds a build would use, with the `[curriculum]` policy.
//!
//! `[select]` (with `max_environments`: the first K of the same seeded
//! ranking), `seed` (the run seed) and `[difficulty] min..=max` (global
//! bounds) apply as in a build; `difficulty.mix`, the instance counts,
//! splits and outputs do not (the curriculum decides what is drawn).

use std::path::Path;

use resyn_core::Registry;
use resyn_curriculum::{Generator, RunOptions};

use crate::{DatasetConfig, Error, Result, plan};

/// The environments online generation draws from.
///
/// # Errors
/// As the build's selection: [`Error::Config`] for an unknown id in
/// `select.ids`/`select.exclude`, [`Error::NoEnvironments`].
pub fn online_registry(config: &DatasetConfig, registry: &Registry) -> Result<Registry> {
    let mut envs = plan::select(config, registry)?;
    if let Some(k) = config.max_environments {
        envs.truncate(k);
    }
    let mut out = Registry::new();
    for e in envs {
        // Ids come from one registry, so they are distinct.
        out.register(e)
            .map_err(|e| Error::Internal(format!("online registry: {e}")))?;
    }
    Ok(out)
}

/// The run options of a config: its seed and difficulty bounds.
pub fn online_run_options(config: &DatasetConfig) -> RunOptions {
    RunOptions {
        seed: config.seed,
        min_difficulty: config.difficulty.min,
        max_difficulty: config.difficulty.max,
    }
}

/// A generator for `config`, resumed from `state` when that file exists
/// (a new run otherwise; it is not written here: call
/// [`Generator::save`] at each trainer checkpoint).
///
/// # Errors
/// Config and selection errors as [`online_registry`];
/// [`Error::Curriculum`] when the state cannot be read, does not fit the
/// selected environments, or was saved with another `[curriculum]`
/// section, seed or difficulty bounds.
pub fn online_generator(
    config: &DatasetConfig,
    registry: &Registry,
    state: Option<&Path>,
) -> Result<Generator> {
    config.validate()?;
    let envs = online_registry(config, registry)?;
    let curriculum = config.curriculum.clone().unwrap_or_default();
    let run = online_run_options(config);
    let Some(path) = state.filter(|p| p.exists()) else {
        return Generator::new(envs, curriculum, run).map_err(Error::from_curriculum);
    };
    let g = Generator::load(envs, path).map_err(Error::Curriculum)?;
    if g.config() != &curriculum || g.run_options() != run {
        return Err(Error::Curriculum(resyn_curriculum::Error::State {
            path: Some(path.to_path_buf()),
            message: "it was saved with another [curriculum] section, seed or difficulty \
                      bounds than the config's; resume with the config the run started with"
                .into(),
        }));
    }
    Ok(g)
}
