//! The process-wide scorer: one registry of environments and one sandbox
//! worker pool per process, built on first use and shared by every thread
//! (verl's reward loop calls `compute_score` from a thread pool).
//!
//! The environments are assembled by `resyn_registry`, exactly as the
//! `resyn` command does: the native ones, the Python environments of
//! `RESYN_ENV_DIRS`, and the accepted environments of the synthesis store
//! (`RESYN_STORE`, else `resyn.db` in the current directory when it
//! exists), with a pool of `RESYN_SANDBOX_WORKERS` sandbox workers, unless
//! `resyn.configure(...)` chose otherwise before first use.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use resyn_core::error_chain;
use resyn_registry::{Sources, StoreSource};
use resyn_reward::Scorer;

use crate::error::{Error, Result};

/// What `resyn.configure` overrides; `None` keeps the environment's choice.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub env_dirs: Option<Vec<PathBuf>>,
    pub store: Option<PathBuf>,
    pub allow_weak_sandbox: Option<bool>,
    pub sandbox_workers: Option<usize>,
}

impl Overrides {
    fn sources(&self) -> resyn_registry::Result<Sources> {
        let mut s = Sources::from_env()?;
        if let Some(d) = &self.env_dirs {
            s.env_dirs = d.clone();
        }
        if let Some(p) = &self.store {
            s.store = StoreSource::Path(p.clone());
        }
        if let Some(weak) = self.allow_weak_sandbox {
            s.sandbox.policy = resyn_registry::sandbox_config(weak).policy;
        }
        if let Some(n) = self.sandbox_workers {
            s.sandbox.max_workers = n;
        }
        Ok(s)
    }
}

/// Overrides set by `configure` before first use.
static CONFIGURED: Mutex<Option<Overrides>> = Mutex::new(None);
/// The scorer, or why it could not be built (reported on every call).
static SCORER: OnceLock<std::result::Result<Scorer, String>> = OnceLock::new();

/// Set the environment sources; only before the first use.
pub(crate) fn configure(overrides: Overrides) -> Result<()> {
    if SCORER.get().is_some() {
        return Err(Error::Config(
            "resyn.configure must be called before the first use of resyn".into(),
        ));
    }
    *CONFIGURED.lock().unwrap_or_else(|p| p.into_inner()) = Some(overrides);
    Ok(())
}

/// The process-wide scorer.
pub(crate) fn scorer() -> Result<&'static Scorer> {
    SCORER
        .get_or_init(|| {
            let overrides = CONFIGURED
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default();
            let loaded = overrides
                .sources()
                .and_then(|s| s.load())
                .map_err(|e| error_chain(&e))?;
            for e in &loaded.skipped {
                eprintln!("resyn: warning: skipping a Python environment: {e}");
            }
            Ok(Scorer::new(loaded.registry))
        })
        .as_ref()
        .map_err(|e| Error::Config(e.clone()))
}
