//! Accepted environments from the store, behind the `Environment` trait.
//!
//! A [`SynthEnv`] carries its metadata from the store (source
//! [`resyn_core::Source::Synth`]) and loads its module into the shared
//! sandbox only on first use, so listing a store costs no sandbox start-up.

use std::sync::{Arc, OnceLock};

use resyn_core::{Category, EnvMeta, Environment, Instance, ReasonCode, Source, Verdict};
use resyn_sandbox::PythonEnv;
use resyn_store::StoredEnv;

use crate::shared_sandbox::SharedSandbox;

/// A synthesized environment from the store.
pub(crate) struct SynthEnv {
    meta: EnvMeta,
    code: String,
    sandbox: SharedSandbox,
    env: OnceLock<Result<PythonEnv, Unavailable>>,
}

/// Why the module cannot run, kept for every call that reports it (as the
/// source of a [`resyn_core::Error::Backend`]).
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum Unavailable {
    /// The shared sandbox did not start.
    #[error("starting the Python sandbox: {0}")]
    Sandbox(#[source] Arc<resyn_sandbox::Error>),
    /// The module did not load.
    #[error("{0}")]
    Load(#[source] Arc<resyn_sandbox::Error>),
}

impl std::fmt::Debug for SynthEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SynthEnv")
            .field("id", &self.meta.id)
            .finish_non_exhaustive()
    }
}

impl SynthEnv {
    /// Wrap a stored environment; its module runs in `sandbox`.
    pub(crate) fn new(stored: &StoredEnv, sandbox: SharedSandbox) -> Self {
        let e = &stored.env;
        Self {
            meta: EnvMeta {
                id: e.name.clone(),
                version: e.version,
                category: e.category.parse().unwrap_or(Category::Logic),
                description: e.description.clone(),
                min_difficulty: resyn_core::MIN_DIFFICULTY,
                max_difficulty: resyn_core::MAX_DIFFICULTY,
                source: Source::Synth,
                calibrated: Some(e.calibration.is_some()),
            },
            code: e.code.clone(),
            sandbox,
            env: OnceLock::new(),
        }
    }

    /// The loaded module (loading it on first use). A failure is kept and
    /// reported on every call: the module is not retried.
    pub(crate) fn python(&self) -> Result<&PythonEnv, &Unavailable> {
        self.env
            .get_or_init(|| {
                let sandbox = self.sandbox.get().map_err(Unavailable::Sandbox)?;
                PythonEnv::from_source(&format!("{}.py", self.meta.id), self.code.clone(), sandbox)
                    .map_err(|e| Unavailable::Load(Arc::new(e)))
            })
            .as_ref()
    }
}

impl Environment for SynthEnv {
    fn meta(&self) -> &EnvMeta {
        &self.meta
    }

    fn generate(&self, seed: u64, difficulty: u8) -> resyn_core::Result<Instance> {
        self.check_difficulty(difficulty)?;
        self.python()
            .map_err(|e| resyn_core::Error::Backend(Box::new(e.clone())))?
            .generate(seed, difficulty)
    }

    fn verify(&self, instance: &Instance, response: &str) -> Verdict {
        match self.python() {
            Ok(e) => e.verify(instance, response),
            Err(e) => Verdict::zero(ReasonCode::EnvError, e.to_string()),
        }
    }

    fn generate_batch(&self, requests: &[(u64, u8)]) -> Vec<resyn_core::Result<Instance>> {
        match self.python() {
            Ok(e) => e.generate_batch(requests),
            Err(e) => requests
                .iter()
                .map(|_| Err(resyn_core::Error::Backend(Box::new(e.clone()))))
                .collect(),
        }
    }

    fn verify_batch(&self, items: &[(&Instance, &str)]) -> Vec<Verdict> {
        match self.python() {
            Ok(e) => e.verify_batch(items),
            Err(e) => items
                .iter()
                .map(|_| Verdict::zero(ReasonCode::EnvError, e.to_string()))
                .collect(),
        }
    }
}
