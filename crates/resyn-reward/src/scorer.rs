//! [`Scorer`]: targets + responses → [`Reward`]s, one at a time or batched.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use resyn_core::ground_truth::llm_answer_verdict;
use resyn_core::{Environment, GroundTruth, Instance, ReasonCode, Registry, Verdict};

use crate::{Error, Result, Reward, RewardConfig, compose, parallel};

/// What a response is scored against.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Run the environment's verifier on this instance.
    Instance(Arc<Instance>),
    /// Exact canonical match of the extracted answer against a reference
    /// answer ([`resyn_core::ground_truth::code_verdict`]); the `"code"` and
    /// `"llm_answer"` reward modes.
    Answer {
        /// Environment id (informational: no environment is run).
        env: String,
        /// The reference solver's (code) or the LLM's (llm_answer) answer;
        /// `None` when the LLM gave none, so every response scores 0.
        answer: Option<String>,
    },
}

impl Target {
    /// Decode a `reward_model.ground_truth` string.
    ///
    /// # Errors
    /// [`Error::GroundTruth`] when it is not a documented shape.
    pub fn parse_ground_truth(s: &str) -> Result<Target> {
        let gt = GroundTruth::from_json(s).map_err(|e| Error::GroundTruth(e.to_string()))?;
        Self::from_ground_truth(gt)
    }

    /// The target a decoded ground truth describes.
    ///
    /// # Errors
    /// [`Error::GroundTruth`] for a reward mode this version cannot score.
    pub fn from_ground_truth(gt: GroundTruth) -> Result<Target> {
        // Verifiers read only `data`; the prompt and reference are not part
        // of the ground truth.
        let gt = match gt.into_instance() {
            Ok(inst) => return Ok(Target::Instance(Arc::new(inst))),
            Err(gt) => gt,
        };
        match gt {
            GroundTruth::Code { env, answer, .. } => Ok(Target::Answer {
                env,
                answer: Some(answer),
            }),
            GroundTruth::LlmAnswer { env, answer, .. } => Ok(Target::Answer { env, answer }),
            other => Err(Error::GroundTruth(format!(
                "unsupported reward mode in {}",
                other.to_json()
            ))),
        }
    }

    /// The environment id.
    pub fn env(&self) -> &str {
        match self {
            Target::Instance(i) => &i.env,
            Target::Answer { env, .. } => env,
        }
    }
}

/// Told how long each environment took: a reward server's per-environment
/// latency metrics.
pub trait Observer: Send + Sync {
    /// `items` responses of environment `env` were verified in one call
    /// (one environment's share of a batch) taking `elapsed`.
    fn verified(&self, env: &str, items: usize, elapsed: Duration);
}

/// Scores responses with the environments of a [`Registry`].
///
/// Cheap to clone (the registry holds `Arc`s); `Send + Sync`, so one scorer
/// serves every thread.
#[derive(Clone)]
pub struct Scorer {
    registry: Registry,
    observer: Option<Arc<dyn Observer>>,
}

impl std::fmt::Debug for Scorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scorer")
            .field("registry", &self.registry)
            .field("observed", &self.observer.is_some())
            .finish()
    }
}

impl Scorer {
    /// A scorer over these environments.
    pub fn new(registry: Registry) -> Self {
        Self {
            registry,
            observer: None,
        }
    }

    /// The same scorer, reporting every environment's verification time to
    /// `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Verify `items` of environment `env`, timed for the observer.
    fn verify_timed(
        &self,
        env: &Arc<dyn Environment>,
        items: &[(&Instance, &str)],
    ) -> Vec<resyn_core::Verdict> {
        let t = Instant::now();
        let verdicts = env.verify_batch(items);
        if let Some(o) = &self.observer {
            o.verified(&env.meta().id, items.len(), t.elapsed());
        }
        verdicts
    }

    /// The environments.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Score one response.
    ///
    /// # Errors
    /// [`Error::UnknownEnvironment`] when an instance's environment is not in
    /// the registry.
    pub fn score(&self, target: &Target, response: &str, config: &RewardConfig) -> Result<Reward> {
        let verdict = match target {
            Target::Instance(inst) => self
                .verify_timed(self.env(&inst.env)?, &[(inst, response)])
                .pop()
                .unwrap_or_else(|| {
                    resyn_core::Verdict::zero(resyn_core::ReasonCode::EnvError, "no verdict")
                }),
            Target::Answer { answer, .. } => llm_answer_verdict(answer.as_deref(), response),
        };
        reward(target, verdict, response, config)
    }

    /// Decode a ground-truth string and score one response against it.
    ///
    /// # Errors
    /// [`Error::GroundTruth`] or [`Error::UnknownEnvironment`].
    pub fn score_ground_truth(
        &self,
        ground_truth: &str,
        response: &str,
        config: &RewardConfig,
    ) -> Result<Reward> {
        self.score(&Target::parse_ground_truth(ground_truth)?, response, config)
    }

    /// Score `(ground truth, response)` pairs on all cores; results are in
    /// input order, and an error in one item does not affect the others.
    pub fn score_ground_truths(
        &self,
        items: &[(&str, &str)],
        config: &RewardConfig,
    ) -> Vec<Result<Reward>> {
        let pieces = pieces(items.len());
        let decoded: Vec<Result<Target>> = parallel::map(&pieces, |r| {
            items[r.clone()]
                .iter()
                .map(|(gt, _)| Target::parse_ground_truth(gt))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
        let mut out: Vec<Option<Result<Reward>>> = Vec::with_capacity(items.len());
        let mut targets: Vec<(usize, Target)> = Vec::with_capacity(items.len());
        for (k, d) in decoded.into_iter().enumerate() {
            match d {
                Ok(t) => {
                    targets.push((k, t));
                    out.push(None);
                }
                Err(e) => out.push(Some(Err(e))),
            }
        }
        let ok: Vec<(&Target, &str)> = targets.iter().map(|(k, t)| (t, items[*k].1)).collect();
        for ((k, _), r) in targets.iter().zip(self.score_targets(&ok, config)) {
            out[*k] = Some(r);
        }
        // Every slot is filled: decode errors above, the rest just now.
        out.into_iter().flatten().collect()
    }

    /// Score `(target, response)` pairs on all cores; results are in input
    /// order. Items are grouped by environment so that backends with
    /// per-call overhead (sandboxed Python) see whole batches
    /// ([`Environment::verify_batch`]).
    pub fn score_targets(
        &self,
        items: &[(&Target, &str)],
        config: &RewardConfig,
    ) -> Vec<Result<Reward>> {
        // Stable sort by environment: runs of one environment, input order within.
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| items[a].0.env().cmp(items[b].0.env()));
        let size = parallel::piece_size(items.len());
        let mut work: Vec<&[usize]> = Vec::new();
        let mut rest = &order[..];
        while let Some((&first, _)) = rest.split_first() {
            let env = items[first].0.env();
            let run = rest
                .iter()
                .take(size)
                .take_while(|&&k| items[k].0.env() == env)
                .count();
            let (piece, tail) = rest.split_at(run);
            work.push(piece);
            rest = tail;
        }
        // Sandboxed environments verify in their workers: more threads than
        // cores keep the cores busy while some threads wait for one.
        let threads = resyn_core::parallel::threads_for(
            work.iter()
                .filter_map(|p| self.env(items[p[0]].0.env()).ok())
                .map(|e| e.as_ref()),
        );
        let done = resyn_core::parallel::map(&work, threads, |piece| {
            self.score_piece(items, piece, config)
        });
        let mut out: Vec<Option<Result<Reward>>> = (0..items.len()).map(|_| None).collect();
        for (piece, results) in work.iter().zip(done) {
            for (&k, r) in piece.iter().zip(results) {
                out[k] = Some(r);
            }
        }
        // `work` partitions `0..items.len()`, so every slot is filled.
        out.into_iter().flatten().collect()
    }

    /// Score items of one environment (indices into `items`).
    fn score_piece(
        &self,
        items: &[(&Target, &str)],
        piece: &[usize],
        config: &RewardConfig,
    ) -> Vec<Result<Reward>> {
        let Some(&first) = piece.first() else {
            return Vec::new();
        };
        let insts: Vec<(&Instance, &str)> = piece
            .iter()
            .filter_map(|&k| match items[k].0 {
                Target::Instance(i) => Some((&**i, items[k].1)),
                Target::Answer { .. } => None,
            })
            .collect();
        let mut verdicts = if insts.is_empty() {
            Vec::new()
        } else {
            match self.env(items[first].0.env()) {
                Ok(env) => self.verify_timed(env, &insts),
                Err(e) => {
                    let name = match e {
                        Error::UnknownEnvironment(n) => n,
                        other => other.to_string(),
                    };
                    return piece
                        .iter()
                        .map(|&k| match items[k].0 {
                            Target::Answer { answer, .. } => Ok(compose(
                                llm_answer_verdict(answer.as_deref(), items[k].1),
                                items[k].1,
                                config,
                            )),
                            Target::Instance(_) => Err(Error::UnknownEnvironment(name.clone())),
                        })
                        .collect();
                }
            }
        }
        .into_iter();
        piece
            .iter()
            .map(|&k| {
                let (target, resp) = items[k];
                let verdict = match target {
                    Target::Answer { answer, .. } => llm_answer_verdict(answer.as_deref(), resp),
                    // `verify_batch` returns one verdict per instance item, in order.
                    Target::Instance(_) => verdicts.next().unwrap_or_else(|| {
                        resyn_core::Verdict::zero(
                            resyn_core::ReasonCode::EnvError,
                            "environment returned too few verdicts",
                        )
                    }),
                };
                reward(target, verdict, resp, config)
            })
            .collect()
    }

    fn env(&self, id: &str) -> Result<&Arc<dyn Environment>> {
        self.registry
            .get(id)
            .map_err(|_| Error::UnknownEnvironment(id.to_string()))
    }
}

/// The reward for `verdict`, or the error of an environment that could not
/// run at all ([`Error::Unavailable`]: never a reward of 0 the response did
/// not earn).
fn reward(
    target: &Target,
    verdict: Verdict,
    response: &str,
    config: &RewardConfig,
) -> Result<Reward> {
    if verdict.reason == ReasonCode::Unavailable {
        return Err(Error::Unavailable {
            env: target.env().to_string(),
            detail: verdict.detail,
        });
    }
    Ok(compose(verdict, response, config))
}

/// Split `0..n` into index ranges of [`parallel::piece_size`].
fn pieces(n: usize) -> Vec<Range<usize>> {
    let size = parallel::piece_size(n);
    (0..n).step_by(size).map(|s| s..(s + size).min(n)).collect()
}
