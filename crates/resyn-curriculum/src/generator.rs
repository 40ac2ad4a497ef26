//! [`Generator`]: fresh instances following the controller, outcomes back.
//!
//! Invariants:
//! - Draw `k` of a run (counting generation attempts) takes its randomness
//!   from a SHA-256 of the run seed and `k` alone, so the stream depends on
//!   the run seed, the environments and the outcomes reported, nothing else
//!   (no clock, no hash-map order, no thread timing).
//! - Environment `e`'s `j`-th instance has seed `base(run seed, e) + j`: no
//!   two draws of a run share `(env, seed)`, so no instance id repeats.
//! - A rejected [`Generator::report`] changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use resyn_core::{Environment, Instance, MAX_DIFFICULTY, MIN_DIFFICULTY, Registry, content_hash};
use serde::{Deserialize, Serialize};

use crate::controller::{self, Decision, EnvState, EnvStats, Status};
use crate::random::{seeded, unit};
use crate::{CurriculumConfig, Error, Result};

/// Open groups kept at most; beyond, the oldest is dropped (its later
/// outcomes still count, as unmatched). Bounds memory and state size when
/// a trainer never reports some responses.
pub const MAX_OPEN_GROUPS: usize = 1 << 18;

/// Run-wide settings besides the policy: the seed every draw derives from
/// and the global difficulty bounds (intersected with each environment's
/// range and its `[curriculum.envs.ID]` bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOptions {
    /// Run seed.
    pub seed: u64,
    /// Lowest level of any environment.
    pub min_difficulty: u8,
    /// Highest level of any environment.
    pub max_difficulty: u8,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            min_difficulty: MIN_DIFFICULTY,
            max_difficulty: MAX_DIFFICULTY,
        }
    }
}

/// A verdict on one response, reported back to the curriculum.
///
/// JSON: `{"id"?: "...", "env": "...", "difficulty": 3, "reward": 1.0}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// The instance id as drawn. With it, the outcome joins its instance's
    /// group and an outcome of an instance drawn before the environment's
    /// difficulty last moved is recognised as stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Environment id.
    pub env: String,
    /// The instance's difficulty.
    pub difficulty: u8,
    /// The verifier's reward in `[0, 1]` (not a format-shaped total):
    /// accuracy is the mean reward.
    pub reward: f64,
}

/// What a [`Generator::report`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    /// Outcomes counted.
    pub accepted: usize,
    /// Of those, outcomes of instances drawn before their environment's
    /// difficulty last moved (kept out of decisions).
    pub stale: usize,
    /// Of those, outcomes with no id or an id of no open group.
    pub unmatched: usize,
    /// Groups closed by this report.
    pub groups_closed: usize,
    /// Of those, groups whose rewards were not all equal.
    pub mixed_groups: usize,
    /// Decisions made.
    pub decisions: usize,
}

/// One environment as the run sees it now ([`Generator::snapshot`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvSnapshot {
    /// Environment id.
    pub env: String,
    /// Active, retired or disabled.
    pub status: Status,
    /// Lowest level drawn.
    pub min_difficulty: u8,
    /// Highest level drawn.
    pub max_difficulty: u8,
    /// Centre of the difficulty distribution.
    pub center: f64,
    /// `(level, probability)` of the next draw from this environment.
    pub distribution: Vec<(u8, f64)>,
    /// Accuracy of the last decided window.
    pub accuracy: Option<f64>,
    /// Sampling weight (0 unless active).
    pub weight: f64,
    /// Counters over the run.
    pub stats: EnvStats,
}

/// An instance drawn and not yet fully reported: its group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OpenGroup {
    /// Draw number (the order groups are dropped in when too many are open).
    pub draw: u64,
    pub id: String,
    pub env: usize,
    pub difficulty: u8,
    /// The environment's epoch when drawn.
    pub epoch: u32,
    /// Outcomes so far, and their lowest and highest reward (0 while none).
    pub n: u32,
    pub min: f64,
    pub max: f64,
}

/// Online instances for a training run, following the curriculum.
///
/// ```
/// use resyn_curriculum::{CurriculumConfig, Generator, Outcome, RunOptions};
///
/// let registry = resyn_envs::registry();
/// let mut generator = Generator::new(registry, CurriculumConfig::default(), RunOptions::default())?;
/// let batch = generator.draw(4)?;
/// let outcomes: Vec<Outcome> = batch
///     .iter()
///     .map(|i| Outcome { id: Some(i.id.clone()), env: i.env.clone(), difficulty: i.difficulty, reward: 1.0 })
///     .collect();
/// generator.report(&outcomes)?;
/// # Ok::<(), resyn_curriculum::Error>(())
/// ```
pub struct Generator {
    pub(crate) registry: Registry,
    /// In environment id order, as `envs`.
    pub(crate) handles: Vec<Arc<dyn Environment>>,
    pub(crate) config: CurriculumConfig,
    pub(crate) run: RunOptions,
    pub(crate) envs: Vec<EnvState>,
    /// Index of each environment id in `envs`.
    pub(crate) index: BTreeMap<String, usize>,
    pub(crate) draws: u64,
    pub(crate) outcomes: u64,
    pub(crate) next_seq: u64,
    /// Open groups by draw number, and the draw number of each id.
    pub(crate) open: BTreeMap<u64, OpenGroup>,
    pub(crate) open_ids: BTreeMap<String, u64>,
    pub(crate) decisions: Vec<Decision>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("registry", &self.registry)
            .field("run", &self.run)
            .field("draws", &self.draws)
            .field("outcomes", &self.outcomes)
            .finish_non_exhaustive()
    }
}

/// One planned draw.
struct Plan {
    env: usize,
    difficulty: u8,
    seed: u64,
    draw: u64,
}

impl Generator {
    /// A new run over every environment of `registry`.
    ///
    /// An environment whose range does not meet the run's and its own
    /// `[curriculum.envs.ID]` bounds is disabled (a logged decision).
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid config or a `[curriculum.envs.ID]`
    /// naming no environment of the registry; [`Error::NoEnvironments`]
    /// for an empty registry.
    pub fn new(registry: Registry, config: CurriculumConfig, run: RunOptions) -> Result<Self> {
        config.validate()?;
        if registry.is_empty() {
            return Err(Error::NoEnvironments);
        }
        for id in config.envs.keys() {
            if registry.get(id).is_err() {
                return Err(Error::config(
                    format!("envs.{id}"),
                    format!("unknown environment `{id}`"),
                ));
            }
        }
        let mut g = Self::empty(registry, config, run);
        let mut disabled = Vec::new();
        for (i, env) in g.handles.iter().enumerate() {
            let m = env.meta();
            let o = g.config.envs.get(&m.id).cloned().unwrap_or_default();
            let lo = m
                .min_difficulty
                .max(run.min_difficulty)
                .max(o.min.unwrap_or(MIN_DIFFICULTY));
            let hi = m
                .max_difficulty
                .min(run.max_difficulty)
                .min(o.max.unwrap_or(MAX_DIFFICULTY));
            let start = o.start.unwrap_or(g.config.start);
            if lo > hi {
                disabled.push((
                    i,
                    format!(
                        "supports difficulty {}-{}; the run asks for {}-{}",
                        m.min_difficulty,
                        m.max_difficulty,
                        run.min_difficulty.max(o.min.unwrap_or(MIN_DIFFICULTY)),
                        run.max_difficulty.min(o.max.unwrap_or(MAX_DIFFICULTY)),
                    ),
                ));
                g.envs.push(EnvState::new(
                    m.id.clone(),
                    m.min_difficulty,
                    m.max_difficulty,
                    start,
                ));
            } else {
                g.envs.push(EnvState::new(m.id.clone(), lo, hi, start));
            }
        }
        for (i, reason) in disabled {
            let p = g.envs[i].disable(reason);
            g.log(i, p);
        }
        Ok(g)
    }

    /// A generator with no environment state yet (for `new` and restore).
    pub(crate) fn empty(registry: Registry, config: CurriculumConfig, run: RunOptions) -> Self {
        let handles: Vec<Arc<dyn Environment>> = registry.iter().cloned().collect();
        let index = handles
            .iter()
            .enumerate()
            .map(|(i, e)| (e.meta().id.clone(), i))
            .collect();
        Self {
            registry,
            handles,
            config,
            run,
            envs: Vec::new(),
            index,
            draws: 0,
            outcomes: 0,
            next_seq: 0,
            open: BTreeMap::new(),
            open_ids: BTreeMap::new(),
            decisions: Vec::new(),
        }
    }

    /// The policy parameters.
    pub fn config(&self) -> &CurriculumConfig {
        &self.config
    }

    /// The run seed and global bounds.
    pub fn run_options(&self) -> RunOptions {
        self.run
    }

    /// The environments of the run.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Instances drawn so far (generation attempts included): the run's
    /// position in its instance stream.
    pub fn position(&self) -> u64 {
        self.draws
    }

    /// Draw `n` fresh instances, in order.
    ///
    /// A generation error does not end the draw: the slot is drawn again
    /// (another environment, level or seed), and an environment failing
    /// `max_generation_failures` times in a row is disabled.
    ///
    /// # Errors
    /// [`Error::Exhausted`] when every environment is retired or disabled;
    /// [`Error::Unavailable`] when an environment cannot run on this machine.
    /// The generation failures and draws made before it stay counted.
    pub fn draw(&mut self, n: usize) -> Result<Vec<Instance>> {
        let mut out: Vec<Option<Instance>> = vec![None; n];
        let mut todo: Vec<usize> = (0..n).collect();
        while !todo.is_empty() {
            let plans = todo
                .iter()
                .map(|_| self.plan())
                .collect::<Result<Vec<Plan>>>()?;
            let results = self.generate(&plans);
            let mut again = Vec::new();
            for ((slot, plan), result) in todo.iter().zip(&plans).zip(results) {
                match result {
                    Ok(inst) => {
                        let state = &mut self.envs[plan.env];
                        state.failures = 0;
                        state.stats.drawn += 1;
                        self.open_group(plan, &inst);
                        out[*slot] = Some(inst);
                    }
                    Err(e @ resyn_core::Error::Unavailable { .. }) => {
                        return Err(Error::Unavailable(e));
                    }
                    Err(e) => {
                        let limit = self.config.max_generation_failures;
                        let state = &mut self.envs[plan.env];
                        state.failures += 1;
                        if state.failures >= limit && state.status == Status::Active {
                            let reason = format!(
                                "{} generation failures in a row; last: {e}",
                                state.failures
                            );
                            let p = state.disable(reason);
                            self.log(plan.env, p);
                        }
                        again.push(*slot);
                    }
                }
            }
            todo = again;
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Choose the environment, level and seed of the next draw.
    fn plan(&mut self) -> Result<Plan> {
        let k = self.draws;
        let mut rng = seeded(b"resyn-curriculum-draw-v1", &[self.run.seed, k]);
        let config = &self.config;
        let weights = self.envs.iter().map(|e| e.weight(config));
        let env = controller::pick(weights, unit(&mut rng)).ok_or_else(|| {
            Error::Exhausted(format!(
                "{} retired, {} disabled",
                self.count(Status::Retired),
                self.count(Status::Disabled)
            ))
        })?;
        let dist = self.envs[env].distribution(config);
        let level = controller::pick(dist.iter().map(|x| x.1), unit(&mut rng))
            // The nearest level always has weight (spread > 0.5).
            .map_or(self.envs[env].lo, |i| dist[i].0);
        let state = &mut self.envs[env];
        let seed = seed_base(self.run.seed, &state.id).wrapping_add(state.seeds);
        state.seeds += 1;
        self.draws += 1;
        Ok(Plan {
            env,
            difficulty: level,
            seed,
            draw: k,
        })
    }

    /// Generate planned instances, batched per environment (sandboxed
    /// environments pay their per-call overhead once), results in plan order.
    fn generate(&self, plans: &[Plan]) -> Vec<resyn_core::Result<Instance>> {
        let mut by_env: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, p) in plans.iter().enumerate() {
            by_env.entry(p.env).or_default().push(i);
        }
        let mut results: Vec<Option<resyn_core::Result<Instance>>> =
            plans.iter().map(|_| None).collect();
        for (env, idx) in by_env {
            let requests: Vec<(u64, u8)> = idx
                .iter()
                .map(|&i| (plans[i].seed, plans[i].difficulty))
                .collect();
            let got = self.handles[env].generate_batch(&requests);
            for (i, r) in idx.into_iter().zip(got) {
                results[i] = Some(r);
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(resyn_core::Error::Backend(
                        "environment returned fewer instances than requested".into(),
                    ))
                })
            })
            .collect()
    }

    fn open_group(&mut self, plan: &Plan, inst: &Instance) {
        if self.open.len() >= MAX_OPEN_GROUPS
            && let Some((_, oldest)) = self.open.pop_first()
        {
            self.open_ids.remove(&oldest.id);
        }
        self.open_ids.insert(inst.id.clone(), plan.draw);
        self.open.insert(
            plan.draw,
            OpenGroup {
                draw: plan.draw,
                id: inst.id.clone(),
                env: plan.env,
                difficulty: inst.difficulty,
                epoch: self.envs[plan.env].epoch,
                n: 0,
                min: 0.0,
                max: 0.0,
            },
        );
    }

    /// Report verdicts, in order; each may trigger a decision.
    ///
    /// # Errors
    /// [`Error::UnknownEnvironment`] or [`Error::InvalidOutcome`] (a reward
    /// outside `[0, 1]`, a difficulty the environment does not support, an
    /// id drawn from another environment or level), naming the outcome;
    /// nothing of the batch is counted then.
    pub fn report(&mut self, outcomes: &[Outcome]) -> Result<ReportSummary> {
        let envs = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| self.check(i, o))
            .collect::<Result<Vec<usize>>>()?;
        let mut summary = ReportSummary::default();
        for (o, env) in outcomes.iter().zip(envs) {
            self.outcomes += 1;
            summary.accepted += 1;
            let mut current = true;
            match o.id.as_ref().and_then(|id| self.open_ids.get(id).copied()) {
                Some(draw) => {
                    let group_size = self.config.group_size;
                    let closed = self.open.get_mut(&draw).and_then(|g| {
                        current = g.epoch == self.envs[env].epoch;
                        if g.n == 0 {
                            (g.min, g.max) = (o.reward, o.reward);
                        } else {
                            g.min = g.min.min(o.reward);
                            g.max = g.max.max(o.reward);
                        }
                        g.n += 1;
                        (g.n >= group_size).then_some(g.min < g.max)
                    });
                    if let Some(mixed) = closed {
                        if let Some(g) = self.open.remove(&draw) {
                            self.open_ids.remove(&g.id);
                        }
                        let stats = &mut self.envs[env].stats;
                        stats.groups += 1;
                        summary.groups_closed += 1;
                        if mixed {
                            stats.mixed_groups += 1;
                            summary.mixed_groups += 1;
                        }
                    }
                }
                None => summary.unmatched += 1,
            }
            if !current {
                summary.stale += 1;
            }
            self.envs[env].observe(o.reward, current);
            if let Some(p) = self.envs[env].decide(&self.config) {
                self.log(env, p);
                summary.decisions += 1;
            }
        }
        Ok(summary)
    }

    /// Validate one outcome; its environment's index.
    fn check(&self, i: usize, o: &Outcome) -> Result<usize> {
        let env = *self
            .index
            .get(&o.env)
            .ok_or_else(|| Error::UnknownEnvironment {
                index: i,
                env: o.env.clone(),
            })?;
        if !o.reward.is_finite() || !(0.0..=1.0).contains(&o.reward) {
            return Err(Error::invalid(
                i,
                format!("reward {} is not in [0, 1]", o.reward),
            ));
        }
        let m = self.handles[env].meta();
        if !(m.min_difficulty..=m.max_difficulty).contains(&o.difficulty) {
            return Err(Error::invalid(
                i,
                format!(
                    "difficulty {} is outside {}..={} for environment `{}`",
                    o.difficulty, m.min_difficulty, m.max_difficulty, m.id
                ),
            ));
        }
        if let Some(g) =
            o.id.as_ref()
                .and_then(|id| self.open_ids.get(id))
                .and_then(|d| self.open.get(d))
            && (g.env != env || g.difficulty != o.difficulty)
        {
            return Err(Error::invalid(
                i,
                format!(
                    "instance {} was drawn from `{}` at difficulty {}, not `{}` at {}",
                    g.id, self.envs[g.env].id, g.difficulty, o.env, o.difficulty
                ),
            ));
        }
        Ok(env)
    }

    /// Append a decision to the log, with the run-wide context.
    pub(crate) fn log(&mut self, env: usize, p: controller::Pending) {
        let state = &self.envs[env];
        self.decisions.push(Decision {
            seq: self.next_seq,
            draws: self.draws,
            outcomes: self.outcomes,
            env: state.id.clone(),
            action: p.action,
            samples: p.samples,
            accuracy: p.accuracy,
            from: p.from,
            to: state.center,
            weight: state.weight(&self.config),
            reason: p.reason,
        });
        self.next_seq += 1;
    }

    /// The decisions made since the last call, in order (write them as
    /// JSON Lines with [`crate::write_decisions`]).
    pub fn take_decisions(&mut self) -> Vec<Decision> {
        std::mem::take(&mut self.decisions)
    }

    /// Every environment's current state, in id order.
    pub fn snapshot(&self) -> Vec<EnvSnapshot> {
        self.envs
            .iter()
            .map(|e| EnvSnapshot {
                env: e.id.clone(),
                status: e.status,
                min_difficulty: e.lo,
                max_difficulty: e.hi,
                center: e.center,
                distribution: if e.status == Status::Active {
                    e.distribution(&self.config)
                } else {
                    Vec::new()
                },
                accuracy: e.accuracy,
                weight: e.weight(&self.config),
                stats: e.stats.clone(),
            })
            .collect()
    }

    fn count(&self, s: Status) -> usize {
        self.envs.iter().filter(|e| e.status == s).count()
    }
}

/// The first instance seed of an environment in a run: 52 bits of a hash
/// of the run seed and the environment id, so seeds stay exact in JSON
/// readers that use doubles for a long run (base + count < 2^53).
fn seed_base(run_seed: u64, env: &str) -> u64 {
    let h = content_hash(&[
        b"resyn-curriculum-seed-v1",
        &run_seed.to_le_bytes(),
        env.as_bytes(),
    ]);
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[..8]);
    u64::from_le_bytes(b) >> 12
}
