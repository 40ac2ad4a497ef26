//! The [`Sandbox`] handle: interpreter, backend, enforcement report and the
//! worker pool.
//!
//! Pool invariants:
//! - at most `max_workers` live workers (idle + checked out) in total;
//! - a worker hosts one module for life, so idle workers are keyed by module;
//! - when the cap is reached, the least recently used idle worker of another
//!   module is evicted; if none is idle, callers wait for a check-in;
//! - broken workers and workers past half their CPU budget are killed at
//!   check-in, never reused;
//! - every worker is spawned from one long-lived spawner thread, because the
//!   parent-death signal fires when the *thread* that forked a child exits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::{Backend, SandboxConfig};
use crate::enforcement::{self, Enforcement};
use crate::env::PythonEnv;
use crate::launch::{Isolation, Launcher, find_bwrap};
use crate::worker::{ModuleKey, SpawnJob, Worker};
use crate::{Error, Result, python};

/// A module's source and identity.
#[derive(Debug)]
pub(crate) struct Module {
    pub key: ModuleKey,
    /// File name shown in tracebacks.
    pub filename: String,
    pub source: String,
}

impl Module {
    pub(crate) fn new(filename: &str, source: String) -> Self {
        let key = resyn_core::content_hash(&[
            b"resyn-python-module",
            filename.as_bytes(),
            source.as_bytes(),
        ]);
        Self {
            key,
            filename: filename.to_string(),
            source,
        }
    }
}

struct PoolState {
    /// Least recently used first.
    idle: Vec<Worker>,
    live: usize,
}

pub(crate) struct Inner {
    pub config: SandboxConfig,
    exec_filter: String,
    pub launcher: Launcher,
    pub enforcement: Enforcement,
    pool: Mutex<PoolState>,
    cv: Condvar,
    spawner: Mutex<mpsc::Sender<SpawnJob>>,
}

/// The sandboxed Python runtime: create one per process and share it.
///
/// Cloning is cheap (an `Arc`). Dropping the last handle (and every
/// [`PythonEnv`] made from it) kills all workers.
#[derive(Clone)]
pub struct Sandbox {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("backend", &self.inner.enforcement.backend)
            .field("python", &self.inner.enforcement.python)
            .finish_non_exhaustive()
    }
}

/// Pool occupancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Live workers (idle + in use).
    pub live: usize,
    /// Idle workers.
    pub idle: usize,
}

fn lock(m: &Mutex<PoolState>) -> MutexGuard<'_, PoolState> {
    // A panic while holding the lock leaves plain counters and a Vec behind;
    // they are still consistent enough to keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn spawner() -> mpsc::Sender<SpawnJob> {
    let (tx, rx) = mpsc::channel::<SpawnJob>();
    std::thread::Builder::new()
        .name("resyn-sandbox-spawner".into())
        .spawn(move || {
            for (mut cmd, reply) in rx {
                let _ = reply.send(cmd.spawn());
            }
        })
        // Without a thread there is no runtime; thread creation failing at
        // start-up is an unrecoverable resource exhaustion.
        .expect("spawn the sandbox spawner thread");
    tx
}

impl Sandbox {
    /// Resolve the interpreter and backend, probe the isolation from inside a
    /// worker, and apply the policy.
    ///
    /// # Errors
    /// [`Error::Python`] without a usable interpreter; [`Error::Unavailable`]
    /// when a layer the policy requires is not enforced on this host (the
    /// message says how to fix the host or opt out); start-up errors of the
    /// probe worker.
    pub fn new(config: SandboxConfig) -> Result<Sandbox> {
        let sb = Self::probe(config)?;
        let missing = sb.inner.enforcement.missing_required();
        if !missing.is_empty() {
            let bwrap = matches!(sb.inner.launcher.isolation, Isolation::Bubblewrap(_));
            return Err(Error::Unavailable {
                hint: enforcement::hint(&missing, bwrap),
                missing,
            });
        }
        Ok(sb)
    }

    /// Like [`Sandbox::new`] but never refuses: for `resyn sandbox doctor`,
    /// which reports what the host enforces.
    ///
    /// # Errors
    /// As [`Sandbox::new`], except [`Error::Unavailable`].
    pub fn probe(config: SandboxConfig) -> Result<Sandbox> {
        let python = python::resolve(config.python.as_deref())?;
        let isolation = match &config.backend {
            Backend::Bubblewrap(p) => Isolation::Bubblewrap(p.clone()),
            Backend::Direct => Isolation::Direct,
            Backend::Auto => find_bwrap().map_or(Isolation::Direct, Isolation::Bubblewrap),
        };
        let auto = matches!(config.backend, Backend::Auto);
        let spawn_tx = spawner();
        let scratch_parent = config
            .scratch_parent
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        let launcher_for = |isolation| {
            Launcher::new(
                isolation,
                python.clone(),
                config.limits.clone(),
                &scratch_parent,
            )
            .map_err(|e| {
                Error::io(
                    format!(
                        "creating private worker directories in {}",
                        scratch_parent.display()
                    ),
                    e,
                )
            })
        };
        let launcher = launcher_for(isolation)?;
        let (launcher, facts, note) = match probe_facts(&launcher, &spawn_tx) {
            Ok(f) => (launcher, f, None),
            Err(e) if auto && matches!(launcher.isolation, Isolation::Bubblewrap(_)) => {
                // bwrap exists but cannot run here (e.g. user namespaces are
                // disabled): fall back, and say why in the report.
                let direct = launcher_for(Isolation::Direct)?;
                let f = probe_facts(&direct, &spawn_tx)?;
                (direct, f, Some(format!("bubblewrap failed: {e}")))
            }
            Err(e) => return Err(e),
        };
        let mut backend = launcher.describe();
        if let Some(n) = note {
            backend = format!("{backend}; {n}");
        }
        let enforcement = enforcement::evaluate(
            &facts,
            &config.limits,
            &config.policy,
            backend,
            format!("{} ({})", python.executable.display(), python.version),
        );
        Ok(Sandbox {
            inner: Arc::new(Inner {
                config,
                exec_filter: launcher.exec_filter_hex(),
                launcher,
                enforcement,
                pool: Mutex::new(PoolState {
                    idle: Vec::new(),
                    live: 0,
                }),
                cv: Condvar::new(),
                spawner: Mutex::new(spawn_tx),
            }),
        })
    }

    /// What this sandbox enforces, observed from inside a worker.
    pub fn enforcement(&self) -> &Enforcement {
        &self.inner.enforcement
    }

    /// The configuration in force.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// Load the environment module at `path` (see [`PythonEnv::load`]).
    ///
    /// # Errors
    /// See [`PythonEnv::load`].
    pub fn load(&self, path: impl AsRef<Path>) -> Result<PythonEnv> {
        PythonEnv::load(path, self)
    }

    /// Pool occupancy.
    pub fn stats(&self) -> PoolStats {
        let st = lock(&self.inner.pool);
        PoolStats {
            live: st.live,
            idle: st.idle.len(),
        }
    }

    /// Host pids of the idle workers' top processes (for benchmarks).
    pub fn idle_worker_pids(&self) -> Vec<u32> {
        lock(&self.inner.pool)
            .idle
            .iter()
            .map(Worker::pid)
            .collect()
    }

    /// Kill every idle worker (in-use workers finish their call first).
    pub fn shutdown_idle(&self) {
        let victims: Vec<Worker> = {
            let mut st = lock(&self.inner.pool);
            let v: Vec<Worker> = st.idle.drain(..).collect();
            st.live -= v.len();
            v
        };
        drop(victims);
        self.inner.cv.notify_all();
    }
}

/// Paths that exist on the host and must not be visible inside.
fn hidden_paths(launcher: &Launcher) -> Vec<String> {
    let mut bound: Vec<PathBuf> = launcher.python.prefixes.clone();
    bound.push(launcher.python.executable.clone());
    let related = |p: &Path| bound.iter().any(|b| b.starts_with(p) || p.starts_with(b));
    let mut out: Vec<PathBuf> = vec!["/etc/passwd".into(), "/etc/shadow".into()];
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        candidates.push(exe);
    }
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd);
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(home.into());
    }
    for c in candidates {
        if !related(&c) {
            out.push(c);
        } else if let Ok(rd) = std::fs::read_dir(&c) {
            // An ancestor of the interpreter (pyenv in $HOME): its siblings
            // must stay hidden.
            out.extend(
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| !related(p))
                    .take(3),
            );
        }
    }
    out.retain(|p| p.exists() && !p.starts_with("/usr") && !p.starts_with("/tmp"));
    out.iter().map(|p| p.display().to_string()).collect()
}

/// Host directories a worker must not write to: the shared temporary
/// directories and, for the direct backend, the directory holding the other
/// workers' private directories (those that exist, once each, as UTF-8 for
/// the JSON request).
fn shared_dirs(launcher: &Launcher) -> Vec<String> {
    let mut dirs: Vec<PathBuf> = ["/tmp", "/var/tmp", "/dev/shm"]
        .into_iter()
        .map(PathBuf::from)
        .collect();
    dirs.push(std::env::temp_dir());
    dirs.extend(launcher.scratch_root().map(Path::to_owned));
    let mut seen = Vec::new();
    dirs.into_iter()
        .filter(|d| match std::fs::canonicalize(d) {
            Ok(real) if !seen.contains(&real) => {
                seen.push(real);
                true
            }
            _ => false,
        })
        .filter_map(|d| d.to_str().map(str::to_string))
        .collect()
}

fn probe_facts(launcher: &Launcher, spawn_tx: &mpsc::Sender<SpawnJob>) -> Result<Value> {
    // The probe tries to create `<dir>/<nonce>` in each shared directory; the
    // host then looks whether the file arrived (with bubblewrap the attempt
    // succeeds inside, in the private tmpfs, and nothing reaches the host).
    static PROBES: AtomicU64 = AtomicU64::new(0);
    let nonce = format!(
        ".resyn-probe-{}-{}",
        std::process::id(),
        PROBES.fetch_add(1, Ordering::Relaxed)
    );
    let shared = shared_dirs(launcher);
    let init = json!({
        "op": "init", "id": 0, "source": null, "filename": "probe",
        "probe": hidden_paths(launcher), "exec_filter": launcher.exec_filter_hex(),
        "landlock": true, "shared": shared, "nonce": nonce,
    });
    let spawn = |cmd: Command| spawn_via(spawn_tx, cmd);
    let (mut w, reply) = Worker::start(launcher, &spawn, None, init, Duration::from_secs(5))?;
    w.kill();
    let mut facts = reply.frame.probe.ok_or_else(|| Error::Protocol {
        call: "probe".into(),
        detail: "the probe worker reported no facts".into(),
    })?;
    let mut leaked = Vec::new();
    for dir in &shared {
        let file = Path::new(dir).join(&nonce);
        // Only a file the probe reports creating is ours to remove.
        if facts["shared_writes"][dir] == "created" && file.symlink_metadata().is_ok() {
            let _ = std::fs::remove_file(&file);
            leaked.push(dir.clone());
        }
    }
    facts["shared_dirs"] = json!(shared);
    facts["shared_leaked"] = json!(leaked);
    facts["scratch_desc"] = json!(launcher.describe_scratch());
    Ok(facts)
}

fn spawn_via(tx: &mpsc::Sender<SpawnJob>, cmd: Command) -> std::io::Result<Child> {
    let (rtx, rrx) = mpsc::channel();
    tx.send((cmd, rtx))
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?;
    rrx.recv()
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?
}

impl Inner {
    fn spawn(&self, cmd: Command) -> std::io::Result<Child> {
        let tx = self
            .spawner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        spawn_via(&tx, cmd)
    }

    /// Start a worker hosting `module`; returns it with its init reply's
    /// module metadata.
    fn start(&self, module: &Module) -> Result<(Worker, Value)> {
        let l = &self.config.limits;
        let init = json!({
            "op": "init", "id": 0,
            "source": module.source, "filename": module.filename,
            "out_cap": l.output_chars, "flush_ms": 10, "max_item": l.max_instance_bytes,
            "exec_filter": self.exec_filter,
            "landlock": true,
        });
        let spawn = |cmd: Command| self.spawn(cmd);
        let (mut w, reply) = Worker::start(
            &self.launcher,
            &spawn,
            Some(module.key),
            init,
            l.call_timeout,
        )?;
        let f = reply.frame;
        if f.ok == Some(true)
            && let Some(meta) = f.meta
        {
            return Ok((w, meta));
        }
        w.kill();
        Err(load_error(&module.filename, f.error.as_ref()))
    }

    /// A worker for `module`: an idle one, or a new one (`fresh` forces new).
    /// Returns the module metadata when a new worker was started.
    pub(crate) fn checkout(&self, module: &Module, fresh: bool) -> Result<(Worker, Option<Value>)> {
        let max = self.config.max_workers();
        let mut victim = None;
        {
            let mut st = lock(&self.pool);
            loop {
                if !fresh && let Some(i) = st.idle.iter().rposition(|w| w.key == Some(module.key)) {
                    return Ok((st.idle.remove(i), None));
                }
                if st.live < max {
                    st.live += 1;
                    break;
                }
                if !st.idle.is_empty() {
                    // Replace the least recently used idle worker.
                    victim = Some(st.idle.remove(0));
                    break;
                }
                st = self.cv.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        }
        drop(victim);
        match self.start(module) {
            Ok((w, meta)) => Ok((w, Some(meta))),
            Err(e) => {
                lock(&self.pool).live -= 1;
                self.cv.notify_all();
                Err(e)
            }
        }
    }

    /// Return a worker; broken or worn-out workers are killed.
    pub(crate) fn checkin(&self, w: Worker) {
        let worn = w.cpu > self.config.limits.cpu_seconds as f64 / 2.0;
        if w.broken || worn {
            lock(&self.pool).live -= 1;
            drop(w);
        } else {
            lock(&self.pool).idle.push(w);
        }
        self.cv.notify_all();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let idle: Vec<Worker> = lock(&self.pool).idle.drain(..).collect();
        drop(idle);
    }
}

/// Map the harness's load failure to [`Error::Load`].
fn load_error(file: &str, err: Option<&Value>) -> Error {
    use crate::error::LoadErrorKind as K;
    let Some(e) = err else {
        return Error::Load {
            file: file.into(),
            kind: K::Api,
            message: "the module reported no metadata".into(),
            traceback: String::new(),
        };
    };
    let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
    let kind = match e["kind"].as_str() {
        Some("syntax") => K::Syntax,
        Some("import") => K::Import,
        Some("api") => K::Api,
        _ => K::Exception,
    };
    let message = if kind == K::Api {
        s("message")
    } else {
        format!("{}: {}", s("type"), s("message"))
    };
    Error::Load {
        file: file.into(),
        kind,
        message,
        traceback: s("traceback"),
    }
}
