//! The orchestrator: keywords → proposals → candidates, each candidate taken
//! through implementation, validation, review, cross-verification,
//! calibration, dedup, decontamination and storage, with repair rounds.
//!
//! Invariants:
//! - at most `concurrency` tasks (proposal or candidate) run at once; LLM
//!   requests are bounded by the same number (the client's semaphore);
//! - every stage outcome is stored before the next stage starts, together
//!   with the candidate's checkpoint, so a resumed run continues each
//!   candidate where it stopped; LLM replies already received are replayed
//!   from the store, so an interruption loses at most the calls in flight;
//! - acceptance is serialized: the store's unique keys and the target check
//!   run under one lock, so a run never exceeds its target nor stores an
//!   environment twice.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use resyn_core::{Environment, Instance};
use resyn_llm::{Client, RetryPolicy};
use resyn_sandbox::PythonEnv;
use resyn_store::{
    Accepted, Candidate, CandidateStatus, Checkpoint, KeywordRow, NewCandidate, NewEnvironment,
    StageEvent, Store, Summary,
};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::calibrate::{self, Calibration, Level};
use crate::dedup::{Contamination, Fingerprint, find_duplicate};
use crate::extract::{ExtractError, extract_code, extract_verifier};
use crate::llm::Llm;
use crate::validate::{InfraError, Validated, ValidationReport, Validator};
use crate::{Error, Result, SynthConfig, prompts, review};
use resyn_core::conformance::norm;

/// Progress events, for progress bars and logs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A keyword's proposals are in.
    Proposed {
        /// The keyword.
        keyword: String,
        /// Candidates created.
        candidates: usize,
    },
    /// A keyword's proposal call failed or could not be parsed.
    ProposalFailed {
        /// The keyword.
        keyword: String,
        /// Why.
        reason: String,
    },
    /// A candidate passed or failed a stage.
    Stage {
        /// Candidate id.
        candidate: i64,
        /// Stage name.
        stage: String,
        /// Passed?
        passed: bool,
        /// Reason code.
        reason: String,
    },
    /// A candidate was stored as an environment.
    Accepted {
        /// Candidate id.
        candidate: i64,
        /// Environment `NAME`.
        name: String,
    },
    /// A candidate was rejected for good.
    Rejected {
        /// Candidate id.
        candidate: i64,
        /// Stage.
        stage: String,
        /// Reason code.
        reason: String,
    },
}

/// Receives [`Event`]s (from several tasks at once).
pub trait Observer: Send + Sync {
    /// Called for every event.
    fn event(&self, e: &Event);
}

/// Ignores events.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Observer for Quiet {
    fn event(&self, _: &Event) {}
}

/// A seed environment: few-shot example and reserved name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// `NAME`.
    pub name: String,
    /// `CATEGORY`.
    pub category: String,
    /// `DESCRIPTION`.
    pub description: String,
    /// Source.
    pub code: String,
}

/// Read seed environments from a directory without running them (the
/// top-level string constants are read textually).
pub fn load_examples(dir: &std::path::Path) -> Vec<Example> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "py")
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('_'))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let code = std::fs::read_to_string(&p).ok()?;
            let name = const_str(&code, "NAME").unwrap_or_else(|| {
                p.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            Some(Example {
                category: const_str(&code, "CATEGORY").unwrap_or_default(),
                description: const_str(&code, "DESCRIPTION").unwrap_or_default(),
                name,
                code,
            })
        })
        .collect()
}

/// A top-level `KEY = "..."` (or parenthesized implicit concatenation).
fn const_str(code: &str, key: &str) -> Option<String> {
    let start = code.lines().position(|l| {
        l.strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='))
    })?;
    let mut text = String::new();
    for l in code.lines().skip(start) {
        text.push_str(l);
        text.push('\n');
        let opened = text.matches('(').count();
        let closed = text.matches(')').count();
        if opened <= closed {
            break;
        }
    }
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(['"', '\'']) {
        let q = &rest[i..=i];
        let body = &rest[i + 1..];
        let end = body.find(q)?;
        out.push_str(&body[..end]);
        rest = &body[end + 1..];
    }
    (!out.is_empty()).then_some(out)
}

/// What happened to a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Accepted,
    Rejected,
    Skipped,
}

/// A failure a candidate may be repaired from.
#[derive(Debug, Clone)]
struct Fail {
    stage: &'static str,
    reason: String,
    detail: String,
    repairable: bool,
}

impl Fail {
    fn repair(stage: &'static str, reason: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            stage,
            reason: reason.into(),
            detail: detail.into(),
            repairable: true,
        }
    }

    fn reject(stage: &'static str, reason: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            repairable: false,
            ..Self::repair(stage, reason, detail)
        }
    }
}

enum TaskResult {
    Proposal,
    Candidate,
}

/// A synthesis run.
pub struct Pipeline {
    cfg: SynthConfig,
    store: Arc<Store>,
    run: i64,
    llm: Llm,
    solver: Option<Llm>,
    validator: Validator,
    examples: Vec<Example>,
    reserved: HashSet<String>,
    existing: Mutex<Vec<(String, Fingerprint)>>,
    contamination: Contamination,
    observer: Arc<dyn Observer>,
    accept_lock: Mutex<u64>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

fn client(base: &str, key_env: Option<&str>, cfg: &SynthConfig) -> Result<Client> {
    let mut b = Client::builder(base)
        .max_concurrency(cfg.concurrency.max(1))
        .timeout(Duration::from_secs(cfg.request_timeout_s.max(1)))
        .retry(RetryPolicy {
            max_retries: cfg.max_retries,
            base_delay: Duration::from_millis(cfg.retry_base_ms),
            ..RetryPolicy::default()
        });
    if let Some(k) = key_env {
        b = b.api_key_env(k);
    }
    b.build().map_err(Error::Llm)
}

/// Start a new run: store its configuration and keywords; returns the run id.
///
/// # Errors
/// Store errors.
pub fn create_run(
    store: &Store,
    cfg: &SynthConfig,
    keywords: &[crate::keywords::Keyword],
) -> Result<i64> {
    let run =
        store.create_run(&serde_json::to_value(cfg).map_err(|e| Error::Config(e.to_string()))?)?;
    let kws: Vec<(String, String)> = keywords
        .iter()
        .map(|k| (k.keyword.clone(), k.category.as_str().to_string()))
        .collect();
    store.add_keywords(run, &kws)?;
    Ok(run)
}

impl Pipeline {
    /// Prepare run `run` (created with [`create_run`], or being resumed).
    /// `reserved` are environment names already taken outside the store
    /// (native environments).
    ///
    /// # Errors
    /// Unknown run, unusable configuration (endpoint, key variable,
    /// benchmark files).
    pub fn new(
        store: Arc<Store>,
        run: i64,
        validator: Validator,
        reserved: impl IntoIterator<Item = String>,
        observer: Arc<dyn Observer>,
    ) -> Result<Self> {
        let r = store.run(run)?;
        let cfg: SynthConfig = serde_json::from_value(r.config)
            .map_err(|e| Error::Config(format!("run {run} configuration: {e}")))?;
        let llm = Llm::new(
            client(&cfg.base_url, cfg.api_key_env.as_deref(), &cfg)?,
            cfg.model.clone(),
            store.clone(),
            run,
        )
        .temperature(cfg.temperature)
        .max_tokens(cfg.max_tokens);
        let solver = match (&cfg.solver_base_url, &cfg.solver_model) {
            (Some(b), Some(m)) => Some(
                Llm::new(
                    client(b, cfg.solver_api_key_env.as_deref(), &cfg)?,
                    m.clone(),
                    store.clone(),
                    run,
                )
                .temperature(Some(0.7))
                .max_tokens(cfg.solver_max_tokens),
            ),
            (None, None) => None,
            _ => {
                return Err(Error::Config(
                    "--solver-base-url and --solver-model go together".into(),
                ));
            }
        };
        let examples = cfg
            .examples_dir
            .as_deref()
            .map(load_examples)
            .unwrap_or_default();
        let mut reserved: HashSet<String> = reserved.into_iter().collect();
        reserved.extend(examples.iter().map(|e| e.name.clone()));
        let mut existing: Vec<(String, Fingerprint)> = Vec::new();
        for e in store.environments()? {
            if let Ok(fp) = serde_json::from_value::<Fingerprint>(e.env.fingerprint.clone()) {
                existing.push((e.env.name.clone(), fp));
            }
        }
        for e in &examples {
            // Seed modules are not run here: their behaviour part is a
            // unique marker that matches nothing.
            let marker = format!("seed environment {}", e.name);
            existing.push((
                e.name.clone(),
                Fingerprint::new(&e.description, [marker.as_str()]),
            ));
        }
        let mut contamination = Contamination::new(cfg.dedup.ngram);
        for f in &cfg.benchmark_files {
            let text = std::fs::read_to_string(f)
                .map_err(|e| Error::Config(format!("benchmark file {}: {e}", f.display())))?;
            contamination.add_file_text(&text);
        }
        let accepted = store.accepted_count(run)?;
        Ok(Self {
            cfg,
            store,
            run,
            llm,
            solver,
            validator,
            examples,
            reserved,
            existing: Mutex::new(existing),
            contamination,
            observer,
            accept_lock: Mutex::new(accepted),
        })
    }

    /// The run id.
    pub fn run_id(&self) -> i64 {
        self.run
    }

    /// The configuration.
    pub fn config(&self) -> &SynthConfig {
        &self.cfg
    }

    /// The generator client (usage counters, in-flight gauge).
    pub fn client(&self) -> &Client {
        self.llm.client()
    }

    /// Run until the target is reached, the candidate budget is spent, or
    /// keywords run out; returns the run's summary.
    ///
    /// # Errors
    /// Store errors, or the sandbox failing ([`Error::Sandbox`]); the run is
    /// left resumable.
    pub async fn run(self: Arc<Self>) -> Result<Summary> {
        let started = Instant::now();
        self.store.update_run(self.run, "running", 0)?;
        let result = self.clone().drive().await;
        let wall = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let status = match &result {
            Ok(()) if *self.accept_lock.lock().await >= self.cfg.target => "finished",
            Ok(()) => "exhausted",
            Err(_) => "interrupted",
        };
        self.store.update_run(self.run, status, wall)?;
        result?;
        Ok(self.store.summary(self.run)?)
    }

    async fn drive(self: Arc<Self>) -> Result<()> {
        let mut queue: VecDeque<Candidate> = self
            .store
            .candidates(self.run)?
            .into_iter()
            .filter(|c| c.status == CandidateStatus::Pending)
            .collect();
        let mut keywords: VecDeque<KeywordRow> = self.store.pending_keywords(self.run)?.into();
        let s = self.store.summary(self.run)?;
        let mut processed = s.accepted + s.rejected + s.skipped;
        let budget = self.cfg.budget();
        let limit = self.cfg.concurrency.max(1);
        let mut tasks: JoinSet<Result<TaskResult>> = JoinSet::new();
        let mut proposals_running = 0usize;
        let mut enqueued: HashSet<i64> = queue.iter().map(|c| c.id).collect();
        loop {
            let reached = *self.accept_lock.lock().await >= self.cfg.target;
            while !reached && tasks.len() < limit {
                if let Some(c) = (processed < budget).then(|| queue.pop_front()).flatten() {
                    processed += 1;
                    let me = self.clone();
                    tasks
                        .spawn(async move { me.candidate(c).await.map(|_| TaskResult::Candidate) });
                } else if processed < budget
                    && proposals_running < limit.div_ceil(self.cfg.tasks_per_keyword.max(1)).max(1)
                    && let Some(k) = keywords.pop_front()
                {
                    proposals_running += 1;
                    let me = self.clone();
                    tasks.spawn(async move { me.propose(k).await.map(|()| TaskResult::Proposal) });
                } else {
                    break;
                }
            }
            let Some(done) = tasks.join_next().await else {
                break;
            };
            match done {
                Ok(Ok(TaskResult::Proposal)) => {
                    proposals_running -= 1;
                    // New candidates: pick up what the proposal stored.
                    for c in self.store.candidates(self.run)? {
                        if c.status == CandidateStatus::Pending && enqueued.insert(c.id) {
                            queue.push_back(c);
                        }
                    }
                }
                Ok(Ok(TaskResult::Candidate)) => {}
                Ok(Err(e)) => {
                    tasks.abort_all();
                    return Err(e);
                }
                Err(join) => {
                    tasks.abort_all();
                    return Err(Error::Config(format!("a pipeline task panicked: {join}")));
                }
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ proposal

    /// Record that candidate `id` stops here because the run already has
    /// its target of accepted environments.
    fn skip_target_reached(&self, id: i64, round: u32) -> Result<()> {
        let e = StageEvent {
            stage: "skip".into(),
            passed: false,
            reason: "target_reached".into(),
            detail: String::new(),
            round,
        };
        self.store
            .finish_candidate(id, CandidateStatus::Skipped, &e)?;
        Ok(())
    }

    async fn propose(&self, k: KeywordRow) -> Result<()> {
        let mut existing = self.store.titles()?;
        existing.extend(self.examples.iter().map(|e| e.name.replace('_', " ")));
        let prompt = prompts::proposal(
            &k.keyword,
            &k.category,
            self.cfg.tasks_per_keyword,
            &existing,
        );
        let format = self.cfg.structured_proposals.response_format(
            "proposals",
            prompts::proposal_schema(self.cfg.tasks_per_keyword),
        );
        let reply = self
            .llm
            .ask_formatted(
                "proposal",
                None,
                Some(prompts::SYSTEM),
                &prompt,
                None,
                format,
            )
            .await;
        let parsed = match reply {
            Err(e) => Err(format!("llm_error: {e}")),
            Ok(r) if r.truncated && crate::extract::extract_json(&r.text, true).is_none() => {
                Err("truncated: the proposal reply was cut off by the token limit".to_string())
            }
            Ok(r) => match crate::extract::extract_json(&r.text, true) {
                Some(Value::Array(items)) => {
                    let c: Vec<NewCandidate> = items
                        .into_iter()
                        .filter(|v| v["title"].as_str().is_some_and(|t| !t.trim().is_empty()))
                        .take(self.cfg.tasks_per_keyword.max(1))
                        .map(|v| NewCandidate {
                            keyword: k.keyword.clone(),
                            title: v["title"].as_str().unwrap_or("").trim().to_string(),
                            proposal: v,
                        })
                        .collect();
                    if c.is_empty() {
                        Err("unparseable: no proposal has a title".into())
                    } else {
                        Ok(c)
                    }
                }
                _ => Err("unparseable: no JSON array of proposals in the reply".into()),
            },
        };
        match parsed {
            Ok(c) => {
                let n = c.len();
                self.store.finish_keyword(k.id, &c)?;
                self.observer.event(&Event::Proposed {
                    keyword: k.keyword,
                    candidates: n,
                });
            }
            Err(reason) => {
                self.store.fail_keyword(k.id, &reason)?;
                self.observer.event(&Event::ProposalFailed {
                    keyword: k.keyword,
                    reason,
                });
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ candidate

    fn examples_for(&self, cand: &Candidate) -> Vec<(String, String)> {
        if self.examples.is_empty() || self.cfg.few_shot == 0 {
            return Vec::new();
        }
        let cat = cand.proposal["category"].as_str().unwrap_or("");
        let n = self.examples.len();
        let start = usize::try_from(cand.id.unsigned_abs()).unwrap_or(0) % n;
        let mut picked: Vec<&Example> = Vec::new();
        if let Some(e) = (0..n)
            .map(|k| &self.examples[(start + k) % n])
            .find(|e| e.category == cat)
        {
            picked.push(e);
        }
        for k in 0..n {
            if picked.len() >= self.cfg.few_shot {
                break;
            }
            let e = &self.examples[(start + 7 * k + 3) % n];
            if !picked.iter().any(|p| p.name == e.name)
                && picked
                    .iter()
                    .all(|p| p.category != e.category || picked.len() + 1 >= n)
            {
                picked.push(e);
            }
        }
        picked.truncate(self.cfg.few_shot);
        picked
            .into_iter()
            .map(|e| (e.name.clone(), e.code.clone()))
            .collect()
    }

    fn event(&self, cand: i64, e: &StageEvent, cp: Option<&Checkpoint>) -> Result<()> {
        self.store.record_stage(cand, e, cp)?;
        self.observer.event(&Event::Stage {
            candidate: cand,
            stage: e.stage.clone(),
            passed: e.passed,
            reason: e.reason.clone(),
        });
        Ok(())
    }

    fn pass(
        &self,
        cand: i64,
        stage: &str,
        round: u32,
        detail: String,
        cp: Option<&Checkpoint>,
    ) -> Result<()> {
        self.event(
            cand,
            &StageEvent {
                stage: stage.into(),
                passed: true,
                reason: "ok".into(),
                detail,
                round,
            },
            cp,
        )
    }

    async fn blocking<T: Send + 'static>(
        f: impl FnOnce() -> std::result::Result<T, InfraError> + Send + 'static,
    ) -> Result<T> {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| Error::Config(format!("a validation thread panicked: {e}")))?
            .map_err(Error::Sandbox)
    }

    async fn candidate(self: Arc<Self>, cand: Candidate) -> Result<Outcome> {
        let id = cand.id;
        let mut cp = cand.checkpoint.clone();
        let mut pending: Option<Fail> = None;
        let mut cross_attempts = 0u32;
        loop {
            if *self.accept_lock.lock().await >= self.cfg.target {
                self.skip_target_reached(id, cp.round)?;
                return Ok(Outcome::Skipped);
            }
            // Implementation or repair.
            if cp.code.is_none() || pending.is_some() {
                let (purpose, prompt) = match (&cp.code, &pending) {
                    (None, None) => (
                        "implement",
                        prompts::implement(&cand.proposal, &self.examples_for(&cand)),
                    ),
                    (None, Some(f)) => ("repair", prompts::reimplement(&cand.proposal, &f.detail)),
                    (Some(code), Some(f)) => (
                        "repair",
                        prompts::repair(code, f.stage, &f.reason, &f.detail),
                    ),
                    (Some(_), None) => unreachable!("guarded by the condition above"),
                };
                let step = match self
                    .llm
                    .ask(purpose, Some(id), Some(prompts::SYSTEM), &prompt, None)
                    .await
                {
                    Err(e) => Err(Fail::reject("implement", "llm_error", e)),
                    Ok(r) => match extract_code(&r.text, r.truncated) {
                        Ok(code) => Ok(code),
                        Err(e @ ExtractError::Truncated { .. }) => {
                            Err(Fail::reject("extract", "truncated", e.to_string()))
                        }
                        Err(e) => Err(Fail::repair("extract", "no_code", e.to_string())),
                    },
                };
                match step {
                    Ok(code) => {
                        cp.code = Some(code);
                        cp.review_passed = false;
                        pending = None;
                        self.pass(id, "extract", cp.round, String::new(), Some(&cp))?;
                    }
                    Err(f) => {
                        if self.failed(id, &mut cp, f, &mut pending)? {
                            continue;
                        }
                        return Ok(Outcome::Rejected);
                    }
                }
            }
            let Some(code) = cp.code.clone() else {
                continue;
            };
            match self
                .check(id, &cand, &mut cp, &code, &mut cross_attempts)
                .await?
            {
                Ok(outcome) => return Ok(outcome),
                Err(f) => {
                    if self.failed(id, &mut cp, f, &mut pending)? {
                        continue;
                    }
                    return Ok(Outcome::Rejected);
                }
            }
        }
    }

    /// Record a failure; returns whether to repair (else it was rejected).
    fn failed(
        &self,
        id: i64,
        cp: &mut Checkpoint,
        f: Fail,
        pending: &mut Option<Fail>,
    ) -> Result<bool> {
        let e = StageEvent {
            stage: f.stage.into(),
            passed: false,
            reason: f.reason.clone(),
            detail: f.detail.clone(),
            round: cp.round,
        };
        if f.repairable && cp.round < self.cfg.repair_rounds {
            cp.round += 1;
            self.event(id, &e, Some(cp))?;
            *pending = Some(f);
            return Ok(true);
        }
        self.store
            .finish_candidate(id, CandidateStatus::Rejected, &e)?;
        self.observer.event(&Event::Stage {
            candidate: id,
            stage: e.stage.clone(),
            passed: false,
            reason: e.reason.clone(),
        });
        self.observer.event(&Event::Rejected {
            candidate: id,
            stage: e.stage,
            reason: e.reason,
        });
        Ok(false)
    }

    /// Every stage after extraction. `Ok(Err(fail))` sends it to repair or
    /// rejection.
    async fn check(
        &self,
        id: i64,
        cand: &Candidate,
        cp: &mut Checkpoint,
        code: &str,
        cross_attempts: &mut u32,
    ) -> Result<std::result::Result<Outcome, Fail>> {
        // Offline validation.
        let v = self.validator.clone();
        let (file, src) = (format!("candidate_{id}.py"), code.to_string());
        let (report, validated) = Self::blocking(move || v.validate(&file, &src)).await?;
        let Some(validated) = validated else {
            let f = report.failure.clone().unwrap_or_else(|| {
                crate::validate::Failure::new(crate::validate::Check::Load, "unknown", "")
            });
            return Ok(Err(Fail::repair(
                "validate",
                format!("{}:{}", f.check.as_str(), f.reason),
                f.detail,
            )));
        };
        self.pass(id, "validate", cp.round, summary_of(&report), None)?;
        let meta = validated.env.meta().clone();
        // NAME must be free.
        if self.reserved.contains(&meta.id) || self.store.environment(&meta.id).is_ok() {
            return Ok(Err(Fail::repair(
                "name",
                "name_taken",
                format!(
                    "NAME = {:?} is already used by another environment; choose a different, more specific NAME",
                    meta.id
                ),
            )));
        }
        // LLM review, two steps.
        let mut review_report = Value::Null;
        if self.cfg.review && !cp.review_passed {
            match self.review(id, cand, code, &validated).await? {
                Ok(r) => {
                    review_report = r;
                    cp.review_passed = true;
                    self.pass(id, "review", cp.round, review_report.to_string(), Some(cp))?;
                }
                Err(f) => return Ok(Err(f)),
            }
        }
        // Cross-verification.
        let mut cross_report = Value::Null;
        let mut cross_env: Option<PythonEnv> = None;
        if self.cfg.cross_verify {
            match self.cross(id, cand, cp, &validated, cross_attempts).await? {
                Ok((r, env)) => {
                    cross_report = r;
                    cross_env = Some(env);
                    self.pass(
                        id,
                        "cross_verify",
                        cp.round,
                        cross_report.to_string(),
                        Some(cp),
                    )?;
                }
                Err(f) => return Ok(Err(f)),
            }
        }
        // Calibration (with a solver).
        let mut calibration: Option<Calibration> = None;
        if let Some(solver) = &self.solver {
            match self
                .calibrate(id, solver, &validated, cross_env.as_ref())
                .await?
            {
                Ok(c) => {
                    self.pass(
                        id,
                        "calibrate",
                        cp.round,
                        serde_json::to_string(&c).unwrap_or_default(),
                        None,
                    )?;
                    calibration = Some(c);
                }
                Err(f) => return Ok(Err(f)),
            }
        }
        // Dedup, decontamination and storage run under the acceptance
        // lock: two near-identical candidates finishing together cannot
        // both get in, and the target is never exceeded.
        let mut accepted = self.accept_lock.lock().await;
        if *accepted >= self.cfg.target {
            self.skip_target_reached(id, cp.round)?;
            return Ok(Ok(Outcome::Skipped));
        }
        // Dedup and decontamination.
        let fp = Fingerprint::new(
            &meta.description,
            validated.instances.iter().map(|i| i.prompt.as_str()),
        );
        {
            let existing = self.existing.lock().await;
            if let Some(d) = find_duplicate(
                &fp,
                existing.iter().map(|(n, f)| (n.as_str(), f)),
                &self.cfg.dedup,
            ) {
                return Ok(Err(Fail::reject(
                    "dedup",
                    d.reason,
                    format!(
                        "similar to `{}` (estimated Jaccard similarity {:.2})",
                        d.of, d.similarity
                    ),
                )));
            }
        }
        self.pass(id, "dedup", cp.round, String::new(), None)?;
        if !self.contamination.is_empty() {
            for i in &validated.instances {
                if let Some(g) = self.contamination.find(&i.prompt) {
                    return Ok(Err(Fail::reject(
                        "decontaminate",
                        "benchmark_overlap",
                        format!(
                            "the prompt of seed {} difficulty {} shares the {}-gram {g:?} with a benchmark file",
                            i.seed, i.difficulty, self.cfg.dedup.ngram
                        ),
                    )));
                }
            }
            self.pass(id, "decontaminate", cp.round, String::new(), None)?;
        }
        let calls: Vec<Value> = self
            .store
            .calls(self.run)?
            .into_iter()
            .filter(|c| c.candidate_id == Some(id))
            .map(|c| json!({"purpose": c.purpose, "request_hash": c.request_hash}))
            .collect();
        let env = NewEnvironment {
            name: meta.id.clone(),
            version: meta.version,
            content_hash: code_hash(code),
            category: meta.category.as_str().to_string(),
            description: meta.description.clone(),
            code: code.to_string(),
            provenance: json!({
                "endpoint": self.llm.endpoint(),
                "model": self.llm.model(),
                "solver": self.solver.as_ref().map(|s| json!({"endpoint": s.endpoint(), "model": s.model()})),
                "run": self.run,
                "candidate": id,
                "keyword": cand.keyword,
                "proposal": cand.proposal,
                "repair_rounds": cp.round,
                "calls": calls,
            }),
            validation: json!({"offline": report, "review": review_report, "cross_verify": cross_report}),
            calibration: calibration
                .as_ref()
                .and_then(|c| serde_json::to_value(c).ok()),
            fingerprint: serde_json::to_value(&fp).unwrap_or(Value::Null),
            run_id: Some(self.run),
            candidate_id: Some(id),
        };
        let ev = StageEvent {
            stage: "store".into(),
            passed: true,
            reason: "ok".into(),
            detail: meta.id.clone(),
            round: cp.round,
        };
        match self.store.accept(&env, &ev)? {
            Accepted::Stored(_) => {
                *accepted += 1;
                self.existing.lock().await.push((meta.id.clone(), fp));
                self.observer.event(&Event::Accepted {
                    candidate: id,
                    name: meta.id,
                });
                Ok(Ok(Outcome::Accepted))
            }
            Accepted::Duplicate {
                key: "name",
                existing,
            } => Ok(Err(Fail::repair(
                "store",
                "name_taken",
                format!(
                    "NAME = {existing:?} is already used by another environment; choose a different, more specific NAME"
                ),
            ))),
            Accepted::Duplicate { existing, .. } => Ok(Err(Fail::reject(
                "store",
                "duplicate_code",
                format!("identical code is already stored as `{existing}`"),
            ))),
            other => Ok(Err(Fail::reject(
                "store",
                "not_stored",
                format!("{other:?}"),
            ))),
        }
    }

    async fn review(
        &self,
        id: i64,
        cand: &Candidate,
        code: &str,
        v: &Validated,
    ) -> Result<std::result::Result<Value, Fail>> {
        let mut verdicts = serde_json::Map::new();
        for step in ["code_review", "question_review"] {
            let prompt = if step == "code_review" {
                prompts::code_review(&cand.proposal, code)
            } else {
                let samples: Vec<(u8, String, String)> = [1u8, 5, 10]
                    .into_iter()
                    .filter_map(|d| v.instances.iter().find(|i| i.difficulty == d))
                    .map(|i| {
                        (
                            i.difficulty,
                            i.prompt.clone(),
                            resyn_core::probes::reference_answer(i).to_string(),
                        )
                    })
                    .collect();
                prompts::question_review(&samples)
            };
            let mut verdict = None;
            for attempt in 0..2 {
                let p = if attempt == 0 {
                    prompt.clone()
                } else {
                    format!("{prompt}\n\nAnswer with the JSON object only.")
                };
                match self.llm.ask(step, Some(id), None, &p, None).await {
                    Err(e) => return Ok(Err(Fail::reject("review", "llm_error", e))),
                    Ok(r) => {
                        verdict = review::parse_verdict(&r.text);
                        if verdict.is_some() {
                            break;
                        }
                    }
                }
            }
            match verdict {
                None => {
                    return Ok(Err(Fail::reject(
                        "review",
                        format!("{step}_unparseable"),
                        "the judge's reply has no verdict",
                    )));
                }
                Some(vd) if !vd.pass => {
                    return Ok(Err(Fail::repair(
                        "review",
                        format!("{step}_failed"),
                        format!(
                            "An independent reviewer rejected the environment ({step}):\n- {}",
                            vd.problems.join("\n- ")
                        ),
                    )));
                }
                Some(vd) => {
                    verdicts.insert(step.into(), serde_json::to_value(vd).unwrap_or(Value::Null));
                }
            }
        }
        Ok(Ok(Value::Object(verdicts)))
    }

    async fn cross(
        &self,
        id: i64,
        cand: &Candidate,
        cp: &mut Checkpoint,
        v: &Validated,
        attempts: &mut u32,
    ) -> Result<std::result::Result<(Value, PythonEnv), Fail>> {
        let meta = v.env.meta().clone();
        loop {
            if cp.cross_code.is_none() {
                if *attempts >= 2 {
                    return Ok(Err(Fail::reject(
                        "cross_verify",
                        "cross_verifier_unusable",
                        "two independently written verifiers could not be run",
                    )));
                }
                *attempts += 1;
                let description = format!(
                    "{}\n{}",
                    cand.proposal["description"].as_str().unwrap_or(""),
                    meta.description
                );
                let samples: Vec<String> = [1u8, 6]
                    .into_iter()
                    .filter_map(|d| v.instances.iter().find(|i| i.difficulty == d))
                    .map(|i| module_prompt(&i.prompt).to_string())
                    .collect();
                let prompt = prompts::cross_verifier(&description, &samples);
                // The attempt number makes a second request differ from the first.
                let seed = Some(u64::from(*attempts));
                match self
                    .llm
                    .ask(
                        "cross_verifier",
                        Some(id),
                        Some(prompts::SYSTEM),
                        &prompt,
                        seed,
                    )
                    .await
                {
                    Err(e) => return Ok(Err(Fail::reject("cross_verify", "llm_error", e))),
                    Ok(r) => match extract_verifier(&r.text, r.truncated) {
                        Ok(c) => {
                            cp.cross_code = Some(c);
                            self.event(
                                id,
                                &StageEvent {
                                    stage: "cross_verifier".into(),
                                    passed: true,
                                    reason: "ok".into(),
                                    detail: String::new(),
                                    round: cp.round,
                                },
                                Some(cp),
                            )?;
                        }
                        Err(e) => {
                            self.event(
                                id,
                                &StageEvent {
                                    stage: "cross_verifier".into(),
                                    passed: false,
                                    reason: "no_code".into(),
                                    detail: e.to_string(),
                                    round: cp.round,
                                },
                                None,
                            )?;
                            continue;
                        }
                    },
                }
            }
            let Some(xcode) = cp.cross_code.clone() else {
                continue;
            };
            let source = format!(
                "{xcode}\n\n# --- appended by resyn: identity of the environment cross-verified\nNAME = {:?}\nCATEGORY = {:?}\nDESCRIPTION = \"independent verifier\"\nVERSION = {}\n\ndef generate(rng, difficulty):\n    raise RuntimeError(\"a cross-verifier only verifies\")\n",
                meta.id,
                meta.category.as_str(),
                meta.version
            );
            let sb = self.validator.sandbox().clone();
            let instances = v.instances.clone();
            let probes: Vec<(usize, String, f64)> = sample_probes(v);
            let probes2 = probes.clone();
            let file = format!("cross_{id}.py");
            let outcome = Self::blocking(move || -> std::result::Result<_, InfraError> {
                let env = match PythonEnv::from_source(&file, source, &sb) {
                    Ok(e) => e,
                    Err(e) => return Ok(Err(e.to_string())),
                };
                let mut items: Vec<(&Instance, &str)> = instances
                    .iter()
                    .map(|i| (i, i.reference.as_str()))
                    .collect();
                items.extend(probes2.iter().map(|(k, r, _)| (&instances[*k], r.as_str())));
                let res = env.try_verify_batch(&items);
                let rewards: Vec<std::result::Result<f64, String>> = res
                    .results
                    .into_iter()
                    .map(|r| match r {
                        Ok(Ok(x)) => Ok(x),
                        Ok(Err(_)) => Ok(0.0),
                        Err(e) => Err(e.to_string()),
                    })
                    .collect();
                Ok(Ok((env, rewards)))
            })
            .await?;
            let (env, rewards) = match outcome {
                Ok(x) => x,
                Err(e) => {
                    self.event(
                        id,
                        &StageEvent {
                            stage: "cross_verifier".into(),
                            passed: false,
                            reason: "load_error".into(),
                            detail: e,
                            round: cp.round,
                        },
                        None,
                    )?;
                    cp.cross_code = None;
                    continue;
                }
            };
            let n_ref = v.instances.len();
            let errors = rewards.iter().filter(|r| r.is_err()).count();
            if errors * 10 > rewards.len() {
                let first = rewards
                    .iter()
                    .find_map(|r| r.as_ref().err())
                    .cloned()
                    .unwrap_or_default();
                self.event(
                    id,
                    &StageEvent {
                        stage: "cross_verifier".into(),
                        passed: false,
                        reason: "crashes".into(),
                        detail: first,
                        round: cp.round,
                    },
                    None,
                )?;
                cp.cross_code = None;
                continue;
            }
            let mut disagreements = Vec::new();
            let mut agree = 0usize;
            for (k, r) in rewards.iter().enumerate() {
                let theirs = matches!(r, Ok(x) if *x == 1.0);
                let (ours, inst, response) = if k < n_ref {
                    (true, &v.instances[k], v.instances[k].reference.as_str())
                } else {
                    let (i, resp, reward) = &probes[k - n_ref];
                    (*reward == 1.0, &v.instances[*i], resp.as_str())
                };
                if ours == theirs {
                    agree += 1;
                } else {
                    disagreements.push((k < n_ref, inst, response, ours, theirs));
                }
            }
            #[allow(clippy::cast_precision_loss)]
            let rate = agree as f64 / rewards.len().max(1) as f64;
            let ref_disagree = disagreements.iter().filter(|d| d.0).count();
            let report = json!({"compared": rewards.len(), "agreement": rate, "reference_disagreements": ref_disagree, "verifier_errors": errors});
            if ref_disagree > 0 || rate < self.cfg.cross_min_agreement {
                let lines: Vec<String> = disagreements
                    .iter()
                    .take(3)
                    .map(|(_, i, resp, ours, theirs)| {
                        format!(
                            "- seed {} difficulty {}: response {:?} — your verify() says {}, an independent verifier written from the question text says {}",
                            i.seed,
                            i.difficulty,
                            resp.chars().take(300).collect::<String>(),
                            if *ours { "correct" } else { "wrong" },
                            if *theirs { "correct" } else { "wrong" }
                        )
                    })
                    .collect();
                return Ok(Err(Fail::repair(
                    "cross_verify",
                    "disagreement",
                    format!(
                        "Two verifiers disagree on {} of {} answers (agreement {:.1}%). Either your verify() is wrong or the question does not specify the task precisely enough. Examples:\n{}",
                        disagreements.len(),
                        rewards.len(),
                        rate * 100.0,
                        lines.join("\n")
                    ),
                )));
            }
            return Ok(Ok((report, env)));
        }
    }

    async fn calibrate(
        &self,
        id: i64,
        solver: &Llm,
        v: &Validated,
        cross: Option<&PythonEnv>,
    ) -> Result<std::result::Result<Calibration, Fail>> {
        let k = self.cfg.calibration_samples.max(1);
        let requests: Vec<(u64, u8)> = (resyn_core::MIN_DIFFICULTY..=resyn_core::MAX_DIFFICULTY)
            .flat_map(|d| (0..u64::from(k)).map(move |j| (100_000 + j, d)))
            .collect();
        let env = v.env.clone();
        let reqs = requests.clone();
        let instances = Self::blocking(move || Ok(env.generate_batch(&reqs))).await?;
        let mut insts = Vec::with_capacity(instances.len());
        for r in instances {
            match r {
                Ok(i) => insts.push(i),
                Err(e) => return Ok(Err(Fail::repair("calibrate", "generate", e.to_string()))),
            }
        }
        let mut set = JoinSet::new();
        for (n, inst) in insts.iter().enumerate() {
            let s = solver.clone();
            let prompt = inst.prompt.clone();
            set.spawn(async move {
                (
                    n,
                    s.ask("solve", Some(id), None, &prompt, Some(n as u64))
                        .await,
                )
            });
        }
        let mut answers = vec![String::new(); insts.len()];
        while let Some(r) = set.join_next().await {
            if let Ok((n, Ok(reply))) = r {
                answers[n] = reply.text;
            }
        }
        let env = v.env.clone();
        let cross = cross.cloned();
        let (i2, a2) = (insts.clone(), answers.clone());
        let (ours, theirs) = Self::blocking(move || {
            let items: Vec<(&Instance, &str)> =
                i2.iter().zip(&a2).map(|(i, a)| (i, a.as_str())).collect();
            let ours = env.verify_batch(&items);
            let theirs = cross.map(|c| c.verify_batch(&items));
            Ok((ours, theirs))
        })
        .await?;
        if let Some(theirs) = theirs {
            let dis: Vec<usize> = (0..ours.len())
                .filter(|&n| ours[n].correct != theirs[n].correct)
                .collect();
            #[allow(clippy::cast_precision_loss)]
            let rate = 1.0 - dis.len() as f64 / ours.len().max(1) as f64;
            if rate < self.cfg.cross_min_agreement {
                let n = dis[0];
                return Ok(Err(Fail::repair(
                    "cross_verify",
                    "disagreement_on_solver_answers",
                    format!(
                        "On real model answers the two verifiers disagree {} of {} times. Example: seed {} difficulty {}, answer {:?}: your verify() says {}, the independent verifier says {}",
                        dis.len(),
                        ours.len(),
                        insts[n].seed,
                        insts[n].difficulty,
                        answers[n].chars().take(300).collect::<String>(),
                        ours[n].correct,
                        theirs[n].correct
                    ),
                )));
            }
        }
        let curve: Vec<Level> = (resyn_core::MIN_DIFFICULTY..=resyn_core::MAX_DIFFICULTY)
            .map(|d| Level {
                difficulty: d,
                truncated: 0,
                n: k,
                solved: u32::try_from(
                    insts
                        .iter()
                        .zip(&ours)
                        .filter(|(i, v)| i.difficulty == d && v.correct)
                        .count(),
                )
                .unwrap_or(0),
            })
            .collect();
        let c = calibrate::assess(curve, k, &self.cfg.calibration);
        if !c.passed {
            return Ok(Err(Fail::reject(
                "calibrate",
                c.reason.clone(),
                format!(
                    "solve rates by difficulty: {:?} (z = {:.2}, one-sided p = {:.3})",
                    c.curve.iter().map(|l| l.solved).collect::<Vec<_>>(),
                    c.z,
                    c.p_value
                ),
            )));
        }
        Ok(Ok(c))
    }
}

/// Probes for cross-verification: all accepted ones plus up to 200 others,
/// spread over families. `(instance index, response, reward)`.
fn sample_probes(v: &Validated) -> Vec<(usize, String, f64)> {
    let mut out: Vec<(usize, String, f64)> = v
        .probes
        .iter()
        .filter(|p| p.reward > 0.0)
        .map(|p| (p.inst, p.response.clone(), p.reward))
        .collect();
    let rejected: Vec<_> = v.probes.iter().filter(|p| p.reward == 0.0).collect();
    let step = (rejected.len() / 200).max(1);
    out.extend(
        rejected
            .iter()
            .step_by(step)
            .take(200)
            .map(|p| (p.inst, p.response.clone(), p.reward)),
    );
    // Identical answers to one instance are compared once.
    let mut seen = HashSet::new();
    out.retain(|(i, r, _)| seen.insert((*i, norm(r))));
    out
}

/// Hex SHA-256 content hash of a module's code.
pub fn code_hash(code: &str) -> String {
    resyn_core::content_hash(&[b"resyn-synth-env", code.as_bytes()])
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            s.push_str(&format!("{b:02x}"));
            s
        })
}

fn module_prompt(p: &str) -> &str {
    p.strip_suffix(resyn_core::ANSWER_INSTRUCTION)
        .unwrap_or(p)
        .trim_end()
}

fn summary_of(r: &ValidationReport) -> String {
    format!(
        "{} instances, {} probes ({} rejected), min distinct-prompt ratio {:.2}, {} ms",
        r.stats.instances,
        r.stats.probes,
        r.stats.probes_rejected,
        r.stats.unique_ratio,
        r.elapsed_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_constants_textually() {
        let code = "NAME = \"abc\"\nDESCRIPTION = (\n    \"one \"\n    \"two\"\n)\n";
        assert_eq!(const_str(code, "NAME").as_deref(), Some("abc"));
        assert_eq!(const_str(code, "DESCRIPTION").as_deref(), Some("one two"));
        assert_eq!(const_str(code, "CATEGORY"), None);
    }
}
