//! What gets evaluated: items from environments and from benchmark files.
//!
//! An [`EvalItem`] is one prompt plus how to score a response to it. Items
//! belong to a *suite* (`envs`, `bbh`, `bbeh`, `gsm8k`, `aime`) and a *group*
//! inside it (the environment id or the subtask), which is how the report
//! aggregates them.

use std::sync::Arc;

use resyn_core::{Category, Environment, Instance, ReasonCode, Registry, Verdict};

use crate::bench::BenchItem;
use crate::{Error, Result};

/// Suite name of environment items.
pub const ENVS_SUITE: &str = "envs";

/// How an item's responses are scored.
#[derive(Clone)]
pub enum Target {
    /// By the environment's verifier.
    Env {
        /// The environment.
        env: Arc<dyn Environment>,
        /// The generated instance.
        instance: Box<Instance>,
    },
    /// By the benchmark's matcher.
    Bench(BenchItem),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env { instance, .. } => f
                .debug_struct("Env")
                .field("instance", &instance.id)
                .finish(),
            Self::Bench(b) => f.debug_tuple("Bench").field(&b.id).finish(),
        }
    }
}

/// One prompt to evaluate.
#[derive(Debug, Clone)]
pub struct EvalItem {
    /// Stable id: the instance id, or the benchmark item id.
    pub id: String,
    /// Suite (`envs` or a benchmark name).
    pub suite: String,
    /// Environment id or subtask.
    pub group: String,
    /// Difficulty level (environments only).
    pub difficulty: Option<u8>,
    /// The text sent as the user message.
    pub prompt: String,
    /// How to score.
    pub target: Target,
}

/// The outcome of scoring one response.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Reward in `[0, 1]` (1 or 0 for benchmarks).
    pub reward: f64,
    /// Full marks.
    pub correct: bool,
    /// Machine-readable reason (`ok`, `wrong`, `no_answer`, ...).
    pub reason: String,
    /// The extracted answer (benchmarks only).
    pub extracted: Option<String>,
    /// Why the response could not be scored at all: the environment could
    /// not run on this machine (reason `unavailable`). Such a sample counts
    /// as not scored, like a failed request, never as a 0.
    pub unavailable: Option<String>,
}

impl EvalItem {
    /// An item for a benchmark question.
    pub fn from_bench(item: BenchItem) -> Self {
        Self {
            id: item.id.clone(),
            suite: item.benchmark.name().to_string(),
            group: item.subtask.clone(),
            difficulty: None,
            prompt: item.prompt(),
            target: Target::Bench(item),
        }
    }

    /// An item for an environment instance.
    pub fn from_instance(env: Arc<dyn Environment>, instance: Instance) -> Self {
        Self {
            id: instance.id.clone(),
            suite: ENVS_SUITE.to_string(),
            group: instance.env.clone(),
            difficulty: Some(instance.difficulty),
            prompt: instance.prompt.clone(),
            target: Target::Env {
                env,
                instance: Box::new(instance),
            },
        }
    }

    /// The instance seed (environments only).
    pub fn seed(&self) -> Option<u64> {
        match &self.target {
            Target::Env { instance, .. } => Some(instance.seed),
            Target::Bench(_) => None,
        }
    }

    /// The reference answer shown in reports (benchmarks only).
    pub fn expected(&self) -> Option<&str> {
        match &self.target {
            Target::Bench(b) => Some(&b.target),
            Target::Env { .. } => None,
        }
    }

    /// Score a response.
    pub fn score(&self, response: &str) -> Scored {
        match &self.target {
            Target::Env { env, instance } => from_verdict(env.verify(instance, response)),
            Target::Bench(b) => {
                let (correct, extracted) = b.score(response);
                let reason = match (&extracted, correct) {
                    (_, true) => "ok",
                    (None, _) => "no_answer",
                    (Some(_), false) => "wrong",
                };
                Scored {
                    reward: if correct { 1.0 } else { 0.0 },
                    correct,
                    reason: reason.into(),
                    extracted,
                    unavailable: None,
                }
            }
        }
    }
}

pub(crate) fn from_verdict(v: Verdict) -> Scored {
    Scored {
        reward: v.reward,
        correct: v.correct,
        reason: v.reason.as_str().to_string(),
        extracted: None,
        unavailable: (v.reason == ReasonCode::Unavailable).then_some(v.detail),
    }
}

/// Which environment instances to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSelection {
    /// Environment ids (`all` selects every one).
    pub ids: Vec<String>,
    /// Every environment of these categories.
    pub categories: Vec<Category>,
    /// Inclusive difficulty range; clipped to each environment's range.
    pub difficulties: (u8, u8),
    /// Instances per environment and level.
    pub per_level: u64,
    /// First seed; instance k of a level uses `seed + k`.
    pub seed: u64,
}

impl EnvSelection {
    /// Whether anything is selected.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.categories.is_empty()
    }
}

/// Generate the selected instances, in environment-id, difficulty, seed order.
///
/// # Errors
/// [`Error::Selection`] for an unknown id, or a named environment whose
/// range misses the requested difficulties; [`Error::Env`] if generation fails.
pub fn env_items(registry: &Registry, sel: &EnvSelection) -> Result<Vec<EvalItem>> {
    let all = sel.ids.iter().any(|i| i == "all");
    let mut envs: Vec<Arc<dyn Environment>> = Vec::new();
    for env in registry.iter() {
        let m = env.meta();
        let named = sel.ids.contains(&m.id);
        if all || named || sel.categories.contains(&m.category) {
            if named
                && (sel.difficulties.1 < m.min_difficulty || sel.difficulties.0 > m.max_difficulty)
            {
                return Err(Error::Selection(format!(
                    "environment `{}` supports difficulties {}-{}, not {}-{}",
                    m.id,
                    m.min_difficulty,
                    m.max_difficulty,
                    sel.difficulties.0,
                    sel.difficulties.1
                )));
            }
            envs.push(env.clone());
        }
    }
    for id in &sel.ids {
        if id != "all" && registry.get(id).is_err() {
            return Err(Error::Selection(format!(
                "unknown environment `{id}` (run `resyn envs` to list environments)"
            )));
        }
    }
    let mut items = Vec::new();
    for env in envs {
        let m = env.meta();
        let lo = sel.difficulties.0.max(m.min_difficulty);
        let hi = sel.difficulties.1.min(m.max_difficulty);
        let requests: Vec<(u64, u8)> = (lo..=hi)
            .flat_map(|d| (0..sel.per_level).map(move |k| (sel.seed.wrapping_add(k), d)))
            .collect();
        for inst in env.generate_batch(&requests) {
            items.push(EvalItem::from_instance(env.clone(), inst?));
        }
    }
    Ok(items)
}
