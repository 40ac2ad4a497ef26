//! [`LazySandbox`]: a sandbox started on first use.

use std::sync::{Arc, OnceLock};

use crate::{Error, Sandbox, SandboxConfig};

/// A [`Sandbox`] that starts (probes the host, starts its zygote) only when
/// something first needs it, shared by every clone.
///
/// Listing environments needs no sandbox: [`crate::PythonEnv::open`] reads a
/// module's metadata from its source, and the module runs only when it is
/// first used. A failure to start is kept: every later use reports the same
/// error. Cloning is cheap (an `Arc`): every environment holds one.
#[derive(Clone)]
pub struct LazySandbox(Arc<Shared>);

struct Shared {
    config: SandboxConfig,
    cell: OnceLock<Result<Sandbox, Arc<Error>>>,
}

impl std::fmt::Debug for LazySandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazySandbox")
            .field("started", &self.0.cell.get().map(Result::is_ok))
            .finish_non_exhaustive()
    }
}

impl LazySandbox {
    /// A sandbox with this configuration, not started yet.
    pub fn new(config: SandboxConfig) -> Self {
        Self(Arc::new(Shared {
            config,
            cell: OnceLock::new(),
        }))
    }

    /// The sandbox, starting it on the first call ([`Sandbox::new`]).
    ///
    /// # Errors
    /// Why it could not start (the same error on every call).
    pub fn get(&self) -> Result<&Sandbox, Arc<Error>> {
        self.0
            .cell
            .get_or_init(|| Sandbox::new(self.0.config.clone()).map_err(Arc::new))
            .as_ref()
            .map_err(Arc::clone)
    }

    /// The sandbox if it has started.
    pub fn started(&self) -> Option<&Sandbox> {
        self.0.cell.get().and_then(|r| r.as_ref().ok())
    }

    /// The configuration it starts (or started) with.
    pub fn config(&self) -> &SandboxConfig {
        &self.0.config
    }
}

impl From<Sandbox> for LazySandbox {
    fn from(sb: Sandbox) -> Self {
        Self(Arc::new(Shared {
            config: sb.config().clone(),
            cell: OnceLock::from(Ok(sb)),
        }))
    }
}
