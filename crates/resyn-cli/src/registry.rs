//! Which environments a command sees: the native ones, plus Python
//! environment directories (`--env-dir`, `RESYN_ENV_DIRS`) run in the
//! sandbox, plus the accepted environments of a synthesis store when one is
//! named.
//!
//! The store is `--store FILE`, else `$RESYN_STORE`, else `resyn.db` in the
//! current directory (where `resyn synth` writes by default). A named store
//! must exist; the default one is used when it exists, so environments that
//! `resyn synth` stored join `envs`, `generate`, `verify`, `dataset build`
//! and the rest with no flag.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use resyn_core::Registry;
use resyn_sandbox::{Sandbox, SandboxConfig, SandboxPolicy};

/// Default store file (current directory).
pub const DEFAULT_STORE: &str = "resyn.db";

/// Options selecting environment sources, shared by every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct EnvSources {
    /// Directory of Python environments (repeatable). Directories listed in
    /// `RESYN_ENV_DIRS` (colon-separated) are added after these.
    #[arg(long = "env-dir", value_name = "DIR", global = true)]
    env_dirs: Vec<PathBuf>,
    /// Synthesis store (SQLite file); also `$RESYN_STORE`. Its accepted
    /// environments (source "synth") join the others.
    #[arg(long, global = true, value_name = "FILE")]
    store: Option<PathBuf>,
    /// Run Python environments even when the host cannot enforce the
    /// sandbox layers required by default (network isolation, resource
    /// limits, seccomp). Weakens isolation of untrusted code.
    #[arg(long, global = true)]
    allow_weak_sandbox: bool,
}

impl EnvSources {
    /// The sandbox policy the flags select.
    pub fn policy(&self) -> SandboxPolicy {
        if self.allow_weak_sandbox {
            SandboxPolicy::allow_weak()
        } else {
            SandboxPolicy::default()
        }
    }

    /// Sandbox configuration for this invocation.
    pub fn sandbox_config(&self) -> SandboxConfig {
        SandboxConfig {
            policy: self.policy(),
            ..SandboxConfig::default()
        }
    }

    /// Every Python environment directory: the flags, then `RESYN_ENV_DIRS`.
    pub fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs = self.env_dirs.clone();
        if let Some(v) = std::env::var_os("RESYN_ENV_DIRS") {
            dirs.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
        }
        dirs
    }

    /// The store named by `--store` or `$RESYN_STORE`, if any.
    pub fn explicit_store(&self) -> Option<PathBuf> {
        self.store.clone().or_else(|| {
            std::env::var_os("RESYN_STORE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }

    /// The store, defaulting to `resyn.db` in the current directory.
    pub fn store_path(&self) -> PathBuf {
        self.explicit_store()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE))
    }

    /// Build the registry of every selected environment. Python modules that
    /// fail to load are reported on stderr and skipped.
    pub fn registry(&self) -> anyhow::Result<Registry> {
        let mut reg = resyn_envs::registry();
        let dirs = self.dirs();
        if !dirs.is_empty() {
            for d in &dirs {
                anyhow::ensure!(
                    d.is_dir(),
                    "environment directory {} does not exist",
                    d.display()
                );
            }
            let sandbox =
                Sandbox::new(self.sandbox_config()).context("starting the Python sandbox")?;
            for d in &dirs {
                for env in resyn_sandbox::load_dir(d, &sandbox) {
                    match env {
                        Ok(env) => {
                            let file = d.join(env.filename());
                            reg.register(Arc::new(env)).with_context(|| {
                                format!(
                                    "Python environment {} clashes with another environment",
                                    file.display()
                                )
                            })?
                        }
                        Err(e) => eprintln!("warning: skipping a Python environment: {e}"),
                    }
                }
            }
        }
        let store = match self.explicit_store() {
            Some(path) => {
                anyhow::ensure!(path.exists(), "store {} does not exist", path.display());
                Some(path)
            }
            None => Some(PathBuf::from(DEFAULT_STORE)).filter(|p| p.is_file()),
        };
        if let Some(path) = store {
            let store = resyn_store::Store::open(&path)
                .with_context(|| format!("opening store {}", path.display()))?;
            // The sandbox starts only when a stored environment is used.
            let cfg = self.sandbox_config();
            let cell: Arc<OnceLock<Result<Sandbox, String>>> = Arc::new(OnceLock::new());
            let factory: resyn_synth::stored::SandboxFactory = Arc::new(move || {
                cell.get_or_init(|| Sandbox::new(cfg.clone()).map_err(|e| e.to_string()))
                    .clone()
            });
            for e in store.environments()? {
                let env = resyn_synth::stored::SynthEnv::new(&e, factory.clone());
                reg.register(Arc::new(env))
                    .with_context(|| format!("store environment {} clashes", e.env.name))?;
            }
        }
        Ok(reg)
    }
}
