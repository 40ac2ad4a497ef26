//! `resyn.Curriculum`: online instances that follow the adaptive
//! curriculum, as dataset rows.
//!
//! A [`resyn_curriculum::Generator`] opened by
//! [`resyn_data::online_generator`] from a dataset config, over the
//! process-wide environments of the scorer (so the rows it draws are scored
//! by the same environments), and [`resyn_data::OnlineRows`] rendering its
//! instances as `dataset build` rows. One lock serialises every call; the
//! GIL is released while generating, reporting and saving.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use pyo3::prelude::*;
use resyn_curriculum::{Generator, Outcome, append_decisions};
use resyn_data::{DatasetConfig, OnlineRows};

use crate::error::{Error, Result};
use crate::registry::scorer;

/// The generator and its rows.
struct Run {
    generator: Generator,
    rows: OnlineRows,
}

/// The extension's curriculum object; `resyn.Curriculum` wraps it.
#[pyclass(frozen, module = "resyn._resyn", name = "Curriculum")]
pub(crate) struct Curriculum {
    config_path: PathBuf,
    config: DatasetConfig,
    log: Option<PathBuf>,
    run: Mutex<Run>,
}

impl Curriculum {
    fn lock(&self) -> Result<MutexGuard<'_, Run>> {
        // A panic under the lock may have left the run half-updated.
        self.run
            .lock()
            .map_err(|_| Error::Config("the curriculum is unusable after an earlier panic".into()))
    }

    /// Append the decisions made to the log, when there is one (else they
    /// wait for `take_decisions`).
    fn log_decisions(&self, run: &mut Run) -> Result<()> {
        if let Some(path) = &self.log {
            append_decisions(path, &run.generator.take_decisions())
                .map_err(|e| Error::Io(path.clone(), e))?;
        }
        Ok(())
    }

    fn open(config_path: &Path, state: Option<&Path>) -> Result<(DatasetConfig, Run)> {
        let with_path = |e: resyn_data::Error| Error::from(e.with_config_path(config_path));
        let config = DatasetConfig::from_path(config_path).map_err(with_path)?;
        let generator = resyn_data::online_generator(&config, scorer()?.registry(), state)
            .map_err(with_path)?;
        let rows = OnlineRows::new(&config, generator.registry()).map_err(with_path)?;
        Ok((config, Run { generator, rows }))
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Config(e.to_string()))
}

#[pymethods]
impl Curriculum {
    /// Open the run of a dataset config, resumed from `state` when that
    /// file exists.
    #[new]
    #[pyo3(signature = (config, state, log))]
    fn new(
        py: Python<'_>,
        config: PathBuf,
        state: Option<PathBuf>,
        log: Option<PathBuf>,
    ) -> PyResult<Self> {
        let (cfg, run) = py.detach(|| Self::open(&config, state.as_deref()))?;
        Ok(Self {
            config_path: config,
            config: cfg,
            log,
            run: Mutex::new(run),
        })
    }

    /// Draw `n` instances; one JSON row each.
    fn draw(&self, py: Python<'_>, n: usize) -> PyResult<Vec<String>> {
        py.detach(|| -> Result<Vec<String>> {
            let mut run = self.lock()?;
            let run = &mut *run;
            let rows = run.rows.draw(&mut run.generator, n)?;
            self.log_decisions(run)?;
            Ok(rows)
        })
        .map_err(PyErr::from)
    }

    /// Report outcomes (a JSON array); returns the summary as JSON.
    fn report(&self, py: Python<'_>, outcomes: String) -> PyResult<String> {
        py.detach(|| -> Result<String> {
            let de = &mut serde_json::Deserializer::from_str(&outcomes);
            let outcomes: Vec<Outcome> = serde_path_to_error::deserialize(de).map_err(|e| {
                let at = e.path().to_string();
                let at = if at == "." { String::new() } else { at };
                Error::Curriculum(format!("outcomes{at}: {}", e.inner()))
            })?;
            let mut run = self.lock()?;
            let summary = run.generator.report(&outcomes)?;
            self.log_decisions(&mut run)?;
            json(&summary)
        })
        .map_err(PyErr::from)
    }

    /// Save the state to `path` atomically.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| -> Result<()> { Ok(self.lock()?.generator.save(&path)?) })
            .map_err(PyErr::from)
    }

    /// The state as JSON.
    fn state(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| -> Result<String> { Ok(self.lock()?.generator.state_json()) })
            .map_err(PyErr::from)
    }

    /// Replace the run by one restored from `state` JSON (same config).
    fn load_state(&self, py: Python<'_>, state: String) -> PyResult<()> {
        py.detach(|| -> Result<()> {
            let g =
                resyn_data::online_generator_from_state(&self.config, scorer()?.registry(), &state)
                    .map_err(|e| e.with_config_path(&self.config_path))?;
            self.lock()?.generator = g;
            Ok(())
        })
        .map_err(PyErr::from)
    }

    /// Every environment's state, as a JSON array.
    fn snapshot(&self) -> PyResult<String> {
        Ok(json(&self.lock()?.generator.snapshot())?)
    }

    /// The decisions made since the last call, as a JSON array.
    fn take_decisions(&self) -> PyResult<String> {
        Ok(json(&self.lock()?.generator.take_decisions())?)
    }

    /// Instances drawn so far in the run (generation attempts included).
    #[getter]
    fn position(&self) -> PyResult<u64> {
        Ok(self.lock()?.generator.position())
    }
}
