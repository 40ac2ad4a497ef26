//! The orchestrator: keywords → proposals → candidates, each candidate taken
//! through the [`Stage`]s — implementation, validation, name, dedup and
//! decontamination (cheap, before any further LLM call), review,
//! cross-verification with adjudication of every disagreement, calibration
//! and storage — with repair rounds. One module per stage; a stage returns a
//! [`Step`]: pass (with what it produced) or a [`Fail`] to repair or reject.
//!
//! Invariants:
//! - at most `concurrency` tasks (proposal or candidate) run at once; LLM
//!   requests are bounded by the same number (the client's semaphore);
//! - every stage outcome is stored before the next stage starts, together
//!   with the candidate's checkpoint, so a resumed run continues each
//!   candidate where it stopped; LLM replies already received are replayed
//!   from the store, so an interruption loses at most the calls in flight;
//! - acceptance is serialized: the store's unique keys, the final dedup and
//!   the target check run under one lock, so a run never exceeds its target
//!   nor stores an environment twice.

mod accept;
mod calibrate;
mod candidate;
mod cross;
mod examples;
mod propose;
mod review;
pub(crate) mod stage;
mod unique;

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use resyn_llm::{Client, RetryPolicy};
use resyn_store::{
    Candidate, CandidateStatus, Checkpoint, KeywordRow, RunStatus, StageEvent, Store, Summary,
};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use resyn_core::Environment;

use crate::dedup::{Contamination, Fingerprint};
use crate::llm::Llm;
use crate::validate::{InfraError, Validator};
use crate::{Error, Result, SynthConfig};
pub use examples::{Example, load_examples};
pub use stage::Stage;
use unique::Known;

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

enum TaskResult {
    /// The keyword whose proposals are stored.
    Proposal(String),
    Candidate,
}

/// A synthesis run.
pub struct Pipeline {
    cfg: SynthConfig,
    store: Arc<Store>,
    run: i64,
    llm: Llm,
    /// Review and judge calls (the generator unless a reviewer is given).
    reviewer: Llm,
    solver: Option<Llm>,
    validator: Validator,
    examples: Vec<Example>,
    reserved: HashSet<String>,
    /// Names of the environments outside the store, for proposals.
    native_titles: Vec<String>,
    /// What a candidate must not duplicate; only grows (storage compares a
    /// candidate with the entries added after its own dedup).
    existing: Mutex<Vec<Arc<Known>>>,
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
    /// `known` are the environments outside the store (native ones): their
    /// names are taken, proposals are told about them, and candidates are
    /// deduplicated against them like against stored ones.
    ///
    /// # Errors
    /// Unknown run, unusable configuration (endpoint, key variable,
    /// benchmark files).
    pub fn new(
        store: Arc<Store>,
        run: i64,
        validator: Validator,
        known: impl IntoIterator<Item = Arc<dyn Environment>>,
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
        let reviewer = match (&cfg.review_base_url, &cfg.review_model) {
            (None, None) => Llm::new(llm.client().clone(), cfg.model.clone(), store.clone(), run),
            (base, model) => Llm::new(
                client(
                    base.as_deref().unwrap_or(&cfg.base_url),
                    cfg.review_api_key_env
                        .as_deref()
                        .or(cfg.api_key_env.as_deref()),
                    &cfg,
                )?,
                model.clone().unwrap_or_else(|| cfg.model.clone()),
                store.clone(),
                run,
            ),
        }
        .temperature(cfg.review_temperature)
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
        let known: Vec<Arc<dyn Environment>> = known.into_iter().collect();
        let mut reserved: HashSet<String> = known.iter().map(|e| e.meta().id.clone()).collect();
        reserved.extend(examples.iter().map(|e| e.name.clone()));
        let native_titles = known
            .iter()
            .map(|e| e.meta().id.replace('_', " "))
            .collect();
        let mut existing: Vec<Arc<Known>> = known
            .into_iter()
            .map(|e| Arc::new(Known::native(e)))
            .collect();
        for e in store.environments()? {
            if let Ok(fp) = serde_json::from_value::<Fingerprint>(e.env.fingerprint.clone()) {
                existing.push(Arc::new(Known::stored(
                    e.env.name.clone(),
                    fp,
                    e.env.code.clone(),
                )));
            }
        }
        for e in &examples {
            // Seed modules are not run here: their template part is a
            // unique marker that matches nothing.
            let marker = format!("seed environment {}", e.name);
            existing.push(Arc::new(Known::text_only(
                e.name.clone(),
                Fingerprint::new(&e.description, [marker.as_str()]),
            )));
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
            reviewer,
            solver,
            validator,
            examples,
            reserved,
            native_titles,
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
        self.store.update_run(self.run, RunStatus::Running, 0)?;
        let result = self.clone().drive().await;
        let wall = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let status = match &result {
            Ok(()) if *self.accept_lock.lock().await >= self.cfg.target => RunStatus::Finished,
            Ok(()) => RunStatus::Exhausted,
            Err(_) => RunStatus::Interrupted,
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
                    let keyword = k.keyword.clone();
                    tasks.spawn(async move {
                        me.propose(k).await.map(|()| TaskResult::Proposal(keyword))
                    });
                } else {
                    break;
                }
            }
            let Some(done) = tasks.join_next().await else {
                break;
            };
            match done {
                Ok(Ok(TaskResult::Proposal(keyword))) => {
                    proposals_running -= 1;
                    // New candidates: pick up what the proposal stored.
                    for c in self.store.keyword_candidates(self.run, &keyword)? {
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
                    return Err(Error::Panicked {
                        task: "pipeline task",
                        source: join,
                    });
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
            stage: Stage::Skip.as_str().into(),
            passed: false,
            reason: "target_reached".into(),
            detail: String::new(),
            round,
        };
        self.store
            .finish_candidate(id, CandidateStatus::Skipped, &e)?;
        Ok(())
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
        stage: Stage,
        round: u32,
        detail: String,
        cp: Option<&Checkpoint>,
    ) -> Result<()> {
        self.event(
            cand,
            &StageEvent {
                stage: stage.as_str().into(),
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
            .map_err(|source| Error::Panicked {
                task: "validation thread",
                source,
            })?
            .map_err(Error::Sandbox)
    }
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

/// A prompt without the answer-tag instruction resyn appends: the question
/// as the module wrote it.
fn module_prompt(p: &str) -> &str {
    p.strip_suffix(resyn_core::ANSWER_INSTRUCTION)
        .unwrap_or(p)
        .trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_validation_thread_is_its_own_error() {
        let e = Pipeline::blocking::<()>(|| panic!("boom"))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, Error::Panicked { task: "validation thread", source } if source.is_panic()),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with("a validation thread panicked: "),
            "{e}"
        );
    }
}
