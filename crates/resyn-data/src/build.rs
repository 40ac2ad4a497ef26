//! The build: select environments, generate and validate instances in
//! parallel, deduplicate, assign splits, stream rows to the writers,
//! write the manifest and publish the directory atomically.
//!
//! Invariants:
//! - **Validated**: a row is written only for an instance whose reference
//!   response verifies to 1.0 with its environment (and, in code mode,
//!   whose reference answer matches itself canonically). An environment
//!   with any failing reference or generation error is excluded whole,
//!   with the reason in the manifest.
//! - **Deterministic**: workers run in parallel but results are consumed
//!   in request order; dedup, split assignment and writing are sequential.
//! - **Bounded memory**: rows flow in chunks through a bounded channel;
//!   the only state that grows with the dataset is the dedup set (8 bytes
//!   per row) and one environment's plan (1 byte per instance).
//! - **Exclusion without rewriting**: an environment's rows are held back
//!   until it finishes or `hold_back` rows pile up. An environment that
//!   fails after its rows were released (only possible for environments
//!   larger than `hold_back`) restarts the build from scratch without it;
//!   the output is the same as if it had been excluded up front.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use resyn_core::ground_truth::{code_json, code_verdict, llm_answer_json, verifier_json};
use resyn_core::{Environment, Instance, Registry, probes::reference_answer, wrap_answer};

use crate::hashing::normalized_prompt_hash;
use crate::lookahead::{Job, Lookahead, StopGuard};
use crate::manifest::{
    EnvSummary, Excluded, LlmAnswerSummary, MANIFEST_FORMAT, SplitSummary, Totals,
};
use crate::plan;
use crate::row::{Batch, EnvInfo, Placed, Row, RowContext, user_message};
use crate::split::Splitter;
use crate::staging::{self, Staging};
use crate::writer::WriterThread;
use crate::{DatasetConfig, Error, Manifest, Result, RewardMode, Split};

/// One row the `llm_answer` reward mode needs an answer for: the chat the
/// trainer's policy will see.
#[derive(Debug, Clone, Copy)]
pub struct AnswerRequest<'a> {
    /// Instance id.
    pub instance_id: &'a str,
    /// The system message, if the template has one.
    pub system: Option<&'a str>,
    /// The user message.
    pub user: &'a str,
}

/// Where `reward = "llm_answer"` gets its answers (the `resyn` CLI asks
/// the `[llm_answer]` endpoint, with a cache). Called from the building
/// thread with up to a few thousand rows at a time, so an implementation
/// should answer them concurrently.
pub trait AnswerSource: Sync {
    /// One entry per request, in order: the bare answer the LLM gave
    /// (extracted like a model response), or `None` when its reply had none.
    ///
    /// # Errors
    /// Why answers cannot be obtained (the build fails with it as the
    /// source of [`Error::Answers`]); a plain message converts with `.into()`.
    fn answers(
        &self,
        requests: &[AnswerRequest<'_>],
    ) -> std::result::Result<Vec<Option<String>>, resyn_core::BoxError>;
}

/// Receives progress from a build (all methods default to doing nothing).
/// Called from the building thread only.
pub trait Progress {
    /// The build now plans `total` instances (refills and restarts change it).
    fn set_total(&self, _total: u64) {}
    /// `n` more instances were generated and checked.
    fn advance(&self, _n: u64) {}
    /// Work moved on to environment `id`.
    fn environment(&self, _id: &str) {}
    /// The build starts over (position back to 0) because of `reason`.
    fn restart(&self, _reason: &str) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What [`DatasetBuilder::build`] returns.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BuildReport {
    /// The manifest written to `manifest.json`.
    pub manifest: Manifest,
    /// The published dataset directory.
    pub out_dir: PathBuf,
    /// Wall-clock time of the build.
    pub elapsed: Duration,
    /// Times the build started over (see the module docs).
    pub restarts: u32,
}

/// Builds a dataset from a config and a registry.
///
/// ```no_run
/// # fn main() -> Result<(), resyn_data::Error> {
/// let registry = resyn_core::Registry::new(); // e.g. resyn_envs::registry()
/// let report = resyn_data::DatasetBuilder::new(resyn_data::DatasetConfig::default(), &registry)
///     .threads(2)
///     .build()?;
/// println!("{} rows in {}", report.manifest.totals.instances, report.out_dir.display());
/// # Ok(()) }
/// ```
pub struct DatasetBuilder<'a> {
    config: DatasetConfig,
    registry: &'a Registry,
    progress: &'a dyn Progress,
    threads: usize,
    hold_back: usize,
    chunk: usize,
    answers: Option<&'a dyn AnswerSource>,
}

impl std::fmt::Debug for DatasetBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetBuilder")
            .field("config", &self.config)
            .field("registry", self.registry)
            .field("threads", &self.threads)
            .field("hold_back", &self.hold_back)
            .field("chunk", &self.chunk)
            .field("answers", &self.answers.is_some())
            .finish()
    }
}

/// Instances one worker generates per `generate_batch` call.
const SUB_BATCH: usize = 64;

impl<'a> DatasetBuilder<'a> {
    /// A builder for `config` over the environments of `registry`.
    pub fn new(config: DatasetConfig, registry: &'a Registry) -> Self {
        Self {
            config,
            registry,
            progress: &NoProgress,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            hold_back: 4096,
            chunk: 4096,
            answers: None,
        }
    }

    /// The answers of `reward = "llm_answer"` (required in that mode). Only
    /// rows that make it into the dataset are asked for, once each.
    pub fn answers(mut self, source: &'a dyn AnswerSource) -> Self {
        self.answers = Some(source);
        self
    }

    /// Report progress to `p`.
    pub fn progress(mut self, p: &'a dyn Progress) -> Self {
        self.progress = p;
        self
    }

    /// Worker threads (default: all cores). The output does not depend on it.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// Rows of one environment held back before any is written (default
    /// 4096). An environment that fails after this many rows restarts
    /// the build (see the module docs); the output does not depend on it.
    pub fn hold_back(mut self, rows: usize) -> Self {
        self.hold_back = rows.max(1);
        self
    }

    /// Instances generated per parallel step (default 4096).
    pub fn chunk(mut self, n: usize) -> Self {
        self.chunk = n.max(1);
        self
    }

    /// Build the dataset into `config.output.dir`, replacing it atomically.
    ///
    /// # Errors
    /// Config errors (naming the field), [`Error::Answers`] when
    /// `reward = "llm_answer"` has no answer source or it fails,
    /// [`Error::NoEnvironments`],
    /// [`Error::Empty`] when no row survives, [`Error::RefuseOverwrite`]
    /// and I/O errors. On any error the previous output is left intact.
    pub fn build(self) -> Result<BuildReport> {
        let start = Instant::now();
        self.config.validate()?;
        if self.config.reward == RewardMode::LlmAnswer && self.answers.is_none() {
            return Err(Error::Answers(
                "no answer source (DatasetBuilder::answers) for reward = \"llm_answer\"".into(),
            ));
        }
        let weights = self.config.difficulty.weights()?;
        let candidates = plan::select(&self.config, self.registry)?;
        let target = self.config.output.dir.clone();
        staging::check_replaceable(&target)?;
        let mut forced: Vec<Excluded> = Vec::new();
        let mut restarts = 0;
        loop {
            let staging = Staging::create(&target)?;
            match self.attempt(staging.path(), &candidates, &weights, &forced)? {
                Outcome::Done(manifest) => {
                    staging.publish()?;
                    return Ok(BuildReport {
                        manifest: *manifest,
                        out_dir: target,
                        elapsed: start.elapsed(),
                        restarts,
                    });
                }
                Outcome::Restart(ex) => {
                    self.progress.restart(&format!("{}: {}", ex.id, ex.reason));
                    forced.push(ex);
                    restarts += 1;
                }
            }
        }
    }

    fn attempt(
        &self,
        dir: &Path,
        candidates: &[Arc<dyn Environment>],
        weights: &[(u8, f64)],
        forced: &[Excluded],
    ) -> Result<Outcome> {
        let cfg = &self.config;
        let ctx = RowContext::new(cfg);
        let mut writer =
            WriterThread::spawn(dir, &cfg.output.formats, cfg.output.row_group_size, ctx)?;
        let slots = cfg
            .max_environments
            .map_or(candidates.len(), |k| k.min(candidates.len()));
        let mut st = State {
            dedup: HashSet::default(),
            splitter: Splitter::new(cfg.split.as_array()),
            splits: Split::ALL
                .iter()
                .map(|&s| (s, SplitSummary::default()))
                .collect(),
            envs: Vec::new(),
            excluded: Vec::new(),
            planned: (0..slots).map(|s| plan::quota(cfg, s, slots)).sum(),
            llm: cfg.llm_answer.as_ref().and_then(|l| {
                (cfg.reward == RewardMode::LlmAnswer).then(|| LlmAnswerSummary {
                    model: l.model.clone(),
                    ..LlmAnswerSummary::default()
                })
            }),
        };
        self.progress.set_total(st.planned);
        let ahead = Lookahead::new(
            self.lookahead_jobs(candidates, weights, forced, slots),
            self.threads * 2,
        );
        let restart = std::thread::scope(|scope| -> Result<Option<Excluded>> {
            // Ends the look-ahead threads on every way out of this closure.
            let _stop = StopGuard(&ahead);
            if ahead.has_jobs() {
                for _ in 0..self.threads {
                    scope.spawn(|| {
                        ahead.run(|job| {
                            // The sub-batches the build itself would make.
                            crate::parallel::map_chunks(&job.requests, SUB_BATCH, 1, |sub| {
                                prepare(job.env.as_ref(), sub, cfg)
                            })
                        })
                    });
                }
            }
            for (k, env) in candidates.iter().enumerate() {
                if st.envs.len() >= slots {
                    break;
                }
                // While this environment generates, the next one gets ready
                // (a sandboxed environment starts its worker on another
                // core), unless the look-ahead is already on it.
                if let Some(next) = candidates.get(k + 1)
                    && !ahead.covers(k + 1)
                {
                    next.warm_up();
                }
                let m = env.meta();
                if let Some(f) = forced.iter().find(|f| f.id == m.id) {
                    st.excluded.push(f.clone());
                    continue;
                }
                if let Some(reason) = plan::left_out(cfg, env.as_ref()) {
                    st.excluded
                        .push(excluded(env.as_ref(), reason, &EnvStats::default()));
                    continue;
                }
                let levels = match plan::levels_for(weights, env.as_ref()) {
                    Ok(l) => l,
                    Err(reason) => {
                        st.excluded
                            .push(excluded(env.as_ref(), reason, &EnvStats::default()));
                        continue;
                    }
                };
                let n = plan::quota(cfg, st.envs.len(), slots);
                let requests = plan::requests(cfg.seed, &m.id, &levels, n);
                let ready = ahead.take(k, &requests);
                self.progress.environment(&m.id);
                match self.run_env(env, requests, ready, n, &mut st, &mut writer)? {
                    EnvOutcome::Included(s) => st.envs.push(s),
                    EnvOutcome::Excluded(x) => st.excluded.push(x),
                    EnvOutcome::Restart(x) => return Ok(Some(x)),
                }
            }
            Ok(None)
        })?;
        if let Some(x) = restart {
            return Ok(Outcome::Restart(x));
        }
        let rows: u64 = st.envs.iter().map(|e| e.rows).sum();
        if rows == 0 {
            let why: Vec<String> = st
                .excluded
                .iter()
                .map(|x| format!("{}: {}", x.id, x.reason))
                .collect();
            return Err(Error::Empty(if why.is_empty() {
                "no instance was requested".to_string()
            } else {
                format!("every environment was excluded ({})", why.join("; "))
            }));
        }
        let files = writer.finish()?;
        let manifest = self.manifest(st, files);
        let path = dir.join("manifest.json");
        std::fs::write(&path, manifest.to_json_pretty()).map_err(|e| Error::io(&path, e))?;
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&path, e))?;
        Ok(Outcome::Done(Box::new(manifest)))
    }

    /// Generate, check and write one environment's `n` instances: the
    /// first round's `requests` (with `ready`, their prepared results from
    /// the look-ahead), then refills for duplicates.
    fn run_env(
        &self,
        env: &Arc<dyn Environment>,
        mut requests: Vec<(u64, u8)>,
        mut ready: Option<Vec<Prepared>>,
        n: u64,
        st: &mut State,
        writer: &mut WriterThread,
    ) -> Result<EnvOutcome> {
        let cfg = &self.config;
        let m = env.meta();
        let info = Arc::new(EnvInfo::new(m));
        // Refills continue the seed sequence of the first round.
        let base = plan::seed_base(cfg.seed);
        let mut next_k = requests.len() as u64;
        let mut seeds = |d: u8| {
            let s = base + next_k;
            next_k += 1;
            (s, d)
        };
        let mut s = EnvStats::default();
        let mut pending: Vec<Row> = Vec::new();
        let mut released = false;
        let mut inserted: Vec<u64> = Vec::new();
        for round in 0..=cfg.refill_rounds {
            if requests.is_empty() {
                break;
            }
            if round > 0 {
                st.planned += requests.len() as u64;
                self.progress.set_total(st.planned);
            }
            let mut missing: BTreeMap<u8, u64> = BTreeMap::new();
            for chunk in requests.chunks(self.chunk) {
                // The look-ahead prepares first rounds of one chunk only,
                // and `ready` is for exactly these requests.
                let prepared = match ready.take() {
                    Some(p) => p,
                    None => crate::parallel::map_chunks(chunk, SUB_BATCH, self.threads, |sub| {
                        prepare(env.as_ref(), sub, cfg)
                    }),
                };
                s.generated += chunk.len() as u64;
                for p in prepared {
                    match p {
                        Prepared::Unavailable(e) => return Err(Error::Unavailable(e)),
                        Prepared::GenError(msg) => {
                            s.generation_errors += 1;
                            s.first_failure.get_or_insert(msg);
                        }
                        Prepared::RefFail(msg) => {
                            s.reference_failures += 1;
                            s.first_failure.get_or_insert(msg);
                        }
                        Prepared::Row(_) if s.failed() => {}
                        Prepared::Row(row) => {
                            if st.dedup.insert(row.hash) {
                                if !released {
                                    inserted.push(row.hash);
                                }
                                pending.push(row);
                            } else {
                                s.duplicates += 1;
                                *missing.entry(row.difficulty).or_default() += 1;
                            }
                        }
                    }
                }
                self.progress.advance(chunk.len() as u64);
                if !s.failed() && (released || pending.len() >= self.hold_back) {
                    self.label(env.as_ref(), &mut pending, st)?;
                    commit(&info, &mut pending, st, &mut s, writer)?;
                    released = true;
                    inserted = Vec::new();
                }
            }
            if s.failed() {
                break;
            }
            requests = missing
                .into_iter()
                .flat_map(|(d, c)| std::iter::repeat_n(d, c as usize))
                .map(&mut seeds)
                .collect();
        }
        if s.failed() {
            let reason = failure_reason(&s);
            let x = excluded(env.as_ref(), reason, &s);
            if released {
                return Ok(EnvOutcome::Restart(x));
            }
            for h in inserted {
                st.dedup.remove(&h);
            }
            return Ok(EnvOutcome::Excluded(x));
        }
        self.label(env.as_ref(), &mut pending, st)?;
        commit(&info, &mut pending, st, &mut s, writer)?;
        Ok(EnvOutcome::Included(EnvSummary {
            id: m.id.clone(),
            version: m.version,
            category: m.category,
            source: m.source,
            requested: n,
            generated: s.generated,
            rows: s.rows,
            duplicates_dropped: s.duplicates,
            by_difficulty: s.by_difficulty,
            by_split: s.by_split,
        }))
    }

    /// What the look-ahead prepares: for each candidate, its first round as
    /// the build will request it if every environment before it is included
    /// (quotas depend on the slot), when that round is a single chunk.
    fn lookahead_jobs<'e>(
        &self,
        candidates: &'e [Arc<dyn Environment>],
        weights: &[(u8, f64)],
        forced: &[Excluded],
        slots: usize,
    ) -> Vec<Option<Job<'e>>> {
        let mut slot = 0;
        candidates
            .iter()
            .map(|env| {
                let m = env.meta();
                if slot >= slots
                    || forced.iter().any(|f| f.id == m.id)
                    || plan::left_out(&self.config, env.as_ref()).is_some()
                {
                    return None;
                }
                let levels = plan::levels_for(weights, env.as_ref()).ok()?;
                let n = plan::quota(&self.config, slot, slots);
                slot += 1;
                let requests = plan::requests(self.config.seed, &m.id, &levels, n);
                (!requests.is_empty() && requests.len() <= self.chunk)
                    .then_some(Job { env, requests })
            })
            .collect()
    }

    /// `reward = "llm_answer"`: fill in the ground truth of `rows` with the
    /// LLM's answers, and count how many the verifier accepts.
    fn label(&self, env: &dyn Environment, rows: &mut [Row], st: &mut State) -> Result<()> {
        let (Some(source), Some(summary)) = (self.answers, st.llm.as_mut()) else {
            return Ok(());
        };
        if rows.is_empty() {
            return Ok(());
        }
        let system = &self.config.prompt.system;
        let system = (!system.is_empty()).then_some(system.as_str());
        let requests: Vec<AnswerRequest<'_>> = rows
            .iter()
            .map(|r| AnswerRequest {
                instance_id: &r.instance_id,
                system,
                user: &r.user,
            })
            .collect();
        let answers = source.answers(&requests).map_err(Error::Answers)?;
        if answers.len() != rows.len() {
            return Err(Error::Answers(
                format!(
                    "the answer source returned {} answers for {} rows",
                    answers.len(),
                    rows.len()
                )
                .into(),
            ));
        }
        let m = env.meta();
        // Label accuracy: the LLM's answer in tags, through the verifier.
        let checked: Vec<(Instance, String)> = rows
            .iter()
            .zip(&answers)
            .filter_map(|(r, a)| {
                let a = a.as_deref()?;
                let inst = Instance {
                    id: r.instance_id.clone(),
                    env: m.id.clone(),
                    env_version: m.version,
                    seed: r.seed,
                    difficulty: r.difficulty,
                    prompt: String::new(),
                    data: serde_json::from_str(&r.data).unwrap_or_default(),
                    reference: String::new(),
                };
                Some((inst, wrap_answer(a)))
            })
            .collect();
        let items: Vec<(&Instance, &str)> = checked.iter().map(|(i, r)| (i, r.as_str())).collect();
        let correct = env
            .verify_batch(&items)
            .iter()
            .filter(|v| v.correct)
            .count();
        summary.verified_correct += correct as u64;
        for (row, answer) in rows.iter_mut().zip(&answers) {
            match answer {
                Some(_) => summary.answered += 1,
                None => summary.unanswered += 1,
            }
            row.ground_truth = llm_answer_json(
                &row.instance_id,
                &m.id,
                m.version,
                &summary.model,
                answer.as_deref(),
            );
        }
        Ok(())
    }

    fn manifest(&self, st: State, files: Vec<crate::FileEntry>) -> Manifest {
        let totals = Totals {
            instances: st.envs.iter().map(|e| e.rows).sum(),
            requested: st.envs.iter().map(|e| e.requested).sum(),
            generated: st.envs.iter().map(|e| e.generated).sum(),
            duplicates_dropped: st.envs.iter().map(|e| e.duplicates_dropped).sum(),
            environments: st.envs.len() as u64,
            excluded_environments: st.excluded.len() as u64,
            reference_failures: st.excluded.iter().map(|x| x.reference_failures).sum(),
            generation_errors: st.excluded.iter().map(|x| x.generation_errors).sum(),
        };
        Manifest {
            format: MANIFEST_FORMAT.to_string(),
            resyn_version: env!("CARGO_PKG_VERSION").to_string(),
            config: self.config.clone(),
            totals,
            splits: st.splits,
            environments: st.envs,
            excluded: st.excluded,
            files,
            llm_answer: st.llm,
        }
    }
}

enum Outcome {
    Done(Box<Manifest>),
    Restart(Excluded),
}

enum EnvOutcome {
    Included(EnvSummary),
    Excluded(Excluded),
    Restart(Excluded),
}

/// Passes already-uniform 64-bit hashes through unchanged.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Build-wide sequential state.
struct State {
    dedup: HashSet<u64, BuildHasherDefault<IdentityHasher>>,
    splitter: Splitter,
    splits: BTreeMap<Split, SplitSummary>,
    envs: Vec<EnvSummary>,
    excluded: Vec<Excluded>,
    planned: u64,
    /// `reward = "llm_answer"` only.
    llm: Option<LlmAnswerSummary>,
}

/// Counters of the environment being built.
#[derive(Default)]
struct EnvStats {
    generated: u64,
    rows: u64,
    duplicates: u64,
    reference_failures: u64,
    generation_errors: u64,
    first_failure: Option<String>,
    by_difficulty: BTreeMap<u8, u64>,
    by_split: BTreeMap<Split, u64>,
}

impl EnvStats {
    fn failed(&self) -> bool {
        self.reference_failures + self.generation_errors > 0
    }
}

fn failure_reason(s: &EnvStats) -> String {
    let mut parts = Vec::new();
    if s.reference_failures > 0 {
        parts.push(format!(
            "{} of {} reference answers do not verify to 1.0",
            s.reference_failures, s.generated
        ));
    }
    if s.generation_errors > 0 {
        parts.push(format!(
            "{} of {} instances failed to generate",
            s.generation_errors, s.generated
        ));
    }
    format!(
        "{} (first: {})",
        parts.join("; "),
        s.first_failure.as_deref().unwrap_or("?")
    )
}

fn excluded(env: &dyn Environment, reason: String, s: &EnvStats) -> Excluded {
    let m = env.meta();
    Excluded {
        id: m.id.clone(),
        version: m.version,
        category: m.category,
        reason,
        reference_failures: s.reference_failures,
        generation_errors: s.generation_errors,
    }
}

/// Assign splits to the pending rows and send them to the writer.
fn commit(
    info: &Arc<EnvInfo>,
    pending: &mut Vec<Row>,
    st: &mut State,
    s: &mut EnvStats,
    writer: &mut WriterThread,
) -> Result<()> {
    while !pending.is_empty() {
        let n = pending.len().min(BATCH_ROWS);
        commit_batch(info, pending.drain(..n), st, s, writer)?;
    }
    Ok(())
}

/// Rows per batch sent to the writer; with the channel's capacity this
/// bounds the rows in flight.
const BATCH_ROWS: usize = 1024;

fn commit_batch(
    info: &Arc<EnvInfo>,
    rows: impl Iterator<Item = Row>,
    st: &mut State,
    s: &mut EnvStats,
    writer: &mut WriterThread,
) -> Result<()> {
    let rows = rows
        .map(|row| {
            let (split, index) = st.splitter.next();
            s.rows += 1;
            *s.by_split.entry(split).or_default() += 1;
            *s.by_difficulty.entry(row.difficulty).or_default() += 1;
            let sum = st.splits.entry(split).or_default();
            sum.rows += 1;
            *sum.by_category.entry(info.ability.clone()).or_default() += 1;
            *sum.by_difficulty.entry(row.difficulty).or_default() += 1;
            Placed { row, split, index }
        })
        .collect();
    writer.send(Batch {
        env: Arc::clone(info),
        rows,
    })
}

/// A worker's result for one request.
pub(crate) enum Prepared {
    Row(Row),
    GenError(String),
    RefFail(String),
    /// The environment cannot run on this machine: the build stops.
    Unavailable(resyn_core::Error),
}

/// Generate, validate and render one sub-batch of requests. Never panics:
/// a panicking environment yields generation errors.
fn prepare(env: &dyn Environment, sub: &[(u64, u8)], cfg: &DatasetConfig) -> Vec<Prepared> {
    let run = || -> Vec<Prepared> {
        let results = env.generate_batch(sub);
        let mut out: Vec<Option<Prepared>> = Vec::with_capacity(sub.len());
        let mut ok: Vec<Instance> = Vec::with_capacity(sub.len());
        for (&(seed, d), r) in sub.iter().zip(results) {
            let m = env.meta();
            match r {
                Err(e @ resyn_core::Error::Unavailable { .. }) => {
                    out.push(Some(Prepared::Unavailable(e)));
                }
                Err(e) => out.push(Some(Prepared::GenError(format!("seed {seed}, difficulty {d}: {e}")))),
                Ok(inst)
                    if inst.env != m.id
                        || inst.env_version != m.version
                        || inst.seed != seed
                        || inst.difficulty != d =>
                {
                    out.push(Some(Prepared::GenError(format!(
                        "asked for {} v{} seed {seed} difficulty {d}, got {} v{} seed {} difficulty {}",
                        m.id, m.version, inst.env, inst.env_version, inst.seed, inst.difficulty
                    ))))
                }
                Ok(inst) => {
                    out.push(None);
                    ok.push(inst);
                }
            }
        }
        if sub.len() != out.len() {
            let msg = format!(
                "generate_batch returned {} results for {} requests",
                out.len(),
                sub.len()
            );
            return sub
                .iter()
                .map(|_| Prepared::GenError(msg.clone()))
                .collect();
        }
        let items: Vec<(&Instance, &str)> = ok.iter().map(|i| (i, i.reference.as_str())).collect();
        let verdicts = env.verify_batch(&items);
        let mut rows = ok.into_iter().zip(verdicts).map(|(inst, v)| {
            if !v.correct {
                return Prepared::RefFail(format!(
                    "instance {} (seed {}, difficulty {}): {} {}",
                    inst.id, inst.seed, inst.difficulty, v.reason, v.detail
                ));
            }
            render(inst, cfg)
        });
        out.into_iter()
            .map(|o| {
                o.unwrap_or_else(|| {
                    rows.next().unwrap_or_else(|| {
                        Prepared::GenError("verify_batch returned too few verdicts".into())
                    })
                })
            })
            .collect()
    };
    match std::panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(v) => v,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic".into());
            sub.iter()
                .map(|&(seed, d)| {
                    Prepared::GenError(format!(
                        "seed {seed}, difficulty {d}: environment panicked: {msg}"
                    ))
                })
                .collect()
        }
    }
}

/// Turn a verified instance into row fields.
pub(crate) fn render(inst: Instance, cfg: &DatasetConfig) -> Prepared {
    // A `Value` always serializes.
    let data = serde_json::to_string(&inst.data).unwrap_or_default();
    let ground_truth = match cfg.reward {
        RewardMode::Code => {
            let answer = reference_answer(&inst);
            if answer.is_empty() {
                return Prepared::RefFail(format!(
                    "instance {}: the reference response has no extractable answer",
                    inst.id
                ));
            }
            if !code_verdict(answer, &inst.reference).correct {
                return Prepared::RefFail(format!(
                    "instance {}: the reference answer does not match itself under code-mode extraction",
                    inst.id
                ));
            }
            code_json(&inst, answer)
        }
        // Filled in with the LLM's answer when the row is committed
        // (`DatasetBuilder::label`), so only rows that survive dedup cost a call.
        RewardMode::LlmAnswer => String::new(),
        RewardMode::Verifier => verifier_json(&inst, &data),
    };
    let hash = normalized_prompt_hash(&inst.prompt);
    let user = user_message(&cfg.prompt, inst.prompt);
    Prepared::Row(Row {
        hash,
        instance_id: inst.id,
        seed: inst.seed,
        difficulty: inst.difficulty,
        user,
        ground_truth,
        data,
    })
}
