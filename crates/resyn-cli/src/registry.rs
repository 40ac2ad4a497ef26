//! Which environments a command sees: the native ones, plus Python
//! environment directories (`--env-dir`, `RESYN_ENV_DIRS`) run in the sandbox.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use resyn_core::Registry;
use resyn_sandbox::{Sandbox, SandboxConfig, SandboxPolicy};

/// Options selecting environment sources, shared by every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct EnvSources {
    /// Directory of Python environments (repeatable). Directories listed in
    /// `RESYN_ENV_DIRS` (colon-separated) are added after these.
    #[arg(long = "env-dir", value_name = "DIR", global = true)]
    env_dirs: Vec<PathBuf>,
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

    /// Every Python environment directory: the flags, then `RESYN_ENV_DIRS`.
    fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs = self.env_dirs.clone();
        if let Some(v) = std::env::var_os("RESYN_ENV_DIRS") {
            dirs.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
        }
        dirs
    }

    /// Build the registry of every selected environment. Python modules that
    /// fail to load are reported on stderr and skipped.
    pub fn registry(&self) -> anyhow::Result<Registry> {
        let mut reg = resyn_envs::registry();
        let dirs = self.dirs();
        if dirs.is_empty() {
            return Ok(reg);
        }
        for d in &dirs {
            anyhow::ensure!(
                d.is_dir(),
                "environment directory {} does not exist",
                d.display()
            );
        }
        let sandbox = Sandbox::new(SandboxConfig {
            policy: self.policy(),
            ..SandboxConfig::default()
        })
        .context("starting the Python sandbox")?;
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
        Ok(reg)
    }
}
