//! Which environments a command sees: the native ones, plus (later) Python
//! environment directories and the synthesis store.

use resyn_core::Registry;

/// Options selecting environment sources, shared by every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct EnvSources {}

impl EnvSources {
    /// Build the registry of every selected environment.
    pub fn registry(&self) -> anyhow::Result<Registry> {
        Ok(resyn_envs::registry())
    }
}
