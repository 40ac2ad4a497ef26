//! [`PythonEnv`]: a sandboxed Python module behind the `Environment` trait.
//!
//! Invariants:
//! - an environment is *opened* from its source alone: its metadata is read
//!   without an interpreter ([`crate::static_meta`]) or, when that is not
//!   possible, by loading the module once; a worker starts on first use.
//!   Whenever a worker loads the module, the metadata the module itself
//!   reports must equal what the environment claims, or the call fails with
//!   [`Error::Load`]: ids never silently differ;
//! - the instance RNG seed is `Rng::for_instance(NAME, VERSION, seed,
//!   difficulty).next_u64()`, fed to `random.Random` (and the global `random`
//!   is reseeded with it too); `PYTHONHASHSEED=0`;
//! - prompts get [`resyn_core::ANSWER_INSTRUCTION`] appended exactly as native
//!   environments do; the module's `reference` (or `solve` output) is wrapped
//!   with [`resyn_core::wrap_answer`];
//! - answers are extracted in Rust with [`resyn_core::extract_answer`] before
//!   Python sees them; any failure of the verifier (exception, timeout, NaN,
//!   out-of-range or non-numeric reward, crash) is a zero-reward verdict with
//!   [`ReasonCode::EnvError`], never a panic; a runtime that cannot run the
//!   module at all (no interpreter, a sandbox or worker that cannot start:
//!   [`Error::is_infra`]) gives [`ReasonCode::Unavailable`], which scorers
//!   raise instead of scoring 0.

use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use resyn_core::{
    ANSWER_INSTRUCTION, Category, EnvMeta, Environment, ExtractConfig, Instance, ReasonCode, Rng,
    Source, Verdict, extract_answer, instance_id, wrap_answer,
};
use serde_json::{Map, Value, json};

use crate::error::{LoadErrorKind, PyException};
use crate::lazy::LazySandbox;
use crate::sandbox::{Inner, Module, Sandbox};
use crate::static_meta::{self, StaticMeta};
use crate::worker::Worker;
use crate::{Error, Result};

/// After this many faults in one batch the remaining items are skipped.
const MAX_FAULTS_PER_BATCH: usize = 3;
/// Smallest share of a batch worth sending to a separate worker.
const MIN_CHUNK: usize = 128;
/// Verdict details keep at most this much of an error text.
const DETAIL_CAP: usize = 4096;

/// A sandboxed Python environment.
#[derive(Clone)]
pub struct PythonEnv {
    runtime: LazySandbox,
    module: Arc<Module>,
    meta: EnvMeta,
    /// Known from the source, or once a worker has loaded the module.
    has_solve: Arc<OnceLock<bool>>,
    extract: ExtractConfig,
}

impl std::fmt::Debug for PythonEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonEnv")
            .field("id", &self.meta.id)
            .field("file", &self.module.filename)
            .finish_non_exhaustive()
    }
}

/// Results of a batch plus what the environment code printed (capped).
#[derive(Debug)]
pub struct Batch<T> {
    /// One result per request, in request order.
    pub results: Vec<Result<T>>,
    /// Captured `sys.stdout` text.
    pub stdout: String,
    /// Captured `sys.stderr` text.
    pub stderr: String,
}

/// A generated instance plus, on request, the module's own `solve` output.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The instance.
    pub instance: Instance,
    /// `solve(instance)` when asked for and the module defines `solve`.
    pub solution: Option<String>,
}

fn read_source(path: &Path) -> Result<(String, String)> {
    let filename = path
        .file_name()
        .map_or_else(|| "env.py".into(), |f| f.to_string_lossy().into_owned());
    let source = std::fs::read_to_string(path).map_err(|e| Error::Load {
        file: path.display().to_string(),
        kind: LoadErrorKind::Read,
        message: e.to_string(),
        traceback: String::new(),
    })?;
    Ok((filename, source))
}

impl PythonEnv {
    /// Load the module at `path` now, in a fresh worker, and read its
    /// metadata from it (the synthesis pipeline's load check).
    ///
    /// # Errors
    /// [`Error::Load`] (syntax, import, module-level exception, missing or
    /// malformed `NAME`/`CATEGORY`/`DESCRIPTION`/`VERSION`/`generate`/`verify`),
    /// [`Error::Timeout`] when module-level code runs too long, or start-up
    /// errors of the worker.
    pub fn load(path: impl AsRef<Path>, sandbox: &Sandbox) -> Result<PythonEnv> {
        let (filename, source) = read_source(path.as_ref())?;
        Self::from_source(&filename, source, sandbox)
    }

    /// Load a module from its source text now; `filename` names it in
    /// tracebacks.
    ///
    /// # Errors
    /// As [`PythonEnv::load`].
    pub fn from_source(filename: &str, source: String, sandbox: &Sandbox) -> Result<PythonEnv> {
        Self::loaded(filename, source, &LazySandbox::from(sandbox.clone()))
    }

    /// Open the module at `path` without running it: its metadata is read
    /// from the source, and a worker starts on first use (so does the
    /// sandbox). A module whose metadata cannot be read that way is loaded
    /// now instead.
    ///
    /// A module with readable metadata but a fault further down (a syntax
    /// error, a failing import) opens fine and fails on every use with the
    /// load error; [`PythonEnv::load`] reports it at once.
    ///
    /// # Errors
    /// [`Error::Load`] for an unreadable file, or as [`PythonEnv::load`] when
    /// the module had to be loaded.
    pub fn open(path: impl AsRef<Path>, sandbox: &LazySandbox) -> Result<PythonEnv> {
        let (filename, source) = read_source(path.as_ref())?;
        Self::open_source(&filename, source, sandbox)
    }

    /// [`PythonEnv::open`] from source text.
    ///
    /// # Errors
    /// As [`PythonEnv::open`].
    pub fn open_source(filename: &str, source: String, sandbox: &LazySandbox) -> Result<PythonEnv> {
        if let StaticMeta::Read(m) = static_meta::read(&source) {
            let value = json!({
                "name": m.name, "category": m.category, "description": m.description,
                "version": m.version, "has_solve": m.has_solve,
            });
            // Metadata the harness would reject is left to the harness, whose
            // message lists every problem.
            if let Ok((meta, has_solve)) = parse_meta(filename, &value) {
                let module = Module::new(filename, source);
                return Ok(Self::new(module, sandbox, meta, Some(has_solve)));
            }
        }
        Self::loaded(filename, source, sandbox)
    }

    /// An environment whose metadata is known from elsewhere (the synthesis
    /// store), opened without running it; `meta.source` is kept. The module's
    /// own metadata must equal `meta` when it loads.
    pub fn with_meta(
        filename: &str,
        source: String,
        meta: EnvMeta,
        sandbox: &LazySandbox,
    ) -> PythonEnv {
        let has_solve = match static_meta::read(&source) {
            StaticMeta::Read(m) => Some(m.has_solve),
            StaticMeta::Unreadable(_) => None,
        };
        Self::new(Module::new(filename, source), sandbox, meta, has_solve)
    }

    fn new(
        module: Module,
        sandbox: &LazySandbox,
        meta: EnvMeta,
        has_solve: Option<bool>,
    ) -> PythonEnv {
        let known = OnceLock::new();
        if let Some(h) = has_solve {
            let _ = known.set(h);
        }
        let module = Arc::new(module);
        sandbox.note(&module);
        PythonEnv {
            runtime: sandbox.clone(),
            module,
            meta,
            has_solve: Arc::new(known),
            extract: ExtractConfig::default(),
        }
    }

    /// Load the module in a fresh worker now and take its metadata.
    fn loaded(filename: &str, source: String, sandbox: &LazySandbox) -> Result<PythonEnv> {
        let inner = Arc::clone(&sandbox.get().map_err(Error::Sandbox)?.inner);
        let module = Module::new(filename, source);
        let (w, meta) = inner.checkout(&module, true)?;
        inner.checkin(w);
        let meta = meta.unwrap_or(Value::Null);
        let (meta, has_solve) = parse_meta(filename, &meta)?;
        Ok(Self::new(module, sandbox, meta, Some(has_solve)))
    }

    /// The running sandbox (started on first use).
    fn inner(&self) -> Result<&Arc<Inner>> {
        self.runtime
            .get()
            .map(|sb| &sb.inner)
            .map_err(Error::Sandbox)
    }

    /// A worker's report after loading the module must match this
    /// environment's metadata.
    fn check_loaded(&self, reported: &Value) -> Result<()> {
        let (meta, has_solve) = parse_meta(&self.module.filename, reported)?;
        let mine = &self.meta;
        let mut diffs = Vec::new();
        if meta.id != mine.id {
            diffs.push(format!("NAME {:?} (read as {:?})", meta.id, mine.id));
        }
        if meta.version != mine.version {
            diffs.push(format!(
                "VERSION {} (read as {})",
                meta.version, mine.version
            ));
        }
        if meta.category != mine.category {
            diffs.push(format!(
                "CATEGORY {} (read as {})",
                meta.category, mine.category
            ));
        }
        if meta.description != mine.description {
            diffs.push("DESCRIPTION differs".to_string());
        }
        let known = *self.has_solve.get_or_init(|| has_solve);
        if known != has_solve {
            diffs.push(format!("solve() defined: {has_solve} (read as {known})"));
        }
        if diffs.is_empty() {
            return Ok(());
        }
        Err(Error::Load {
            file: self.module.filename.clone(),
            kind: LoadErrorKind::Api,
            message: format!(
                "the loaded module reports {}; assign NAME, CATEGORY, DESCRIPTION and VERSION \
                 once each, as plain literals at the top level, and define solve with a \
                 top-level def",
                diffs.join(", ")
            ),
            traceback: String::new(),
        })
    }

    /// Whether the module defines `solve(instance)` (loads the module when
    /// its source did not tell; `false` if it cannot load).
    pub fn has_solve(&self) -> bool {
        if let Some(&h) = self.has_solve.get() {
            return h;
        }
        if let Ok(inner) = self.inner()
            && let Ok((w, meta)) = inner.checkout(&self.module, false)
        {
            let ok = meta.map_or(Ok(()), |m| self.check_loaded(&m));
            if ok.is_err() {
                let mut w = w;
                w.broken = true;
                inner.checkin(w);
            } else {
                inner.checkin(w);
            }
        }
        self.has_solve.get().copied().unwrap_or(false)
    }

    /// The module's file name.
    pub fn filename(&self) -> &str {
        &self.module.filename
    }

    /// Generate instances, with typed errors and captured output. With
    /// `with_solution`, `solve` is also run on each instance (validation).
    pub fn try_generate_batch(
        &self,
        requests: &[(u64, u8)],
        with_solution: bool,
    ) -> Batch<Generated> {
        self.generate_with(requests, with_solution, false)
    }

    /// [`PythonEnv::try_generate_batch`], optionally starting on a fresh
    /// worker (no state left over from earlier calls).
    pub(crate) fn generate_with(
        &self,
        requests: &[(u64, u8)],
        with_solution: bool,
        fresh: bool,
    ) -> Batch<Generated> {
        let m = &self.meta;
        let mut results: Vec<Option<Result<Generated>>> =
            (0..requests.len()).map(|_| None).collect();
        let mut valid = Vec::new();
        for (i, &(seed, d)) in requests.iter().enumerate() {
            match self.check_difficulty(d) {
                Ok(()) => valid.push(i),
                Err(e) => {
                    results[i] = Some(Err(Error::Invalid {
                        env: m.id.clone(),
                        message: format!("{}: {e}", gen_call(seed, d)),
                    }))
                }
            }
        }
        let items: Vec<Value> = valid
            .iter()
            .map(|&i| {
                let (seed, d) = requests[i];
                let rng = Rng::for_instance(&m.id, m.version, seed, d).next_u64();
                json!([rng, seed, d])
            })
            .collect();
        let call = |k: usize| {
            let (s, d) = requests[valid[k]];
            gen_call(s, d)
        };
        let build = |r: Range<usize>| {
            op(json!({"op": "generate", "items": &items[r], "solve": with_solution}))
        };
        let raw = if fresh {
            self.run_chunk(0..items.len(), &build, &call, true)
        } else {
            self.run(items.len(), &build, &call)
        };
        for (k, res) in raw.results.into_iter().enumerate() {
            let (seed, d) = requests[valid[k]];
            results[valid[k]] = Some(res.and_then(|v| self.to_generated(v, seed, d)));
        }
        Batch {
            results: results
                .into_iter()
                .map(|r| {
                    r.unwrap_or_else(|| {
                        Err(Error::Protocol {
                            call: "generate".into(),
                            detail: "missing result".into(),
                        })
                    })
                })
                .collect(),
            stdout: raw.stdout,
            stderr: raw.stderr,
        }
    }

    /// Verify responses, with typed errors: `Ok(reward)` as returned by the
    /// module (not yet range-checked) or the error.
    ///
    /// Responses whose answer cannot be extracted are not sent to Python;
    /// they come back as `Ok(Err(verdict))`.
    pub fn try_verify_batch(
        &self,
        items: &[(&Instance, &str)],
    ) -> Batch<std::result::Result<f64, Verdict>> {
        let mut results: Vec<Option<Result<std::result::Result<f64, Verdict>>>> =
            (0..items.len()).map(|_| None).collect();
        let mut instances: Vec<Value> = Vec::new();
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let mut sent: Vec<usize> = Vec::new();
        let mut reqs: Vec<Value> = Vec::new();
        for (i, (inst, response)) in items.iter().enumerate() {
            if inst.env != self.meta.id || inst.env_version != self.meta.version {
                results[i] = Some(Ok(Err(Verdict::zero(
                    ReasonCode::InvalidInstance,
                    format!(
                        "instance is for {} v{}, not {} v{}",
                        inst.env, inst.env_version, self.meta.id, self.meta.version
                    ),
                ))));
                continue;
            }
            // verify() gets the answer without the whitespace around it
            // (the newlines of its block): the module format says so.
            let answer = match extract_answer(response, &self.extract) {
                Ok(a) => a.text.trim(),
                Err(e) => {
                    results[i] = Some(Ok(Err(e.into())));
                    continue;
                }
            };
            let idx = *index.entry(inst.id.as_str()).or_insert_with(|| {
                instances.push(json!({
                    "prompt": module_prompt(&inst.prompt),
                    "data": inst.data,
                    "difficulty": inst.difficulty,
                    "seed": inst.seed,
                }));
                instances.len() - 1
            });
            reqs.push(json!([idx, answer]));
            sent.push(i);
        }
        let call = |k: usize| {
            let inst = items[sent[k]].0;
            format!(
                "verify(instance seed={}, difficulty={})",
                inst.seed, inst.difficulty
            )
        };
        let build = |r: Range<usize>| {
            op(json!({"op": "verify", "instances": &instances, "items": &reqs[r]}))
        };
        let raw = self.run(reqs.len(), &build, &call);
        for (k, res) in raw.results.into_iter().enumerate() {
            results[sent[k]] = Some(res.and_then(|v| match v.as_f64() {
                Some(r) => Ok(Ok(r)),
                None => Err(Error::Protocol {
                    call: call(k),
                    detail: format!("verify result {v} is not a number"),
                }),
            }));
        }
        Batch {
            results: results
                .into_iter()
                .map(|r| {
                    r.unwrap_or_else(|| {
                        Err(Error::Protocol {
                            call: "verify".into(),
                            detail: "missing result".into(),
                        })
                    })
                })
                .collect(),
            stdout: raw.stdout,
            stderr: raw.stderr,
        }
    }

    /// Run the module's `solve` on instances (bare answer texts).
    pub fn try_solve_batch(&self, instances: &[&Instance]) -> Batch<String> {
        let payload: Vec<Value> = instances
            .iter()
            .map(|i| json!({"prompt": module_prompt(&i.prompt), "data": i.data, "difficulty": i.difficulty, "seed": i.seed}))
            .collect();
        let call = |k: usize| {
            format!(
                "solve(instance seed={}, difficulty={})",
                instances[k].seed, instances[k].difficulty
            )
        };
        if !self.has_solve() {
            return Batch {
                results: (0..instances.len())
                    .map(|k| {
                        Err(Error::BadReturn {
                            call: call(k),
                            message: "the module defines no solve()".into(),
                        })
                    })
                    .collect(),
                stdout: String::new(),
                stderr: String::new(),
            };
        }
        let build = |r: Range<usize>| op(json!({"op": "solve", "instances": &payload[r]}));
        let raw = self.run(payload.len(), &build, &call);
        Batch {
            results: raw
                .results
                .into_iter()
                .enumerate()
                .map(|(k, r)| {
                    r.and_then(|v| match v {
                        Value::String(s) => Ok(s),
                        other => Err(Error::Protocol {
                            call: call(k),
                            detail: format!("solve result {other} is not a string"),
                        }),
                    })
                })
                .collect(),
            stdout: raw.stdout,
            stderr: raw.stderr,
        }
    }

    fn to_generated(&self, v: Value, seed: u64, d: u8) -> Result<Generated> {
        let m = &self.meta;
        let bad = |detail: &str| Error::Protocol {
            call: gen_call(seed, d),
            detail: detail.to_string(),
        };
        let Value::Object(mut o) = v else {
            return Err(bad("generate result is not an object"));
        };
        let prompt = match o.remove("prompt") {
            Some(Value::String(s)) => s,
            _ => return Err(bad("generate result has no prompt")),
        };
        let reference = match o.remove("reference") {
            Some(Value::String(s)) => s,
            _ => return Err(bad("generate result has no reference")),
        };
        let solution = match o.remove("solution") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        Ok(Generated {
            instance: Instance {
                id: instance_id(&m.id, m.version, seed, d),
                env: m.id.clone(),
                env_version: m.version,
                seed,
                difficulty: d,
                prompt: format!("{}\n\n{ANSWER_INSTRUCTION}", prompt.trim_end()),
                data: o.remove("data").unwrap_or(Value::Null),
                reference: wrap_answer(&reference),
            },
            solution,
        })
    }

    /// Run `n` items, split over up to `workers_per_env` workers.
    fn run(
        &self,
        n: usize,
        build: &(dyn Fn(Range<usize>) -> Map<String, Value> + Sync),
        call: &(dyn Fn(usize) -> String + Sync),
    ) -> Batch<Value> {
        let chunks = n
            .div_ceil(MIN_CHUNK)
            .clamp(1, self.runtime.config().workers_per_env());
        if chunks <= 1 {
            return self.run_chunk(0..n, build, call, false);
        }
        let size = n.div_ceil(chunks);
        let ranges: Vec<Range<usize>> = (0..chunks)
            .map(|c| c * size..((c + 1) * size).min(n))
            .filter(|r| !r.is_empty())
            .collect();
        let parts: Vec<Batch<Value>> = std::thread::scope(|s| {
            let handles: Vec<_> = ranges[1..]
                .iter()
                .map(|r| {
                    let r = r.clone();
                    s.spawn(move || self.run_chunk(r, build, call, false))
                })
                .collect();
            let mut parts = vec![self.run_chunk(ranges[0].clone(), build, call, false)];
            for (h, r) in handles.into_iter().zip(&ranges[1..]) {
                parts.push(h.join().unwrap_or_else(|_| {
                    Batch {
                        results: r
                            .clone()
                            .map(|k| {
                                Err(Error::Protocol {
                                    call: call(k),
                                    detail: "batch thread panicked".into(),
                                })
                            })
                            .collect(),
                        stdout: String::new(),
                        stderr: String::new(),
                    }
                }));
            }
            parts
        });
        let mut all = Batch {
            results: Vec::with_capacity(n),
            stdout: String::new(),
            stderr: String::new(),
        };
        for p in parts {
            all.results.extend(p.results);
            all.stdout.push_str(&p.stdout);
            all.stderr.push_str(&p.stderr);
        }
        all
    }

    /// Run items `range` on one worker at a time, replacing the worker after a
    /// fault and attributing the fault to the item in flight.
    fn run_chunk(
        &self,
        range: Range<usize>,
        build: &(dyn Fn(Range<usize>) -> Map<String, Value> + Sync),
        call: &(dyn Fn(usize) -> String + Sync),
        mut fresh: bool,
    ) -> Batch<Value> {
        let mut out = Batch {
            results: Vec::with_capacity(range.len()),
            stdout: String::new(),
            stderr: String::new(),
        };
        // Nothing to run: no sandbox to start, and one result per item (none).
        if range.is_empty() {
            return out;
        }
        let inner = match self.inner() {
            Ok(i) => i,
            Err(e) => {
                let reason = format!("{e}");
                fail_from(&mut out.results, e, reason, range, call);
                return out;
            }
        };
        let limits = &inner.config.limits;
        let mut next = range.start;
        let mut faults = 0;
        // The harness buffers results for up to ~10 ms, so after a fault the
        // item in flight is known only when one item was outstanding. After
        // an ambiguous fault the rest of the chunk runs with one frame per
        // item, which makes the next fault precise.
        let mut precise = false;
        while next < range.end {
            let started = inner
                .checkout(&self.module, std::mem::take(&mut fresh))
                .and_then(|(w, meta)| match meta.map(|m| self.check_loaded(&m)) {
                    Some(Err(e)) => {
                        let mut w = w;
                        w.broken = true;
                        inner.checkin(w);
                        Err(e)
                    }
                    _ => Ok(w),
                });
            let mut w: Worker = match started {
                Ok(w) => w,
                Err(e) => {
                    let reason = format!("no worker could be started: {e}");
                    fail_from(&mut out.results, e, reason, next..range.end, call);
                    break;
                }
            };
            let mut request = build(next..range.end);
            if precise {
                request.insert("flush_each".into(), Value::Bool(true));
            }
            let outcome = w.call(
                request,
                range.end - next,
                limits.call_timeout,
                limits.max_frame_bytes,
            );
            cap_push(&mut out.stdout, &outcome.out, limits.output_chars);
            cap_push(&mut out.stderr, &outcome.err, limits.output_chars);
            for (k, v) in (next..).zip(outcome.items) {
                let r = self.item(v, call(k));
                if let Err(e) = &r
                    && e.is_fault()
                {
                    w.broken = true;
                }
                out.results.push(r);
            }
            next = range.start + out.results.len();
            inner.checkin(w);
            let Some(f) = outcome.fault else { continue };
            if next >= range.end {
                continue;
            }
            if !precise && range.end - next > 1 {
                precise = true;
                continue;
            }
            out.results.push(Err(f.into_error(call(next))));
            next += 1;
            faults += 1;
            if faults >= MAX_FAULTS_PER_BATCH && next < range.end {
                let reason = format!("{faults} earlier items of this batch crashed or timed out");
                out.results.extend((next..range.end).map(|k| {
                    Err(Error::Skipped {
                        call: call(k),
                        reason: reason.clone(),
                        infra: false,
                    })
                }));
                break;
            }
        }
        out
    }

    /// One result item: a value, or the harness's error record.
    fn item(&self, v: Value, call: String) -> Result<Value> {
        let Some(err) = v.get("error").filter(|_| v.is_object()) else {
            return Ok(v);
        };
        let s = |k: &str| err[k].as_str().unwrap_or("").to_string();
        let call = match err["func"].as_str() {
            Some("solve") if !call.starts_with("solve") => format!("solve() during {call}"),
            _ => call,
        };
        let exception = PyException {
            type_name: s("type"),
            message: s("message"),
            traceback: s("traceback"),
        };
        Err(match err["kind"].as_str() {
            Some("memory") => Error::Memory {
                call,
                limit_bytes: self.runtime.config().limits.memory_bytes,
                exception,
            },
            Some("forbidden") => Error::Forbidden { call, exception },
            Some("exit") => Error::Crash {
                call,
                status: exception.message,
            },
            Some("bad_return") => Error::BadReturn {
                call,
                message: exception.message,
            },
            _ => Error::Exception { call, exception },
        })
    }
}

fn cap_push(dst: &mut String, src: &str, cap: usize) {
    if dst.len() < cap {
        let mut end = (cap - dst.len()).min(src.len());
        while !src.is_char_boundary(end) {
            end -= 1;
        }
        dst.push_str(&src[..end]);
    }
}

fn op(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn gen_call(seed: u64, d: u8) -> String {
    format!("generate(seed={seed}, difficulty={d})")
}

/// The module's own prompt: the stored prompt minus the appended instruction.
fn module_prompt(prompt: &str) -> &str {
    prompt
        .strip_suffix(ANSWER_INSTRUCTION)
        .map_or(prompt, |p| p.strip_suffix("\n\n").unwrap_or(p))
}

fn parse_meta(file: &str, v: &Value) -> Result<(EnvMeta, bool)> {
    let api = |message: String| Error::Load {
        file: file.into(),
        kind: LoadErrorKind::Api,
        message,
        traceback: String::new(),
    };
    let name = v["name"].as_str().unwrap_or("");
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(api(format!(
            "NAME {name:?} must be 1-64 characters of a-z, 0-9 and _, starting with a letter"
        )));
    }
    let category: Category = v["category"]
        .as_str()
        .unwrap_or("")
        .parse()
        .map_err(|e| api(format!("CATEGORY: {e}")))?;
    let version = v["version"]
        .as_u64()
        .and_then(|x| u32::try_from(x).ok())
        .filter(|&x| x >= 1)
        .ok_or_else(|| api("VERSION must be an int from 1 to 2**32-1".into()))?;
    Ok((
        EnvMeta {
            id: name.to_string(),
            version,
            category,
            description: v["description"].as_str().unwrap_or("").to_string(),
            min_difficulty: resyn_core::MIN_DIFFICULTY,
            max_difficulty: resyn_core::MAX_DIFFICULTY,
            source: Source::Python,
            calibrated: None,
        },
        v["has_solve"].as_bool().unwrap_or(false),
    ))
}

/// The results of `items` when none can run: `e` for the first, and for the
/// rest [`Error::Skipped`] with `reason` (a runtime failure when `e` is one).
fn fail_from(
    results: &mut Vec<Result<Value>>,
    e: Error,
    reason: String,
    items: Range<usize>,
    call: &(dyn Fn(usize) -> String + Sync),
) {
    let infra = e.is_infra();
    results.push(Err(e));
    results.extend(items.skip(1).map(|k| {
        Err(Error::Skipped {
            call: call(k),
            reason: reason.clone(),
            infra,
        })
    }));
}

/// The verdict for a failed call: [`ReasonCode::Unavailable`] when the
/// runtime failed (the module never ran: no reward can be given, and scorers
/// raise it), else [`ReasonCode::EnvError`].
fn env_error(e: &Error) -> Verdict {
    let mut text = e.to_string();
    if text.len() > DETAIL_CAP {
        let mut cut = DETAIL_CAP;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" [...]");
    }
    let reason = if e.is_infra() {
        ReasonCode::Unavailable
    } else {
        ReasonCode::EnvError
    };
    Verdict::zero(reason, text)
}

fn to_verdict(r: Result<std::result::Result<f64, Verdict>>) -> Verdict {
    match r {
        Ok(Ok(reward)) => {
            let detail = if reward == 1.0 {
                String::new()
            } else if reward == 0.0 {
                "rejected by the environment's verify()".to_string()
            } else {
                format!("partial credit {reward} from verify()")
            };
            Verdict::from_reward(reward, detail)
        }
        Ok(Err(v)) => v,
        Err(e) => env_error(&e),
    }
}

impl Environment for PythonEnv {
    fn meta(&self) -> &EnvMeta {
        &self.meta
    }

    fn generate(&self, seed: u64, difficulty: u8) -> resyn_core::Result<Instance> {
        self.generate_batch(&[(seed, difficulty)])
            .pop()
            .unwrap_or_else(|| Err(resyn_core::Error::Backend("empty batch".into())))
    }

    fn verify(&self, instance: &Instance, response: &str) -> Verdict {
        self.verify_batch(&[(instance, response)])
            .pop()
            .unwrap_or_else(|| Verdict::zero(ReasonCode::EnvError, "empty batch"))
    }

    fn generate_batch(&self, requests: &[(u64, u8)]) -> Vec<resyn_core::Result<Instance>> {
        self.try_generate_batch(requests, false)
            .results
            .into_iter()
            .zip(requests)
            .map(|(r, &(seed, difficulty))| {
                self.check_difficulty(difficulty)?;
                r.map(|g| g.instance).map_err(|e| {
                    if e.is_infra() {
                        resyn_core::Error::Unavailable {
                            env: self.meta.id.clone(),
                            source: Box::new(e),
                        }
                    } else {
                        resyn_core::Error::Generation {
                            env: self.meta.id.clone(),
                            seed,
                            difficulty,
                            source: Box::new(e),
                        }
                    }
                })
            })
            .collect()
    }

    fn verify_batch(&self, items: &[(&Instance, &str)]) -> Vec<Verdict> {
        self.try_verify_batch(items)
            .results
            .into_iter()
            .map(to_verdict)
            .collect()
    }

    /// Start this module's worker in the background (and the sandbox, if it
    /// has not started), unless one is idle or the pool is full.
    fn warm_up(&self) {
        let env = self.clone();
        let run = move || {
            let Ok(inner) = env.inner() else { return };
            let inner = Arc::clone(inner);
            let module = Arc::clone(&env.module);
            inner.warm_up(&module, move |meta| env.check_loaded(meta).is_ok());
        };
        // Starting the sandbox itself takes a while: not on the caller's thread.
        if self.runtime.started().is_some() {
            run();
        } else {
            let _ = std::thread::Builder::new()
                .name("resyn-sandbox-start".into())
                .spawn(run);
        }
    }
}

/// The environment modules of `dir`: each `*.py` file whose name does not
/// start with `_` (helpers, `__init__.py`), in file-name order.
///
/// # Errors
/// When the directory cannot be read.
pub fn env_files(dir: impl AsRef<Path>) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "py")
                && p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('_'))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Open every environment module in `dir` ([`env_files`]) with
/// [`PythonEnv::open`] on an already started sandbox. Ids are the modules'
/// `NAME`s; a duplicate `NAME` is reported as an error for the later file.
pub fn load_dir(dir: impl AsRef<Path>, sandbox: &Sandbox) -> Vec<Result<PythonEnv>> {
    open_dir(dir, &LazySandbox::from(sandbox.clone()))
}

/// Open every environment module in `dir` ([`env_files`]) with
/// [`PythonEnv::open`]: no sandbox starts unless a module's metadata cannot
/// be read from its source. Ids are the modules' `NAME`s; a duplicate `NAME`
/// is reported as an error for the later file.
pub fn open_dir(dir: impl AsRef<Path>, sandbox: &LazySandbox) -> Vec<Result<PythonEnv>> {
    let dir = dir.as_ref();
    let files = match env_files(dir) {
        Ok(f) => f,
        Err(e) => {
            return vec![Err(Error::io(
                format!("reading environment directory {}", dir.display()),
                e,
            ))];
        }
    };
    let mut seen: std::collections::BTreeMap<String, std::path::PathBuf> =
        std::collections::BTreeMap::new();
    files
        .into_iter()
        .map(|p| {
            let env = PythonEnv::open(&p, sandbox)?;
            if let Some(first) = seen.get(&env.meta.id) {
                return Err(Error::Load {
                    file: p.display().to_string(),
                    kind: LoadErrorKind::Api,
                    message: format!(
                        "NAME `{}` is already used by {}",
                        env.meta.id,
                        first.display()
                    ),
                    traceback: String::new(),
                });
            }
            seen.insert(env.meta.id.clone(), p.clone());
            Ok(env)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use resyn_core::ReasonCode;

    use super::{Error, env_error};

    #[test]
    fn runtime_failures_are_unavailable_the_modules_own_are_env_errors() {
        let unavailable = [
            Error::io(
                "forking a sandbox worker",
                std::io::Error::from_raw_os_error(libc::EAGAIN),
            ),
            Error::Python("cannot run `python3`".into()),
            Error::Sandbox(std::sync::Arc::new(Error::Python("none".into()))),
            Error::Skipped {
                call: "verify".into(),
                reason: "no worker could be started".into(),
                infra: true,
            },
        ];
        for e in &unavailable {
            let v = env_error(e);
            assert_eq!((v.reason, v.reward), (ReasonCode::Unavailable, 0.0), "{e}");
        }
        let modules_own = [
            Error::Timeout {
                call: "verify".into(),
                limit: Duration::from_secs(1),
            },
            Error::Crash {
                call: "verify".into(),
                status: "SIGSEGV".into(),
            },
            Error::Skipped {
                call: "verify".into(),
                reason: "3 earlier items crashed".into(),
                infra: false,
            },
        ];
        for e in &modules_own {
            assert_eq!(env_error(e).reason, ReasonCode::EnvError, "{e}");
        }
    }
}
