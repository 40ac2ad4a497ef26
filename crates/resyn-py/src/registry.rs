//! The process-wide scorer: one registry of environments and one sandbox
//! worker pool per process, built on first use and shared by every thread
//! (verl's reward loop calls `compute_score` from a thread pool).
//!
//! Environments: the native ones, plus the Python environments of every
//! directory in `RESYN_ENV_DIRS` (`:`-separated, the variable `resyn
//! --env-dir` also reads) or given to `resyn.configure(env_dirs=...)` before
//! first use. Python environments run in one `resyn_sandbox::Sandbox`, whose
//! policy refuses to start on a host that cannot enforce the required
//! layers unless `RESYN_ALLOW_WEAK_SANDBOX=1` (or
//! `configure(allow_weak_sandbox=True)`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use resyn_core::Registry;
use resyn_reward::Scorer;
use resyn_sandbox::{Sandbox, SandboxConfig, SandboxPolicy};

use crate::error::{Error, Result};

/// Where Python environments come from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sources {
    pub env_dirs: Vec<PathBuf>,
    pub allow_weak_sandbox: bool,
}

impl Sources {
    fn from_env() -> Self {
        let env_dirs = std::env::var_os("RESYN_ENV_DIRS")
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let allow_weak_sandbox = std::env::var("RESYN_ALLOW_WEAK_SANDBOX")
            .is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        Self {
            env_dirs,
            allow_weak_sandbox,
        }
    }
}

/// Sources set by `configure` before first use (else read from the environment).
static CONFIGURED: Mutex<Option<Sources>> = Mutex::new(None);
/// The scorer, or why it could not be built (reported on every call).
static SCORER: OnceLock<std::result::Result<Scorer, String>> = OnceLock::new();

/// Set the environment sources; only before the first use.
pub(crate) fn configure(sources: Sources) -> Result<()> {
    if SCORER.get().is_some() {
        return Err(Error::Config(
            "resyn.configure must be called before the first use of resyn".into(),
        ));
    }
    *CONFIGURED.lock().unwrap_or_else(|p| p.into_inner()) = Some(sources);
    Ok(())
}

/// The process-wide scorer.
pub(crate) fn scorer() -> Result<&'static Scorer> {
    SCORER
        .get_or_init(|| {
            let sources = CONFIGURED
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_else(Sources::from_env);
            build(&sources).map(Scorer::new)
        })
        .as_ref()
        .map_err(|e| Error::Config(e.clone()))
}

fn build(sources: &Sources) -> std::result::Result<Registry, String> {
    let mut reg = resyn_envs::registry();
    if sources.env_dirs.is_empty() {
        return Ok(reg);
    }
    for d in &sources.env_dirs {
        if !d.is_dir() {
            return Err(format!(
                "environment directory {} does not exist",
                d.display()
            ));
        }
    }
    let policy = if sources.allow_weak_sandbox {
        SandboxPolicy::allow_weak()
    } else {
        SandboxPolicy::default()
    };
    let sandbox = Sandbox::new(SandboxConfig {
        policy,
        ..SandboxConfig::default()
    })
    .map_err(|e| format!("starting the Python sandbox: {e}"))?;
    for d in &sources.env_dirs {
        for env in resyn_sandbox::load_dir(d, &sandbox) {
            match env {
                Ok(env) => {
                    let file = d.join(env.filename());
                    reg.register(Arc::new(env))
                        .map_err(|e| format!("Python environment {}: {e}", file.display()))?;
                }
                Err(e) => eprintln!("resyn: warning: skipping a Python environment: {e}"),
            }
        }
    }
    Ok(reg)
}
