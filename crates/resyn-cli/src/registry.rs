//! The flags that choose which environments a command sees. The assembly
//! itself is `resyn_registry`'s, shared with the Python package.
//!
//! The native environments, plus Python environment directories
//! (`--env-dir`, then `RESYN_ENV_DIRS`) run in the sandbox, plus the
//! accepted environments of a synthesis store: `--store FILE`, else
//! `$RESYN_STORE`, else `resyn.db` in the current directory (where `resyn
//! synth` writes by default) when it exists. A named store must exist.

use std::path::PathBuf;

use anyhow::Context;
use resyn_core::Registry;
use resyn_registry::{DEFAULT_STORE, Loaded, Sources, StoreSource};
use resyn_sandbox::{SandboxConfig, SandboxPolicy};

/// Options selecting environment sources, shared by every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct EnvSources {
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
    /// limits, seccomp); also `RESYN_ALLOW_WEAK_SANDBOX=1`. Weakens
    /// isolation of untrusted code.
    #[arg(long, global = true)]
    allow_weak_sandbox: bool,
    /// Most sandbox worker processes, so the most Python modules resident at
    /// once (least recently used ones are evicted beyond it); also
    /// `RESYN_SANDBOX_WORKERS`. Default 512.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    sandbox_workers: Option<u32>,
}

impl EnvSources {
    /// The sandbox policy the flags select.
    pub(crate) fn policy(&self) -> SandboxPolicy {
        resyn_registry::sandbox_config(self.allow_weak()).policy
    }

    fn allow_weak(&self) -> bool {
        self.allow_weak_sandbox || resyn_registry::allow_weak_from_env()
    }

    /// Sandbox configuration for this invocation: the policy and the pool
    /// size (`--sandbox-workers`, else `RESYN_SANDBOX_WORKERS`).
    pub(crate) fn sandbox_config(&self) -> anyhow::Result<SandboxConfig> {
        let mut cfg = resyn_registry::sandbox_config(self.allow_weak());
        let workers = match self.sandbox_workers {
            Some(n) => Some(n as usize),
            None => resyn_registry::sandbox_workers_from_env()?,
        };
        if let Some(n) = workers {
            cfg.max_workers = n;
        }
        Ok(cfg)
    }

    /// Every Python environment directory: the flags, then `RESYN_ENV_DIRS`.
    pub(crate) fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs = self.env_dirs.clone();
        dirs.extend(resyn_registry::env_dirs_from_env());
        dirs
    }

    /// The store commands write to (`resyn synth`) or read one environment
    /// from (`resyn show`): the named one, else `resyn.db`.
    pub(crate) fn store_path(&self) -> PathBuf {
        match self.store_source() {
            StoreSource::Path(p) => p,
            _ => PathBuf::from(DEFAULT_STORE),
        }
    }

    fn store_source(&self) -> StoreSource {
        StoreSource::named_or_env(self.store.clone())
    }

    /// The sources these flags select.
    pub(crate) fn sources(&self) -> anyhow::Result<Sources> {
        Ok(Sources {
            env_dirs: self.dirs(),
            store: self.store_source(),
            sandbox: self.sandbox_config()?,
        })
    }

    /// Build the registry of every selected environment. Python modules that
    /// fail to load are reported on stderr and skipped.
    pub(crate) fn registry(&self) -> anyhow::Result<Registry> {
        Ok(self.loaded()?.registry)
    }

    /// [`EnvSources::registry`] with what else the sources hold (store rows,
    /// the sandbox).
    pub(crate) fn loaded(&self) -> anyhow::Result<Loaded> {
        let loaded = self
            .sources()?
            .load()
            .context("assembling the environments")?;
        for e in &loaded.skipped {
            eprintln!("warning: skipping a Python environment: {e}");
        }
        Ok(loaded)
    }
}
