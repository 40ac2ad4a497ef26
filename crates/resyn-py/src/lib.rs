//! `resyn._resyn`: the private extension module under the `resyn` Python
//! package.
//!
//! Docstrings, typing and the trainer-facing contracts live in
//! `python/resyn/__init__.py`; each function here converts its arguments,
//! calls one Rust function (of `resyn-reward`, `resyn-core`, the registry,
//! or for `Curriculum` `resyn-curriculum` and `resyn-data`)
//! with the GIL released, and converts the result. Structured values cross
//! the boundary as JSON strings (instances, verdicts, metadata); rewards
//! cross as floats or small dicts, because they are the hot path.
#![deny(missing_docs)]

mod curriculum;
mod error;
mod registry;

/// The allocator of the `resyn` CLI: rewards and instances make many small,
/// short-lived allocations (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use resyn_core::Instance;
use resyn_reward::{Reward, RewardConfig, Target};

use crate::error::{
    CurriculumError, EnvironmentUnavailableError, Error, GroundTruthError, InstanceError, Result,
    ResynError, UnknownEnvironmentError,
};
use crate::registry::scorer;

fn config(verifier_weight: f64, format_weight: f64) -> PyResult<RewardConfig> {
    let c = RewardConfig {
        verifier_weight,
        format_weight,
    };
    c.validate().map_err(Error::from)?;
    Ok(c)
}

/// A reward as a float (`detail = False`) or a dict of its parts.
fn reward_to_py(py: Python<'_>, r: &Reward, detail: bool) -> PyResult<Py<PyAny>> {
    if !detail {
        return Ok(r.score.into_pyobject(py)?.into_any().unbind());
    }
    let d = PyDict::new(py);
    d.set_item("score", r.score)?;
    d.set_item("acc", if r.verdict.correct { 1.0 } else { 0.0 })?;
    d.set_item("verifier_reward", r.verdict.reward)?;
    d.set_item("format_ok", if r.format_ok { 1.0 } else { 0.0 })?;
    d.set_item("reason", r.verdict.reason.as_str())?;
    Ok(d.into_any().unbind())
}

/// Score one response against a ground-truth string.
#[pyfunction]
fn score(
    py: Python<'_>,
    ground_truth: String,
    response: String,
    verifier_weight: f64,
    format_weight: f64,
    detail: bool,
) -> PyResult<Py<PyAny>> {
    let cfg = config(verifier_weight, format_weight)?;
    let r = py.detach(|| -> Result<Reward> {
        Ok(scorer()?.score_ground_truth(&ground_truth, &response, &cfg)?)
    })?;
    reward_to_py(py, &r, detail)
}

/// Score many responses on all cores. Raises the first item's error, if any,
/// naming its index.
#[pyfunction]
fn score_batch(
    py: Python<'_>,
    ground_truths: Vec<String>,
    responses: Vec<String>,
    verifier_weight: f64,
    format_weight: f64,
    detail: bool,
) -> PyResult<Vec<Py<PyAny>>> {
    let cfg = config(verifier_weight, format_weight)?;
    if ground_truths.len() != responses.len() {
        return Err(ResynError::new_err(format!(
            "{} ground truths but {} responses",
            ground_truths.len(),
            responses.len()
        )));
    }
    let results = py.detach(|| -> Result<_> {
        let items: Vec<(&str, &str)> = ground_truths
            .iter()
            .zip(&responses)
            .map(|(g, r)| (g.as_str(), r.as_str()))
            .collect();
        Ok(scorer()?.score_ground_truths(&items, &cfg))
    })?;
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Ok(r) => reward_to_py(py, &r, detail),
            Err(e) => {
                let err: PyErr = Error::from(e).into();
                let msg = format!("item {i}: {}", err.value(py));
                Err(PyErr::from_type(err.get_type(py), msg))
            }
        })
        .collect()
}

/// Metadata of every environment, as a JSON array.
#[pyfunction]
fn envs(py: Python<'_>) -> PyResult<String> {
    // The first use may start the sandbox and load Python environments.
    let metas = py.detach(|| scorer().map(|s| s.registry().metas()))?;
    serde_json::to_string(&metas).map_err(|e| ResynError::new_err(e.to_string()))
}

/// Generate one instance; returns it as JSON.
#[pyfunction]
fn generate(py: Python<'_>, env: String, seed: u64, difficulty: u8) -> PyResult<String> {
    py.detach(|| -> Result<String> {
        let inst = scorer()?.registry().get(&env)?.generate(seed, difficulty)?;
        serde_json::to_string(&inst).map_err(|e| Error::Instance(e.to_string()))
    })
    .map_err(PyErr::from)
}

fn parse_instance(json: &str) -> Result<Instance> {
    serde_json::from_str(json).map_err(|e| Error::Instance(format!("instance: {e}")))
}

/// Verify responses to instances (JSON) on all cores; returns one
/// `Reward` JSON object per item.
#[pyfunction]
fn verify_batch(
    py: Python<'_>,
    instances: Vec<String>,
    responses: Vec<String>,
    verifier_weight: f64,
    format_weight: f64,
) -> PyResult<Vec<String>> {
    let cfg = config(verifier_weight, format_weight)?;
    if instances.len() != responses.len() {
        return Err(ResynError::new_err(format!(
            "{} instances but {} responses",
            instances.len(),
            responses.len()
        )));
    }
    py.detach(|| -> Result<Vec<String>> {
        let targets = instances
            .iter()
            .map(|j| Ok(Target::Instance(parse_instance(j)?.into())))
            .collect::<Result<Vec<_>>>()?;
        let items: Vec<(&Target, &str)> = targets
            .iter()
            .zip(&responses)
            .map(|(t, r)| (t, r.as_str()))
            .collect();
        scorer()?
            .score_targets(&items, &cfg)
            .into_iter()
            .map(|r| serde_json::to_string(&r?).map_err(|e| Error::Instance(e.to_string())))
            .collect()
    })
    .map_err(PyErr::from)
}

/// Start the sandbox workers of Python environments (`envs`, else every
/// one) in the background; returns how many environments that covers.
#[pyfunction]
#[pyo3(signature = (envs=None))]
fn warm_up(py: Python<'_>, envs: Option<Vec<String>>) -> PyResult<usize> {
    py.detach(|| -> Result<usize> {
        let registry = scorer()?.registry();
        let chosen: Vec<&std::sync::Arc<dyn resyn_core::Environment>> = match &envs {
            Some(ids) => ids
                .iter()
                .map(|id| registry.get(id))
                .collect::<resyn_core::Result<_>>()?,
            None => registry.iter().collect(),
        };
        let python: Vec<_> = chosen
            .into_iter()
            .filter(|e| e.meta().source != resyn_core::Source::Native)
            .collect();
        // Queued in the sandbox and started by its own threads.
        for env in &python {
            env.warm_up();
        }
        Ok(python.len())
    })
    .map_err(PyErr::from)
}

/// Choose where environments come from; only before the first use. `None`
/// keeps what the process environment selects.
#[pyfunction]
#[pyo3(signature = (env_dirs, store, allow_weak_sandbox, sandbox_workers))]
fn configure(
    env_dirs: Option<Vec<std::path::PathBuf>>,
    store: Option<std::path::PathBuf>,
    allow_weak_sandbox: Option<bool>,
    sandbox_workers: Option<usize>,
) -> PyResult<()> {
    registry::configure(registry::Overrides {
        env_dirs,
        store,
        allow_weak_sandbox,
        sandbox_workers,
    })
    .map_err(PyErr::from)
}

/// The private extension module of the `resyn` package.
#[pymodule]
fn _resyn(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ResynError", py.get_type::<ResynError>())?;
    m.add("GroundTruthError", py.get_type::<GroundTruthError>())?;
    m.add(
        "UnknownEnvironmentError",
        py.get_type::<UnknownEnvironmentError>(),
    )?;
    m.add(
        "EnvironmentUnavailableError",
        py.get_type::<EnvironmentUnavailableError>(),
    )?;
    m.add("InstanceError", py.get_type::<InstanceError>())?;
    m.add("CurriculumError", py.get_type::<CurriculumError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(configure, m)?)?;
    m.add_function(wrap_pyfunction!(score, m)?)?;
    m.add_function(wrap_pyfunction!(score_batch, m)?)?;
    m.add_function(wrap_pyfunction!(envs, m)?)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(verify_batch, m)?)?;
    m.add_function(wrap_pyfunction!(warm_up, m)?)?;
    m.add_class::<curriculum::Curriculum>()?;
    Ok(())
}
