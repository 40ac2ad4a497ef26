//! Which environments a command sees: the native ones, plus the accepted
//! environments of a synthesis store when one is named.
//!
//! The store is `--store FILE`, else `$RESYN_STORE`. `generate`, `verify`
//! and `envs` include store environments only when one of the two is given;
//! `synth` and `show` fall back to `resyn.db` in the current directory.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use resyn_core::Registry;

/// Default store file of `synth` and `show`.
pub const DEFAULT_STORE: &str = "resyn.db";

/// Options selecting environment sources, shared by every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct EnvSources {
    /// Synthesis store (SQLite file); also `$RESYN_STORE`. Its accepted
    /// environments (source "synth") join the native ones.
    #[arg(long, global = true, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Run sandboxed code even when the host cannot enforce every required
    /// isolation layer (not recommended).
    #[arg(long, global = true)]
    pub allow_weak_sandbox: bool,
}

impl EnvSources {
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

    /// Sandbox configuration for this invocation.
    pub fn sandbox_config(&self) -> resyn_sandbox::SandboxConfig {
        let mut cfg = resyn_sandbox::SandboxConfig::default();
        if self.allow_weak_sandbox {
            cfg.policy = resyn_sandbox::SandboxPolicy::allow_weak();
        }
        cfg
    }

    /// Build the registry of every selected environment.
    pub fn registry(&self) -> anyhow::Result<Registry> {
        let mut reg = resyn_envs::registry();
        if let Some(path) = self.explicit_store() {
            if !path.exists() {
                anyhow::bail!("store {} does not exist", path.display());
            }
            let store = resyn_store::Store::open(&path)
                .with_context(|| format!("opening store {}", path.display()))?;
            let cfg = self.sandbox_config();
            let cell: Arc<OnceLock<Result<resyn_sandbox::Sandbox, String>>> =
                Arc::new(OnceLock::new());
            let factory: resyn_synth::stored::SandboxFactory = Arc::new(move || {
                cell.get_or_init(|| {
                    resyn_sandbox::Sandbox::new(cfg.clone()).map_err(|e| e.to_string())
                })
                .clone()
            });
            for e in store.environments()? {
                let env = resyn_synth::stored::SynthEnv::new(&e, factory.clone());
                if let Err(err) = reg.register(Arc::new(env)) {
                    eprintln!("warning: store environment skipped: {err}");
                }
            }
        }
        Ok(reg)
    }
}
