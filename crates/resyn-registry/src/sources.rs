//! [`Sources`]: which environments to assemble, and [`Sources::load`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use resyn_core::{Environment, Registry};
use resyn_sandbox::{PythonEnv, SandboxConfig, SandboxPolicy};
use resyn_store::{Store, StoredEnv};

use crate::shared_sandbox::SharedSandbox;
use crate::synth_env::{SynthEnv, Unavailable};
use crate::{Error, Result};

/// The store `resyn synth` writes by default, in the current directory;
/// included when no store is named and this file exists.
pub const DEFAULT_STORE: &str = "resyn.db";
/// Python environment directories, `:`-separated (added after any given
/// explicitly).
pub const ENV_DIRS_VAR: &str = "RESYN_ENV_DIRS";
/// The synthesis store when none is named explicitly.
pub const STORE_VAR: &str = "RESYN_STORE";
/// `1`, `true` or `yes`: run Python environments even when the host cannot
/// enforce the sandbox layers required by default.
pub const ALLOW_WEAK_VAR: &str = "RESYN_ALLOW_WEAK_SANDBOX";

/// Which synthesis store to include.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StoreSource {
    /// [`DEFAULT_STORE`] in the current directory, when that file exists.
    #[default]
    Default,
    /// This store, which must exist.
    Path(PathBuf),
    /// No store.
    None,
}

impl StoreSource {
    /// `path` when given, else `$RESYN_STORE`, else the default rule.
    pub fn named_or_env(path: Option<PathBuf>) -> Self {
        match path.or_else(store_from_env) {
            Some(p) => Self::Path(p),
            None => Self::Default,
        }
    }

    /// The store file to open, if any.
    ///
    /// # Errors
    /// [`Error::MissingStore`] when a named store does not exist.
    pub fn resolve(&self) -> Result<Option<PathBuf>> {
        match self {
            Self::Default => Ok(Some(PathBuf::from(DEFAULT_STORE)).filter(|p| p.is_file())),
            Self::Path(p) if p.exists() => Ok(Some(p.clone())),
            Self::Path(p) => Err(Error::MissingStore { path: p.clone() }),
            Self::None => Ok(None),
        }
    }
}

/// Where an entry point's environments come from. The native environments
/// are always included.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Directories of Python environment modules, loaded in order.
    pub env_dirs: Vec<PathBuf>,
    /// The synthesis store whose accepted environments join.
    pub store: StoreSource,
    /// The sandbox that runs Python and synthesized environments.
    pub sandbox: SandboxConfig,
}

/// An assembled registry.
#[derive(Debug)]
pub struct Loaded {
    /// Every environment, by id.
    pub registry: Registry,
    /// Python modules that failed to load and were left out (each error
    /// names its file); callers report them as warnings.
    pub skipped: Vec<resyn_sandbox::Error>,
    /// The module file of each environment loaded from a directory, by id
    /// (viewers show its source).
    pub files: BTreeMap<String, PathBuf>,
    /// The sandboxed module of each directory environment, by id.
    modules: BTreeMap<String, PythonEnv>,
    /// Each synthesized environment and its store row, by id.
    synth: BTreeMap<String, (Arc<SynthEnv>, StoredEnv)>,
    sandbox: SharedSandbox,
}

impl Loaded {
    /// The store row of a synthesized environment (its code and the
    /// validation report `resyn synth` kept with it); `None` for other
    /// sources.
    pub fn stored(&self, id: &str) -> Option<&StoredEnv> {
        self.synth.get(id).map(|(_, row)| row)
    }

    /// The sandboxed module behind a Python or synthesized environment, for
    /// what the [`Environment`] trait does not offer (its `solve()`, typed
    /// errors). It is the module the registry's environment runs (a stored
    /// one is loaded on first use); `Ok(None)` for native environments and
    /// unknown ids.
    ///
    /// # Errors
    /// [`Error::Module`] when a stored module cannot be loaded,
    /// [`Error::Sandbox`] when the sandbox cannot start.
    pub fn python(&self, id: &str) -> Result<Option<PythonEnv>> {
        if let Some(m) = self.modules.get(id) {
            return Ok(Some(m.clone()));
        }
        match self.synth.get(id) {
            Some((env, _)) => env.python().cloned().map(Some).map_err(|e| match e {
                Unavailable::Sandbox(e) => Error::Sandbox(Arc::clone(e)),
                Unavailable::Load(e) => Error::Module {
                    id: id.to_string(),
                    source: Arc::clone(e),
                },
            }),
            None => Ok(None),
        }
    }

    /// Load more untrusted Python source (e.g. the second verifier stored
    /// with a synthesized environment) into this registry's sandbox, which
    /// starts here if nothing has started it yet. `filename` names the
    /// module in tracebacks.
    ///
    /// # Errors
    /// [`Error::Sandbox`] when the sandbox cannot start; [`Error::Module`]
    /// when the module does not load.
    pub fn load_module(&self, filename: &str, source: String) -> Result<PythonEnv> {
        let sandbox = self.sandbox.get().map_err(Error::Sandbox)?;
        PythonEnv::from_source(filename, source, sandbox).map_err(|e| Error::Module {
            id: filename.to_string(),
            source: Arc::new(e),
        })
    }
}

impl Sources {
    /// The sources the process environment selects: [`ENV_DIRS_VAR`],
    /// [`STORE_VAR`] (else the default store rule) and [`ALLOW_WEAK_VAR`].
    pub fn from_env() -> Self {
        Self {
            env_dirs: env_dirs_from_env(),
            store: StoreSource::named_or_env(None),
            sandbox: sandbox_config(allow_weak_from_env()),
        }
    }

    /// Assemble the registry: native environments, then every module of
    /// every directory, then the store's accepted environments.
    ///
    /// The sandbox starts here only when there are directories to load;
    /// stored environments start it on their first use.
    ///
    /// # Errors
    /// A missing directory or named store, an unreadable store, a sandbox
    /// that cannot start, or two environments with one id.
    pub fn load(&self) -> Result<Loaded> {
        let mut registry = resyn_envs::registry();
        let mut skipped = Vec::new();
        let mut files = BTreeMap::new();
        let mut modules = BTreeMap::new();
        let mut synth = BTreeMap::new();
        let sandbox = SharedSandbox::new(self.sandbox.clone());
        if let Some(d) = self.env_dirs.iter().find(|d| !d.is_dir()) {
            return Err(Error::MissingDir { path: d.clone() });
        }
        if !self.env_dirs.is_empty() {
            let sb = sandbox.get().map_err(Error::Sandbox)?;
            for dir in &self.env_dirs {
                for env in resyn_sandbox::load_dir(dir, sb) {
                    match env {
                        Ok(env) => {
                            let file = dir.join(env.filename());
                            let origin = file.display().to_string();
                            files.insert(env.meta().id.clone(), file);
                            modules.insert(env.meta().id.clone(), env.clone());
                            register(&mut registry, Arc::new(env), origin)?;
                        }
                        Err(e) => skipped.push(e),
                    }
                }
            }
        }
        if let Some(path) = self.store.resolve()? {
            for stored in read_store(&path)? {
                let origin = format!("store {}", path.display());
                let env = Arc::new(SynthEnv::new(&stored, sandbox.clone()));
                register(&mut registry, env.clone(), origin)?;
                synth.insert(stored.env.name.clone(), (env, stored));
            }
        }
        Ok(Loaded {
            registry,
            skipped,
            files,
            modules,
            synth,
            sandbox,
        })
    }
}

fn read_store(path: &Path) -> Result<Vec<resyn_store::StoredEnv>> {
    let err = |source| Error::Store {
        path: path.to_path_buf(),
        source,
    };
    // Read-only: listing and scoring never migrate or write the store, and
    // work while `resyn synth` writes it.
    Store::open_read_only(path)
        .and_then(|s| s.environments())
        .map_err(err)
}

fn register(
    registry: &mut Registry,
    env: Arc<dyn resyn_core::Environment>,
    origin: String,
) -> Result<()> {
    let id = env.meta().id.clone();
    registry
        .register(env)
        .map_err(|_| Error::Clash { id, origin })
}

/// The default sandbox configuration, with the default policy (network
/// isolation, resource limits and seccomp required) unless weak sandboxes
/// are explicitly allowed.
pub fn sandbox_config(allow_weak: bool) -> SandboxConfig {
    SandboxConfig {
        policy: if allow_weak {
            SandboxPolicy::allow_weak()
        } else {
            SandboxPolicy::default()
        },
        ..SandboxConfig::default()
    }
}

/// The directories in [`ENV_DIRS_VAR`], in order (empty entries ignored).
pub fn env_dirs_from_env() -> Vec<PathBuf> {
    std::env::var_os(ENV_DIRS_VAR)
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The store in [`STORE_VAR`], if set and not empty.
pub fn store_from_env() -> Option<PathBuf> {
    std::env::var_os(STORE_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Whether [`ALLOW_WEAK_VAR`] is `1`, `true` or `yes`.
pub fn allow_weak_from_env() -> bool {
    std::env::var(ALLOW_WEAK_VAR).is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
}
