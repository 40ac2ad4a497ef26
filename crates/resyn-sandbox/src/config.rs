//! Configuration: resource limits, the isolation backend and the policy that
//! decides which layers are required.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::enforcement::Layer;

/// Per-call and per-worker resource limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock limit for one call (one item of a batch: one `generate`,
    /// `verify` or `solve`, and for loading, the module's top-level code).
    /// The parent kills the worker when it is exceeded.
    pub call_timeout: Duration,
    /// Wall-clock limit for a worker to start and report ready.
    pub startup_timeout: Duration,
    /// `RLIMIT_AS`: address-space bytes per worker.
    pub memory_bytes: u64,
    /// `RLIMIT_CPU`: CPU seconds over a worker's whole life. Workers are
    /// recycled once they have used half of it, so a call never inherits an
    /// almost-spent budget.
    pub cpu_seconds: u64,
    /// `RLIMIT_FSIZE`: largest file a worker may write (in its private
    /// directory, the only place it may write).
    pub file_size_bytes: u64,
    /// `RLIMIT_NOFILE`: open file descriptors per worker.
    pub open_files: u64,
    /// `RLIMIT_NPROC`, when set. Off by default: process creation is denied by
    /// seccomp, and `RLIMIT_NPROC` counts every process of the host uid (and
    /// is not enforced at all for root).
    pub processes: Option<u64>,
    /// Size of the private `/tmp` (bubblewrap backend; the direct backend's
    /// private directories are on the host's file system and have no cap of
    /// their own).
    pub tmp_bytes: u64,
    /// Characters of stdout and of stderr kept per call; the rest is dropped
    /// (and counted).
    pub output_chars: usize,
    /// Largest JSON encoding of one generated instance.
    pub max_instance_bytes: usize,
    /// Largest reply frame accepted from a worker.
    pub max_frame_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_secs(10),
            startup_timeout: Duration::from_secs(10),
            memory_bytes: 1 << 30,
            cpu_seconds: 600,
            file_size_bytes: 16 << 20,
            open_files: 64,
            processes: None,
            tmp_bytes: 64 << 20,
            output_chars: 8 << 10,
            max_instance_bytes: 4 << 20,
            max_frame_bytes: 64 << 20,
        }
    }
}

/// How workers are isolated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// Bubblewrap when `bwrap` is found on `PATH`, else [`Backend::Direct`].
    #[default]
    Auto,
    /// Bubblewrap at this path: every namespace, a minimal read-only view of
    /// the filesystem, a private tmpfs.
    Bubblewrap(PathBuf),
    /// No helper binary: the worker unshares user, network, IPC and UTS
    /// namespaces itself; rlimits and seccomp as usual; no mount or pid
    /// namespace, so the filesystem is visible as far as file permissions go.
    /// Each worker writes only in a private host directory (see
    /// [`SandboxConfig::scratch_parent`]), enforced by Landlock where the
    /// kernel has it.
    Direct,
}

/// Whether workers share a zygote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Zygotes {
    /// One zygote forks every worker when the probe observes that workers
    /// cannot reach one another (each has its own private directory and
    /// Landlock domain with signal scoping, and is not dumpable); otherwise
    /// one per worker.
    #[default]
    Auto,
    /// One zygote per worker: every worker is a sandbox of its own, and a
    /// module's first call costs an interpreter start.
    PerWorker,
}

/// Which layers must be enforced before untrusted code runs.
///
/// Deny by default: [`SandboxPolicy::default`] requires network isolation,
/// resource limits and the seccomp filter, and [`crate::Sandbox::new`] refuses
/// to start when any is missing. [`SandboxPolicy::allow_weak`] is the explicit
/// opt-out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPolicy {
    required: BTreeSet<Layer>,
}

impl Default for SandboxPolicy {
    fn default() -> Self {
        Self::require([Layer::NetNs, Layer::Rlimits, Layer::Seccomp])
    }
}

impl SandboxPolicy {
    /// Require exactly these layers.
    pub fn require(layers: impl IntoIterator<Item = Layer>) -> Self {
        Self {
            required: layers.into_iter().collect(),
        }
    }

    /// Require every layer except the optional ones (Landlock).
    pub fn strict() -> Self {
        Self::require(Layer::ALL.into_iter().filter(|l| !l.is_optional()))
    }

    /// Run with whatever the host provides (the explicit opt-out behind
    /// `--allow-weak-sandbox`).
    pub fn allow_weak() -> Self {
        Self::require([])
    }

    /// Whether `layer` is required.
    pub fn requires(&self, layer: Layer) -> bool {
        self.required.contains(&layer)
    }

    /// The required layers, in layer order.
    pub fn required(&self) -> impl Iterator<Item = Layer> + '_ {
        self.required.iter().copied()
    }
}

/// Everything a [`crate::Sandbox`] needs.
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    /// Resource limits.
    pub limits: Limits,
    /// Isolation backend.
    pub backend: Backend,
    /// Required layers.
    pub policy: SandboxPolicy,
    /// The Python interpreter; `None` resolves `$RESYN_PYTHON`, else `python3`
    /// on `PATH` (following shims to the real executable).
    pub python: Option<PathBuf>,
    /// Most live worker processes (all environments together), so the most
    /// modules resident at once; `0` means [`DEFAULT_MAX_WORKERS`]. Idle
    /// workers beyond it are evicted, least recently used first.
    pub max_workers: usize,
    /// Most workers one environment's batch is spread over; `0` means the
    /// available parallelism.
    pub workers_per_env: usize,
    /// Direct backend: where the sandbox creates its directory of private
    /// worker directories (`resyn-sandbox-<pid>-<n>/w<k>`, mode 0700); `None`
    /// means [`std::env::temp_dir`]. Directories left behind by a crashed
    /// process are removed by the next sandbox started with the same parent.
    pub scratch_parent: Option<PathBuf>,
    /// Whether workers share a zygote.
    pub zygotes: Zygotes,
    /// Where compiled module code is kept between runs.
    pub code_cache: CodeCache,
    /// Standard-library modules the zygote imports once for all its workers
    /// (their pages are shared), of a fixed list of common ones; `None`
    /// imports that whole list. A smaller zygote is cheaper to fork and to
    /// tear down, so [`crate::LazySandbox`] sets this to what the modules it
    /// hosts import; a module importing something else imports it itself.
    pub preload: Option<Vec<String>>,
}

/// Where compiled module code is kept, so a module's next worker, in this
/// process or a later one, loads its code instead of compiling its source
/// (compiling is about half of a module's start-up).
///
/// Entries are keyed by the module's file name and source and the
/// interpreter's bytecode version; the code is what the worker compiled from
/// that source before any of the module's code ran. A missing, unreadable or
/// corrupt entry only means compiling again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeCache {
    /// `$RESYN_CODE_CACHE` when set (a directory, or `off`), else
    /// `resyn/python-code` in the user's cache directory
    /// (`$XDG_CACHE_HOME`, else `~/.cache`), else off.
    #[default]
    Auto,
    /// This directory (created when missing).
    Dir(PathBuf),
    /// Compile every module's source every time a worker loads it.
    Off,
}

impl CodeCache {
    /// The directory this setting resolves to, if any.
    pub fn dir(&self) -> Option<PathBuf> {
        self.dir_in(|k| std::env::var_os(k))
    }

    fn dir_in(&self, var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
        let var = |k: &str| var(k).filter(|v| !v.is_empty());
        match self {
            CodeCache::Dir(d) => Some(d.clone()),
            CodeCache::Off => None,
            CodeCache::Auto => match var("RESYN_CODE_CACHE") {
                Some(v) if matches!(v.to_str(), Some("off" | "0" | "false" | "no")) => None,
                Some(v) => Some(PathBuf::from(v)),
                None => var("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))
                    .map(|c| c.join("resyn").join("python-code")),
            },
        }
    }
}

/// The default [`SandboxConfig::max_workers`].
pub const DEFAULT_MAX_WORKERS: usize = 512;

impl SandboxConfig {
    /// The effective [`SandboxConfig::max_workers`].
    pub fn max_workers(&self) -> usize {
        if self.max_workers > 0 {
            self.max_workers
        } else {
            DEFAULT_MAX_WORKERS
        }
    }

    /// The effective number of workers one environment's batch is spread over.
    pub fn workers_per_env_effective(&self) -> usize {
        self.workers_per_env()
    }

    pub(crate) fn workers_per_env(&self) -> usize {
        if self.workers_per_env > 0 {
            self.workers_per_env
        } else {
            parallelism()
        }
        .min(self.max_workers())
    }
}

fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_cache_directory_comes_from_the_environment() {
        let auto = |vars: &[(&str, &str)]| {
            CodeCache::Auto.dir_in(|k| {
                vars.iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| OsString::from(v))
            })
        };
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(auto(&[("HOME", "/h")]), p("/h/.cache/resyn/python-code"));
        assert_eq!(
            auto(&[("HOME", "/h"), ("XDG_CACHE_HOME", "/x")]),
            p("/x/resyn/python-code")
        );
        assert_eq!(auto(&[("HOME", "/h"), ("RESYN_CODE_CACHE", "/c")]), p("/c"));
        assert_eq!(auto(&[("HOME", "/h"), ("RESYN_CODE_CACHE", "off")]), None);
        assert_eq!(
            auto(&[("HOME", "/h"), ("RESYN_CODE_CACHE", "")]),
            p("/h/.cache/resyn/python-code")
        );
        assert_eq!(auto(&[]), None);
        assert_eq!(CodeCache::Dir("/d".into()).dir(), p("/d"));
        assert_eq!(CodeCache::Off.dir(), None);
    }
}
