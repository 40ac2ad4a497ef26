//! [`LazySandbox`]: a sandbox started on first use.

use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::sandbox::Module;
use crate::{Error, Sandbox, SandboxConfig, static_meta};

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
    /// The modules opened before it started: what they import is what its
    /// zygote preloads ([`SandboxConfig::preload`]).
    modules: Mutex<Vec<Weak<Module>>>,
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
            modules: Mutex::new(Vec::new()),
        }))
    }

    /// Remember a module that will run here, for the preload list.
    pub(crate) fn note(&self, module: &Arc<Module>) {
        if self.0.cell.get().is_none() {
            let mut m = self.0.modules.lock().unwrap_or_else(|p| p.into_inner());
            m.push(Arc::downgrade(module));
        }
    }

    /// The configuration to start with: unless one was chosen, the zygote
    /// preloads what the modules opened so far import.
    fn start_config(&self) -> SandboxConfig {
        let mut config = self.0.config.clone();
        let modules = self.0.modules.lock().unwrap_or_else(|p| p.into_inner());
        if config.preload.is_none() && !modules.is_empty() {
            let mut names: Vec<String> = modules
                .iter()
                .filter_map(Weak::upgrade)
                .flat_map(|m| static_meta::imports(&m.source))
                .collect();
            names.sort_unstable();
            names.dedup();
            config.preload = Some(names);
        }
        config
    }

    /// The sandbox, starting it on the first call ([`Sandbox::new`]).
    ///
    /// # Errors
    /// Why it could not start (the same error on every call).
    pub fn get(&self) -> Result<&Sandbox, Arc<Error>> {
        self.0
            .cell
            .get_or_init(|| Sandbox::new(self.start_config()).map_err(Arc::new))
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
            modules: Mutex::new(Vec::new()),
        }))
    }
}
