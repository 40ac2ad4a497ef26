//! Online generation from a dataset config: the environments, seed and
//! difficulty bounds a build would use, with the `[curriculum]` policy.
//!
//! `[select]` (with `max_environments`: the first K of the same seeded
//! ranking), `seed` (the run seed) and `[difficulty] min..=max` (global
//! bounds) apply as in a build; `difficulty.mix`, the instance counts,
//! splits and outputs do not (the curriculum decides what is drawn).
//!
//! [`OnlineRows`] renders drawn instances with the dataset builder's own
//! row code, so an online row is the JSON Lines row `dataset build` would
//! write for the same instance (`extra_info.split` aside).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use resyn_core::{Instance, Registry};
use resyn_curriculum::{Generator, RunOptions};

use crate::build::{Prepared, render};
use crate::jsonl_sink::write_line;
use crate::row::{EnvInfo, RowContext};
use crate::{DatasetConfig, Error, Result, RewardMode, plan};

/// `extra_info.split` of online rows (a built dataset's rows say `train`,
/// `validation` or `test`): what tells a reward hook which rows to report
/// to the curriculum.
pub const ONLINE_SPLIT: &str = "online";

/// The environments online generation draws from.
///
/// # Errors
/// As the build's selection: [`Error::Config`] for an unknown id in
/// `select.ids`/`select.exclude`, [`Error::NoEnvironments`].
pub fn online_registry(config: &DatasetConfig, registry: &Registry) -> Result<Registry> {
    let selected = plan::select(config, registry)?;
    // As a build leaves them out (there is no manifest here to say why).
    let mut envs: Vec<_> = selected
        .iter()
        .filter(|e| plan::left_out(config, e.as_ref()).is_none())
        .cloned()
        .collect();
    if envs.is_empty() {
        let why = plan::left_out(config, selected[0].as_ref()).unwrap_or_default();
        return Err(Error::NoEnvironments(format!(
            "every selected environment is left out: {} ({why})",
            selected.len()
        )));
    }
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
    let Some(path) = state.filter(|p| p.exists()) else {
        let curriculum = config.curriculum.clone().unwrap_or_default();
        return Generator::new(envs, curriculum, online_run_options(config))
            .map_err(Error::from_curriculum);
    };
    let g = Generator::load(envs, path).map_err(Error::Curriculum)?;
    same_run(config, g, Some(path))
}

/// A generator for `config` restored from [`Generator::state_json`] (a
/// state kept in a trainer's own checkpoint rather than in a file).
///
/// # Errors
/// As [`online_generator`].
pub fn online_generator_from_state(
    config: &DatasetConfig,
    registry: &Registry,
    state_json: &str,
) -> Result<Generator> {
    config.validate()?;
    let envs = online_registry(config, registry)?;
    let g = Generator::from_state_json(envs, state_json).map_err(Error::Curriculum)?;
    same_run(config, g, None)
}

/// `g` if it was saved with `config`'s curriculum, seed and bounds.
fn same_run(config: &DatasetConfig, g: Generator, path: Option<&Path>) -> Result<Generator> {
    let curriculum = config.curriculum.clone().unwrap_or_default();
    if g.config() != &curriculum || g.run_options() != online_run_options(config) {
        return Err(Error::Curriculum(resyn_curriculum::Error::State {
            path: path.map(Path::to_path_buf),
            message: "it was saved with another [curriculum] section, seed or difficulty \
                      bounds than the config's; resume with the config the run started with"
                .into(),
        }));
    }
    Ok(g)
}

/// Online instances as dataset rows: each drawn instance rendered with the
/// config's `[prompt]` template into the JSON Lines row `dataset build`
/// writes (`prompt` chat messages, `label` ground truth, `data_source`,
/// `ability`, `extra_info`), with `extra_info.split` [`ONLINE_SPLIT`].
///
/// ```
/// use resyn_data::{DatasetConfig, OnlineRows, online_generator};
///
/// let config = DatasetConfig::from_toml_str("[select]\nids = [\"maze\"]")?;
/// let mut generator = online_generator(&config, &resyn_envs::registry(), None)?;
/// let rows = OnlineRows::new(&config, generator.registry())?;
/// let batch = rows.draw(&mut generator, 2)?;
/// let row: serde_json::Value = serde_json::from_str(&batch[1]).unwrap();
/// assert_eq!(row["data_source"], "resyn/maze");
/// assert_eq!(row["extra_info"]["split"], "online");
/// assert_eq!(row["extra_info"]["index"], 1);
/// # Ok::<(), resyn_data::Error>(())
/// ```
#[derive(Debug)]
pub struct OnlineRows {
    config: DatasetConfig,
    ctx: RowContext,
    envs: BTreeMap<String, Arc<EnvInfo>>,
}

impl OnlineRows {
    /// Rows of `config` for the environments of `envs` (the generator's
    /// [`Generator::registry`]).
    ///
    /// # Errors
    /// [`Error::Config`] (field `reward`) unless the config scores with the
    /// verifier: an online instance is scored by its environment's verifier
    /// (`code` and `llm_answer` ground truths are made when a dataset is
    /// built).
    pub fn new(config: &DatasetConfig, envs: &Registry) -> Result<Self> {
        if config.reward != RewardMode::Verifier {
            return Err(Error::config(
                "reward",
                format!(
                    "online instances are scored by the environment's verifier; \
                     reward = \"{}\" applies to built datasets only",
                    config.reward.as_str()
                ),
            ));
        }
        Ok(Self {
            config: config.clone(),
            ctx: RowContext::new(config),
            envs: envs
                .iter()
                .map(|e| (e.meta().id.clone(), Arc::new(EnvInfo::new(e.meta()))))
                .collect(),
        })
    }

    /// Draw `n` instances and render them. Row `k` gets `extra_info.index`
    /// `p + k`, `p` the generator's position before the draw: unique within
    /// the run and the same after a resume.
    ///
    /// # Errors
    /// [`Error::Curriculum`] when nothing is left to draw.
    pub fn draw(&self, generator: &mut Generator, n: usize) -> Result<Vec<String>> {
        let first = generator.position();
        generator
            .draw(n)
            .map_err(Error::Curriculum)?
            .into_iter()
            .zip(first..)
            .map(|(inst, index)| self.render(index, inst))
            .collect()
    }

    /// One instance as a row with `extra_info.index` `index`.
    ///
    /// # Errors
    /// [`Error::Internal`] for an instance of an environment these rows
    /// were not made for.
    pub fn render(&self, index: u64, inst: Instance) -> Result<String> {
        let env = self.envs.get(&inst.env).ok_or_else(|| {
            Error::Internal(format!("online rows: unknown environment `{}`", inst.env))
        })?;
        let Prepared::Row(row) = render(inst, &self.config) else {
            // Verifier-mode rendering has no failure case (checked in `new`).
            return Err(Error::Internal(
                "online rows: an instance did not render".into(),
            ));
        };
        let mut out = Vec::new();
        write_line(&mut out, &self.ctx, env, &row, ONLINE_SPLIT, index)
            .map_err(|e| Error::Internal(format!("online rows: {e}")))?;
        String::from_utf8(out).map_err(|e| Error::Internal(format!("online rows: {e}")))
    }
}
