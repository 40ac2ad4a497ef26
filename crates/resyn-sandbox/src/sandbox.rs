//! The [`Sandbox`] handle: interpreter, backend, enforcement report, process
//! model and the worker pool.
//!
//! Process model ([`ProcessModel`]): with a shared zygote, one sandboxed
//! interpreter per sandbox forks every worker ([`crate::zygote`]); without
//! one (a host where the probe shows workers of one zygote could reach each
//! other, or [`Zygotes::PerWorker`]), every worker gets a zygote, and so a
//! sandbox, of its own.
//!
//! Pool invariants:
//! - at most `max_workers` live workers (idle + checked out) in total;
//! - a worker hosts one module for life, so idle workers are keyed by module;
//! - when the cap is reached, the least recently used idle worker of another
//!   module is evicted; if none is idle, callers wait for a check-in (and
//!   that wait is not part of any call's time limit);
//! - broken workers, workers past half their CPU budget and workers whose
//!   zygote died are killed, never reused; a zygote past half its own CPU
//!   budget (forking) is replaced, its workers finish their lives;
//! - every zygote is spawned from one long-lived spawner thread, because the
//!   parent-death signal fires when the *thread* that forked a child exits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use serde_json::{Value, json};

use crate::code_cache::CodeStore;
use crate::config::{Backend, SandboxConfig, Zygotes};
use crate::enforcement::{self, Enforcement};
use crate::env::PythonEnv;
use crate::launch::{Isolation, Launcher, find_bwrap};
use crate::worker::{ModuleKey, SpawnJob, Start, Worker};
use crate::zygote::Zygote;
use crate::{Error, Result, python, sys};

/// A module's source and identity.
#[derive(Debug)]
pub(crate) struct Module {
    /// Content hash of file name and source, computed on first use (listing
    /// never needs it).
    key: std::sync::OnceLock<ModuleKey>,
    /// File name shown in tracebacks.
    pub filename: String,
    pub source: String,
}

impl Module {
    pub(crate) fn new(filename: &str, source: String) -> Self {
        Self {
            key: std::sync::OnceLock::new(),
            filename: filename.to_string(),
            source,
        }
    }

    /// What identifies the module's workers in the pool.
    pub(crate) fn key(&self) -> ModuleKey {
        *self.key.get_or_init(|| {
            resyn_core::content_hash(&[
                b"resyn-python-module",
                self.filename.as_bytes(),
                self.source.as_bytes(),
            ])
        })
    }
}

struct PoolState {
    /// Least recently used first.
    idle: Vec<Worker>,
    live: usize,
    /// Modules whose worker is being started in the background
    /// ([`Inner::warm_up`]): a checkout waits for it instead of starting
    /// another.
    warming: Vec<ModuleKey>,
    /// Modules waiting in the warm-up queue, each holding a place in `live`:
    /// a checkout takes the place over and starts the worker itself.
    queued: Vec<ModuleKey>,
}

/// A background start: the module and the check of its metadata.
type WarmJob = (Arc<Module>, Box<dyn FnOnce(&Value) -> bool + Send>);

/// Threads serving the warm-up queue: starts are serialized by the zygote
/// anyway, and warming hundreds of modules must not make hundreds of threads.
const WARM_THREADS: usize = 2;

/// How workers relate to zygotes, as chosen when the sandbox started.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessModel {
    /// One zygote forks every worker: a module's first call costs a fork,
    /// not an interpreter start.
    SharedZygote,
    /// Every worker has a zygote of its own (a whole sandbox each).
    ZygotePerWorker {
        /// Why the zygote is not shared.
        reason: String,
    },
}

pub(crate) struct Inner {
    pub config: SandboxConfig,
    pub launcher: Launcher,
    pub enforcement: Enforcement,
    model: ProcessModel,
    /// The shared zygote (shared model only), started again when it dies.
    zygote: Mutex<Option<Arc<Zygote>>>,
    pool: Mutex<PoolState>,
    cv: Condvar,
    spawner: Mutex<mpsc::Sender<SpawnJob>>,
    /// Compiled module code kept between workers and runs.
    code: CodeStore,
    /// The warm-up queue, made on first use.
    warm: Mutex<Option<mpsc::Sender<WarmJob>>>,
}

/// The sandboxed Python runtime: create one per process and share it.
///
/// Cloning is cheap (an `Arc`). Dropping the last handle (and every
/// [`PythonEnv`] made from it) kills all workers and zygotes.
#[derive(Clone)]
pub struct Sandbox {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("backend", &self.inner.enforcement.backend)
            .field("python", &self.inner.enforcement.python)
            .field("model", &self.inner.model)
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
    /// Resolve the interpreter and backend, start the zygote, probe the
    /// isolation from inside a worker, and apply the policy.
    ///
    /// # Errors
    /// [`Error::Python`] without a usable interpreter; [`Error::Unavailable`]
    /// when a layer the policy requires is not enforced on this host (the
    /// message says how to fix the host or opt out); start-up errors of the
    /// zygote or the probe worker.
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
        let (launcher, (zygote, facts), note) = match probe(&launcher, &config, &spawn_tx) {
            Ok(p) => (launcher, p, None),
            Err(e) if auto && matches!(launcher.isolation, Isolation::Bubblewrap(_)) => {
                // bwrap exists but cannot run here (e.g. user namespaces are
                // disabled): fall back, and say why in the report.
                let direct = launcher_for(Isolation::Direct)?;
                let p = probe(&direct, &config, &spawn_tx)?;
                (direct, p, Some(format!("bubblewrap failed: {e}")))
            }
            Err(e) => return Err(e),
        };
        let model = match (&config.zygotes, enforcement::shared_zygote_blocker(&facts)) {
            (Zygotes::PerWorker, _) => ProcessModel::ZygotePerWorker {
                reason: "configured (SandboxConfig::zygotes)".into(),
            },
            (Zygotes::Auto, Some(reason)) => ProcessModel::ZygotePerWorker { reason },
            (Zygotes::Auto, None) => ProcessModel::SharedZygote,
        };
        let mut backend = launcher.describe();
        if let Some(n) = note {
            backend = format!("{backend}; {n}");
        }
        let enforcement = enforcement::evaluate(
            &facts,
            &model,
            &config.limits,
            &config.policy,
            backend,
            format!("{} ({})", python.executable.display(), python.version),
        );
        let zygote = (model == ProcessModel::SharedZygote).then(|| Arc::new(zygote));
        raise_open_files(config.max_workers());
        let code = CodeStore::new(config.code_cache.dir(), &launcher.python.code_tag);
        Ok(Sandbox {
            inner: Arc::new(Inner {
                code,
                config,
                launcher,
                enforcement,
                model,
                zygote: Mutex::new(zygote),
                pool: Mutex::new(PoolState {
                    idle: Vec::new(),
                    live: 0,
                    warming: Vec::new(),
                    queued: Vec::new(),
                }),
                cv: Condvar::new(),
                spawner: Mutex::new(spawn_tx),
                warm: Mutex::new(None),
            }),
        })
    }

    /// What this sandbox enforces, observed from inside a worker.
    pub fn enforcement(&self) -> &Enforcement {
        &self.inner.enforcement
    }

    /// How workers relate to zygotes here.
    pub fn process_model(&self) -> &ProcessModel {
        &self.inner.model
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

    /// Host pids of the live zygotes' top processes (bubblewrap or the
    /// interpreter); every worker is a descendant of one of them.
    pub fn zygote_pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = lock(&self.inner.pool)
            .idle
            .iter()
            .map(Worker::zygote_pid)
            .collect();
        if let Some(z) = &*self.inner.zygote.lock().unwrap_or_else(|p| p.into_inner()) {
            pids.push(z.pid());
        }
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Memory of every process of this sandbox (the zygotes and their
    /// workers, with bubblewrap's helpers), summed.
    pub fn memory(&self) -> sys::Memory {
        sys::tree_memory(&self.zygote_pids())
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

/// Each live worker holds one descriptor in this process (its socket): make
/// sure the soft limit leaves room for `workers` of them, raising it towards
/// the hard limit if needed.
fn raise_open_files(workers: usize) {
    let want = u64::try_from(workers)
        .unwrap_or(u64::MAX)
        .saturating_add(256);
    sys::raise_nofile(want);
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

/// A zygote's init request: `init` and the modules to preload, if chosen.
fn zygote_init(config: &SandboxConfig, mut init: Value) -> Value {
    if let (Some(names), Value::Object(o)) = (&config.preload, &mut init) {
        o.insert("preload".into(), json!(names));
    }
    init
}

/// Start a zygote and observe a worker of it from the inside. Returns the
/// zygote (kept as the shared one when the facts allow) and the facts.
fn probe(
    launcher: &Launcher,
    config: &SandboxConfig,
    spawn_tx: &mpsc::Sender<SpawnJob>,
) -> Result<(Zygote, Value)> {
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
    let spawn = |cmd: Command| spawn_via(spawn_tx, cmd);
    // What another worker owns: with bubblewrap a file in the zygote's own
    // /tmp (which a worker's private tmpfs covers); without, another
    // worker's directory holding a file.
    let marker = "/tmp/.resyn-zygote";
    let bwrap = matches!(launcher.isolation, Isolation::Bubblewrap(_));
    let zygote = Zygote::start(
        launcher,
        &spawn,
        zygote_init(
            config,
            if bwrap {
                json!({"marker": marker})
            } else {
                json!({})
            },
        ),
    )?;
    let (_, neighbour) = launcher
        .worker_scratch()
        .map_err(|e| Error::io("creating a private worker directory", e))?;
    let siblings: Vec<String> = match &neighbour {
        None => vec![marker.to_string()],
        Some(dir) => {
            let file = dir.path().join("sibling.txt");
            std::fs::write(&file, "another worker's file")
                .map_err(|e| Error::io("preparing the probe", e))?;
            [dir.path().to_owned(), file]
                .iter()
                .filter_map(|p| p.to_str().map(str::to_string))
                .collect()
        }
    };
    let init = json!({
        "op": "init", "id": 0, "source": null, "filename": "probe",
        "probe": hidden_paths(launcher), "shared": shared, "nonce": nonce,
        "siblings": siblings,
    });
    let scratch = launcher
        .worker_scratch()
        .map_err(|e| Error::io("creating a private worker directory", e))?;
    let zygote = Arc::new(zygote);
    let (mut w, reply) = Worker::start(Start {
        zygote: Arc::clone(&zygote),
        dedicated: false,
        strict: false,
        scratch,
        key: None,
        startup: launcher.limits.startup_timeout,
        max_frame: launcher.limits.max_frame_bytes,
        init: &init,
        init_budget: Duration::from_secs(5),
    })?;
    w.kill();
    drop(w);
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
    if let Some(dir) = &neighbour {
        // The neighbour's directory must hold exactly what it held.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        facts["neighbour_intact"] = json!(names == ["sibling.txt"]);
    }
    facts["shared_dirs"] = json!(shared);
    facts["shared_leaked"] = json!(leaked);
    facts["scratch_desc"] = json!(launcher.describe_scratch());
    let zygote = Arc::into_inner(zygote).ok_or_else(|| Error::Protocol {
        call: "probe".into(),
        detail: "the probe worker outlived its check".into(),
    })?;
    Ok((zygote, facts))
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

    /// The zygote a new worker forks from, and whether it is the worker's
    /// alone.
    fn zygote(&self) -> Result<(Arc<Zygote>, bool)> {
        let spawn = |cmd: Command| self.spawn(cmd);
        if self.model != ProcessModel::SharedZygote {
            return Ok((
                Arc::new(Zygote::start(
                    &self.launcher,
                    &spawn,
                    zygote_init(&self.config, json!({})),
                )?),
                true,
            ));
        }
        let mut slot = self.zygote.lock().unwrap_or_else(|p| p.into_inner());
        let worn = |z: &Zygote| z.cpu() > self.config.limits.cpu_seconds as f64 / 2.0;
        match &*slot {
            Some(z) if z.alive() && !worn(z) => Ok((Arc::clone(z), false)),
            _ => {
                // Dead or worn out: a new one. Workers of the old one keep it
                // (an Arc each) until they end.
                let z = Arc::new(Zygote::start(
                    &self.launcher,
                    &spawn,
                    zygote_init(&self.config, json!({})),
                )?);
                *slot = Some(Arc::clone(&z));
                Ok((z, false))
            }
        }
    }

    /// Start a worker hosting `module`; returns it with its init reply's
    /// module metadata.
    fn start(&self, module: &Module) -> Result<(Worker, Value)> {
        let key = module.key();
        let cached = self.code.get(&key);
        match self.start_with(module, cached.as_deref()) {
            // `marshal` trusts its input: an entry damaged on disk may crash
            // the worker instead of failing to load. Compile instead.
            Err(Error::Crash { .. } | Error::Protocol { .. }) if cached.is_some() => {
                self.code.forget(&key);
                self.start_with(module, None)
            }
            started => started,
        }
    }

    /// [`Inner::start`] with the module's cached code, if any.
    fn start_with(&self, module: &Module, cached: Option<&str>) -> Result<(Worker, Value)> {
        let l = &self.config.limits;
        let mut init = json!({
            "op": "init", "id": 0,
            "source": module.source, "filename": module.filename,
            "out_cap": l.output_chars, "flush_ms": 10, "max_item": l.max_instance_bytes,
        });
        match cached {
            Some(code) => init["code"] = Value::from(code),
            None if self.code.enabled() => init["want_code"] = Value::Bool(true),
            None => {}
        }
        let (zygote, dedicated) = self.zygote()?;
        let scratch = self
            .launcher
            .worker_scratch()
            .map_err(|e| Error::io("creating a private worker directory", e))?;
        let (mut w, reply) = Worker::start(Start {
            zygote,
            dedicated,
            strict: !dedicated,
            scratch,
            key: Some(module.key()),
            startup: l.startup_timeout,
            max_frame: l.max_frame_bytes,
            init: &init,
            init_budget: l.call_timeout,
        })?;
        let f = reply.frame;
        if f.code_cache.as_deref() == Some("rejected") {
            self.code.forget(&module.key());
        }
        if f.ok == Some(true)
            && let Some(meta) = f.meta
        {
            if let Some(code) = &reply.code {
                self.code.put(&module.key(), code);
            }
            return Ok((w, meta));
        }
        w.kill();
        Err(load_error(&module.filename, f.error.as_ref()))
    }

    /// A worker for `module`: an idle one, or a new one (`fresh` forces new).
    /// Returns the module metadata when a new worker was started.
    pub(crate) fn checkout(&self, module: &Module, fresh: bool) -> Result<(Worker, Option<Value>)> {
        let max = self.config.max_workers();
        let key = module.key();
        let mut discard = Vec::new();
        let reused = {
            let mut st = lock(&self.pool);
            loop {
                if !fresh && let Some(i) = st.idle.iter().rposition(|w| w.key == Some(key)) {
                    let w = st.idle.remove(i);
                    if w.usable() {
                        break Some(w);
                    }
                    st.live -= 1;
                    discard.push(w);
                    continue;
                }
                if !fresh && st.warming.contains(&key) {
                    st = self.cv.wait(st).unwrap_or_else(|p| p.into_inner());
                    continue;
                }
                if let Some(i) = st.queued.iter().position(|k| *k == key) {
                    // Queued for a warm-up that has not begun: start it now,
                    // in the place it holds.
                    st.queued.swap_remove(i);
                    break None;
                }
                if st.live < max {
                    st.live += 1;
                    break None;
                }
                if !st.idle.is_empty() {
                    // Replace the least recently used idle worker.
                    discard.push(st.idle.remove(0));
                    break None;
                }
                st = self.cv.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        };
        // Killing takes a round trip to the zygote: outside the pool lock.
        drop(discard);
        if let Some(w) = reused {
            return Ok((w, None));
        }
        match self.start(module) {
            Ok((w, meta)) => Ok((w, Some(meta))),
            Err(e) => {
                lock(&self.pool).live -= 1;
                self.cv.notify_all();
                Err(e)
            }
        }
    }

    /// Start a worker for `module` in the background unless one is idle or
    /// already starting, or the pool is full; it joins the idle workers.
    /// `check` sees the module's reported metadata first (a worker failing
    /// it is not kept).
    pub(crate) fn warm_up(
        self: &Arc<Self>,
        module: &Arc<Module>,
        check: impl FnOnce(&Value) -> bool + Send + 'static,
    ) {
        let key = module.key();
        {
            let mut st = lock(&self.pool);
            let idle = st.idle.iter().any(|w| w.key == Some(key));
            if idle
                || st.warming.contains(&key)
                || st.queued.contains(&key)
                || st.live >= self.config.max_workers()
            {
                return;
            }
            st.live += 1;
            st.queued.push(key);
        }
        let job: WarmJob = (Arc::clone(module), Box::new(check));
        if self.warm_queue().is_none_or(|tx| tx.send(job).is_err()) {
            let mut st = lock(&self.pool);
            if let Some(i) = st.queued.iter().position(|k| *k == key) {
                st.queued.swap_remove(i);
                st.live -= 1;
            }
        }
    }

    /// The warm-up queue, its threads started on first use; `None` when no
    /// thread could be started.
    fn warm_queue(self: &Arc<Self>) -> Option<mpsc::Sender<WarmJob>> {
        let mut slot = self.warm.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = &*slot {
            return Some(tx.clone());
        }
        let (tx, rx) = mpsc::channel::<WarmJob>();
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for _ in 0..WARM_THREADS {
            // Weak: queued work must not keep a dropped sandbox alive.
            let (rx, inner) = (Arc::clone(&rx), Arc::downgrade(self));
            let spawned = std::thread::Builder::new()
                .name("resyn-sandbox-warm".into())
                .spawn(move || {
                    loop {
                        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let (Ok((module, check)), Some(inner)) = (job, inner.upgrade()) else {
                            return;
                        };
                        inner.warm_one(&module, check);
                    }
                });
            started += usize::from(spawned.is_ok());
        }
        (started > 0).then(|| {
            *slot = Some(tx.clone());
            tx
        })
    }

    /// Start a queued module's worker, unless a checkout took its place.
    fn warm_one(&self, module: &Module, check: Box<dyn FnOnce(&Value) -> bool + Send>) {
        let key = module.key();
        {
            let mut st = lock(&self.pool);
            let Some(i) = st.queued.iter().position(|k| *k == key) else {
                return;
            };
            st.queued.swap_remove(i);
            st.warming.push(key);
        }
        let got = self.start(module);
        let mut st = lock(&self.pool);
        st.warming.retain(|k| *k != key);
        match got {
            Ok((mut w, meta)) => {
                drop(st);
                w.broken |= !check(&meta);
                self.checkin(w);
            }
            Err(_) => {
                // The caller's own checkout will start it again and
                // report the error.
                st.live -= 1;
                drop(st);
                self.cv.notify_all();
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
        // The shared zygote ends all its workers at once; stopping them one
        // by one would be a round trip each, hundreds in a row.
        let zygote = self
            .zygote
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(z) = zygote {
            z.hang_up();
        }
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
