//! One sandbox per registry, started on first use.

use std::sync::{Arc, OnceLock};

use resyn_sandbox::{Sandbox, SandboxConfig};

/// The sandbox shared by every Python and synthesized environment of one
/// registry. Cloning shares it. Starting it probes the host (a sandboxed
/// interpreter), so it starts only when something needs it: listing a
/// store's environments does not.
#[derive(Debug, Clone)]
pub(crate) struct SharedSandbox {
    config: SandboxConfig,
    cell: Arc<OnceLock<Result<Sandbox, Arc<resyn_sandbox::Error>>>>,
}

impl SharedSandbox {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        Self {
            config,
            cell: Arc::new(OnceLock::new()),
        }
    }

    /// The sandbox, starting it on the first call. A failure to start is
    /// remembered: every later call reports the same error.
    pub(crate) fn get(&self) -> Result<&Sandbox, Arc<resyn_sandbox::Error>> {
        self.cell
            .get_or_init(|| Sandbox::new(self.config.clone()).map_err(Arc::new))
            .as_ref()
            .map_err(Arc::clone)
    }
}
