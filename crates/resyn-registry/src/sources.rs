//! [`Sources`]: which environments to assemble, and [`Sources::load`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use resyn_core::{Category, EnvMeta, Environment, Registry, Source};
use resyn_sandbox::{LazySandbox, PythonEnv, SandboxConfig, SandboxPolicy};
use resyn_store::{Store, StoredEnv};

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
/// Most sandbox workers (so the most Python modules resident at once), a
/// positive integer ([`resyn_sandbox::SandboxConfig::max_workers`]).
pub const SANDBOX_WORKERS_VAR: &str = "RESYN_SANDBOX_WORKERS";

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
    /// The sandboxed module of each Python or synthesized environment, by id.
    modules: BTreeMap<String, PythonEnv>,
    /// The store row of each synthesized environment, by id.
    synth: BTreeMap<String, StoredEnv>,
    sandbox: LazySandbox,
}

impl Loaded {
    /// The store row of a synthesized environment (its code and the
    /// validation report `resyn synth` kept with it); `None` for other
    /// sources.
    pub fn stored(&self, id: &str) -> Option<&StoredEnv> {
        self.synth.get(id)
    }

    /// The sandboxed module behind a Python or synthesized environment, for
    /// what the [`Environment`] trait does not offer (its `solve()`, typed
    /// errors). It is the module the registry's environment runs, started on
    /// first use (a module that does not load fails its calls with
    /// [`resyn_sandbox::Error::Load`]); `None` for native environments and
    /// unknown ids.
    pub fn python(&self, id: &str) -> Option<PythonEnv> {
        self.modules.get(id).cloned()
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
    /// [`STORE_VAR`] (else the default store rule), [`ALLOW_WEAK_VAR`] and
    /// [`SANDBOX_WORKERS_VAR`].
    ///
    /// # Errors
    /// [`Error::BadVar`] for a malformed [`SANDBOX_WORKERS_VAR`].
    pub fn from_env() -> Result<Self> {
        let mut sandbox = sandbox_config(allow_weak_from_env());
        if let Some(n) = sandbox_workers_from_env()? {
            sandbox.max_workers = n;
        }
        Ok(Self {
            env_dirs: env_dirs_from_env(),
            store: StoreSource::named_or_env(None),
            sandbox,
        })
    }

    /// Assemble the registry: native environments, then every module of
    /// every directory, then the store's accepted environments.
    ///
    /// No sandbox starts here: a directory's modules and the store's
    /// environments are listed from their source ([`PythonEnv::open`]), and
    /// the sandbox starts on the first use of one of them. (A module whose
    /// metadata cannot be read from its source is loaded to read it, which
    /// starts the sandbox.)
    ///
    /// # Errors
    /// A missing directory or named store, an unreadable store, a sandbox
    /// that cannot start when a module has to be loaded, or two environments
    /// with one id.
    pub fn load(&self) -> Result<Loaded> {
        let mut registry = resyn_envs::registry();
        let mut skipped = Vec::new();
        let mut files = BTreeMap::new();
        let mut modules = BTreeMap::new();
        let mut synth = BTreeMap::new();
        let sandbox = LazySandbox::new(self.sandbox.clone());
        if let Some(d) = self.env_dirs.iter().find(|d| !d.is_dir()) {
            return Err(Error::MissingDir { path: d.clone() });
        }
        for dir in &self.env_dirs {
            for env in resyn_sandbox::open_dir(dir, &sandbox) {
                match env {
                    Ok(env) => {
                        let file = dir.join(env.filename());
                        let origin = file.display().to_string();
                        files.insert(env.meta().id.clone(), file);
                        modules.insert(env.meta().id.clone(), env.clone());
                        register(&mut registry, Arc::new(env), origin)?;
                    }
                    // The sandbox itself cannot start: no module can run.
                    Err(resyn_sandbox::Error::Sandbox(e)) => return Err(Error::Sandbox(e)),
                    Err(e) => skipped.push(e),
                }
            }
        }
        if let Some(path) = self.store.resolve()? {
            for stored in read_store(&path)? {
                let origin = format!("store {}", path.display());
                let env = stored_env(&stored, &sandbox);
                modules.insert(stored.env.name.clone(), env.clone());
                register(&mut registry, Arc::new(env), origin)?;
                synth.insert(stored.env.name.clone(), stored);
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

/// An accepted environment of the store: its metadata from the store
/// (source [`Source::Synth`]), its module run in `sandbox` on first use.
fn stored_env(stored: &resyn_store::StoredEnv, sandbox: &LazySandbox) -> PythonEnv {
    let e = &stored.env;
    let meta = EnvMeta {
        id: e.name.clone(),
        version: e.version,
        category: e.category.parse().unwrap_or(Category::Logic),
        description: e.description.clone(),
        min_difficulty: resyn_core::MIN_DIFFICULTY,
        max_difficulty: resyn_core::MAX_DIFFICULTY,
        source: Source::Synth,
        calibrated: Some(e.calibration.is_some()),
    };
    PythonEnv::with_meta(&format!("{}.py", e.name), e.code.clone(), meta, sandbox)
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

/// The positive integer in [`SANDBOX_WORKERS_VAR`], if set and not empty.
///
/// # Errors
/// [`Error::BadVar`] when it is not a positive integer.
pub fn sandbox_workers_from_env() -> Result<Option<usize>> {
    match std::env::var(SANDBOX_WORKERS_VAR) {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(Error::BadVar {
                var: SANDBOX_WORKERS_VAR,
                value: v,
                expected: "a positive integer",
            }),
        },
        _ => Ok(None),
    }
}

/// Whether [`ALLOW_WEAK_VAR`] is `1`, `true` or `yes`.
pub fn allow_weak_from_env() -> bool {
    std::env::var(ALLOW_WEAK_VAR).is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
}
