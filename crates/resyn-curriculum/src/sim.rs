//! A simulated learning policy, to compare curricula without a GPU.
//!
//! The model (deliberately small, stated in full so its conclusions can be
//! weighed):
//! - Environment `e` has a skill `s_e`; a response to an instance of
//!   difficulty `d` is correct with probability `logistic(s_e - d)`.
//! - Each prompt gets a GRPO group of `group_size` responses. A group with
//!   `k` correct answers moves `s_e` by `rate_e * 2 p (1 - p)` with
//!   `p = k / G`: the mean absolute advantage of the group (Dr. GRPO's
//!   unnormalised advantage), zero when all answers agree. So skill grows
//!   only from groups with a learning signal, most at `p = 1/2`.
//! - Skill never exceeds the environment's ceiling `c_e` (what the model
//!   can learn of it). Updates apply after each step (batch).
//! - Initial skills, ceilings and rates are drawn from the scenario seed;
//!   every strategy meets the same environments, the same budget
//!   (`steps * prompts_per_step * group_size` responses) and the same
//!   stream of random numbers for answering.
//!
//! Strategies: [`Strategy::Uniform`] (every environment and level alike),
//! [`Strategy::Rlve`] (RLVE's promote-only rule, with its published
//! defaults in [`RlveParams::default`]) and [`Strategy::Resyn`] (this
//! crate's [`Generator`], driven exactly as a trainer drives it).

use std::sync::Arc;

use resyn_core::{
    Category, EnvMeta, Environment, Instance, ReasonCode, Registry, Rng, Source, Verdict,
    instance_id,
};
use serde::Serialize;

use crate::random::{seeded, unit};
use crate::{CurriculumConfig, Generator, Outcome, Result, RunOptions};

/// Highest level of the simulated environments (they support 1..=10).
const TOP: u8 = 10;

/// Top-level accuracy at which an environment counts as saturated (its
/// samples are wasted).
pub const SATURATED_ACCURACY: f64 = 0.95;

/// The simulated run: environments, budget and seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scenario {
    /// Seed of the environments' parameters and of the answers.
    pub seed: u64,
    /// Number of environments.
    pub envs: usize,
    /// Training steps.
    pub steps: usize,
    /// Prompts drawn per step.
    pub prompts_per_step: usize,
    /// Responses per prompt (GRPO's G).
    pub group_size: u32,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            seed: 0,
            envs: 16,
            steps: 300,
            prompts_per_step: 64,
            group_size: 8,
        }
    }
}

/// RLVE's rule: each environment draws levels uniformly from the
/// `window` levels up to its upper level `h` (starting at 1); after at
/// least `min_prompts * G` responses at level `h` since the last check,
/// `h` goes up by one if their accuracy is at least `threshold`; the count
/// then restarts. Environments are drawn uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RlveParams {
    /// Accuracy at `h` that promotes.
    pub threshold: f64,
    /// Prompts at `h` per check.
    pub min_prompts: u64,
    /// Levels drawn from (`h - window + 1 ..= h`).
    pub window: u8,
}

impl Default for RlveParams {
    /// RLVE's defaults (`min_metric_to_increase_difficulty = 0.9`,
    /// `min_prompts_before_difficulty_check = 8`,
    /// `difficulty_sliding_window_size = 4`).
    fn default() -> Self {
        Self {
            threshold: 0.9,
            min_prompts: 8,
            window: 4,
        }
    }
}

/// A way of choosing instances.
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    /// Environments and levels uniformly at random.
    Uniform,
    /// RLVE's promote-only rule.
    Rlve(RlveParams),
    /// resyn's controller with this config (its `group_size` is set to the
    /// scenario's).
    Resyn(CurriculumConfig),
}

impl Strategy {
    /// Short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Uniform => "uniform",
            Self::Rlve(_) => "rlve",
            Self::Resyn(_) => "resyn",
        }
    }
}

/// One environment's hidden parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SimEnvParams {
    /// Skill at the start.
    pub initial_skill: f64,
    /// Most skill the policy can reach.
    pub ceiling: f64,
    /// Skill gained per unit of mean absolute advantage.
    pub rate: f64,
}

/// Measurements of one step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepRecord {
    /// Fraction of the step's groups with both right and wrong answers.
    pub signal_fraction: f64,
    /// Mean skill over environments after the step.
    pub mean_skill: f64,
    /// Fraction of the step's prompts drawn from saturated environments.
    pub wasted_fraction: f64,
}

/// The outcome of one simulated run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimResult {
    /// [`Strategy::name`].
    pub strategy: &'static str,
    /// Fraction of all groups with a learning signal (0 < k < G).
    pub signal_fraction: f64,
    /// Mean skill over environments at the start.
    pub initial_skill: f64,
    /// Mean skill over environments at the end.
    pub final_skill: f64,
    /// Fraction of all prompts drawn from saturated environments (top
    /// level solved with probability >= [`SATURATED_ACCURACY`]).
    pub wasted_fraction: f64,
    /// Per-step measurements.
    pub steps: Vec<StepRecord>,
}

/// The environments of a scenario: initial skill uniform in [-2, 14]
/// (from hopeless at level 1 to saturated at level 10), ceiling that plus
/// a headroom uniform in [0.5, 6], rate uniform in [0.005, 0.015].
pub fn environments(scenario: &Scenario) -> Vec<SimEnvParams> {
    let mut rng = seeded(b"resyn-sim-envs-v1", &[scenario.seed]);
    (0..scenario.envs)
        .map(|_| {
            let initial_skill = -2.0 + 16.0 * unit(&mut rng);
            let ceiling = initial_skill + 0.5 + 5.5 * unit(&mut rng);
            let rate = 0.005 + 0.01 * unit(&mut rng);
            SimEnvParams {
                initial_skill,
                ceiling,
                rate,
            }
        })
        .collect()
}

/// Run one strategy on a scenario.
///
/// # Errors
/// Errors of the [`Generator`] (for [`Strategy::Resyn`]), e.g. an invalid
/// config.
pub fn simulate(scenario: &Scenario, strategy: &Strategy) -> Result<SimResult> {
    let params = environments(scenario);
    let mut skill: Vec<f64> = params.iter().map(|p| p.initial_skill).collect();
    let mut sampler = Sampler::new(scenario, strategy)?;
    let mut answers = seeded(b"resyn-sim-answers-v1", &[scenario.seed]);
    let g = scenario.group_size;
    let saturated_skill = f64::from(TOP) + (SATURATED_ACCURACY / (1.0 - SATURATED_ACCURACY)).ln();
    let (mut groups, mut mixed, mut wasted) = (0u64, 0u64, 0u64);
    let mut steps = Vec::with_capacity(scenario.steps);
    for _ in 0..scenario.steps {
        let draws = sampler.draw(scenario.prompts_per_step)?;
        let mut gains = vec![0.0; params.len()];
        let mut results = Vec::with_capacity(draws.len());
        let (mut step_mixed, mut step_wasted) = (0u64, 0u64);
        for d in draws {
            let s = skill[d.env];
            if s >= saturated_skill {
                step_wasted += 1;
            }
            let p = 1.0 / (1.0 + (f64::from(d.difficulty) - s).exp());
            let correct: Vec<bool> = (0..g).map(|_| unit(&mut answers) < p).collect();
            let k = correct.iter().filter(|&&c| c).count();
            let frac = k as f64 / f64::from(g);
            if k > 0 && k < g as usize {
                step_mixed += 1;
            }
            gains[d.env] += params[d.env].rate * 2.0 * frac * (1.0 - frac);
            results.push((d, correct));
        }
        sampler.report(&results)?;
        for (i, gain) in gains.into_iter().enumerate() {
            skill[i] = (skill[i] + gain).min(params[i].ceiling);
        }
        let n = results.len() as u64;
        groups += n;
        mixed += step_mixed;
        wasted += step_wasted;
        steps.push(StepRecord {
            signal_fraction: step_mixed as f64 / n as f64,
            mean_skill: mean(&skill),
            wasted_fraction: step_wasted as f64 / n as f64,
        });
    }
    Ok(SimResult {
        strategy: strategy.name(),
        signal_fraction: mixed as f64 / groups as f64,
        initial_skill: mean(&params.iter().map(|p| p.initial_skill).collect::<Vec<_>>()),
        final_skill: mean(&skill),
        wasted_fraction: wasted as f64 / groups as f64,
        steps,
    })
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// A prompt chosen by a strategy.
struct Draw {
    env: usize,
    difficulty: u8,
    id: Option<String>,
}

enum Sampler {
    Uniform {
        envs: usize,
        rng: Rng,
    },
    Rlve {
        params: RlveParams,
        group_size: u32,
        rng: Rng,
        /// Per environment: upper level, responses and correct ones at it.
        upper: Vec<u8>,
        n: Vec<u64>,
        correct: Vec<u64>,
    },
    Resyn(Box<Generator>),
}

impl Sampler {
    fn new(scenario: &Scenario, strategy: &Strategy) -> Result<Self> {
        let rng = seeded(b"resyn-sim-sampler-v1", &[scenario.seed]);
        Ok(match strategy {
            Strategy::Uniform => Self::Uniform {
                envs: scenario.envs,
                rng,
            },
            Strategy::Rlve(params) => Self::Rlve {
                params: *params,
                group_size: scenario.group_size,
                rng,
                upper: vec![1; scenario.envs],
                n: vec![0; scenario.envs],
                correct: vec![0; scenario.envs],
            },
            Strategy::Resyn(config) => {
                let mut registry = Registry::new();
                for i in 0..scenario.envs {
                    // Ids are distinct by construction (`sim000`, `sim001`, ...).
                    registry
                        .register(Arc::new(SimEnv::new(i)))
                        .expect("distinct simulated environment ids");
                }
                let config = CurriculumConfig {
                    group_size: scenario.group_size,
                    ..config.clone()
                };
                let run = RunOptions {
                    seed: scenario.seed,
                    ..RunOptions::default()
                };
                Self::Resyn(Box::new(Generator::new(registry, config, run)?))
            }
        })
    }

    fn draw(&mut self, n: usize) -> Result<Vec<Draw>> {
        Ok(match self {
            Self::Uniform { envs, rng } => (0..n)
                .map(|_| Draw {
                    env: rng.index(*envs),
                    difficulty: rng.range(1, usize::from(TOP)) as u8,
                    id: None,
                })
                .collect(),
            Self::Rlve {
                params, rng, upper, ..
            } => (0..n)
                .map(|_| {
                    let env = rng.index(upper.len());
                    let h = usize::from(upper[env]);
                    let lo = h.saturating_sub(usize::from(params.window) - 1).max(1);
                    Draw {
                        env,
                        difficulty: rng.range(lo, h) as u8,
                        id: None,
                    }
                })
                .collect(),
            Self::Resyn(generator) => generator
                .draw(n)?
                .into_iter()
                .map(|inst| Draw {
                    env: SimEnv::index_of(&inst.env),
                    difficulty: inst.difficulty,
                    id: Some(inst.id),
                })
                .collect(),
        })
    }

    fn report(&mut self, results: &[(Draw, Vec<bool>)]) -> Result<()> {
        match self {
            Self::Uniform { .. } => {}
            Self::Rlve {
                params,
                group_size,
                upper,
                n,
                correct,
                ..
            } => {
                for (d, answers) in results {
                    if d.difficulty == upper[d.env] {
                        n[d.env] += answers.len() as u64;
                        correct[d.env] += answers.iter().filter(|&&c| c).count() as u64;
                    }
                }
                // RLVE checks every environment once per batch.
                for e in 0..upper.len() {
                    if n[e] >= params.min_prompts * u64::from(*group_size) {
                        if correct[e] as f64 / n[e] as f64 >= params.threshold {
                            upper[e] = (upper[e] + 1).min(TOP);
                        }
                        (n[e], correct[e]) = (0, 0);
                    }
                }
            }
            Self::Resyn(generator) => {
                let outcomes: Vec<Outcome> = results
                    .iter()
                    .flat_map(|(d, answers)| {
                        answers.iter().map(|&c| Outcome {
                            id: d.id.clone(),
                            env: SimEnv::name(d.env),
                            difficulty: d.difficulty,
                            reward: if c { 1.0 } else { 0.0 },
                        })
                    })
                    .collect();
                generator.report(&outcomes)?;
            }
        }
        Ok(())
    }
}

/// A stand-in environment: instances carry only their coordinates.
struct SimEnv {
    meta: EnvMeta,
}

impl SimEnv {
    fn new(i: usize) -> Self {
        Self {
            meta: EnvMeta {
                id: Self::name(i),
                version: 1,
                category: Category::Math,
                description: "simulated".into(),
                min_difficulty: 1,
                max_difficulty: TOP,
                source: Source::Native,
                calibrated: None,
            },
        }
    }

    fn name(i: usize) -> String {
        format!("sim{i:03}")
    }

    fn index_of(id: &str) -> usize {
        // Only ids made by `name` reach here.
        id[3..].parse().unwrap_or(0)
    }
}

impl Environment for SimEnv {
    fn meta(&self) -> &EnvMeta {
        &self.meta
    }

    fn generate(&self, seed: u64, difficulty: u8) -> resyn_core::Result<Instance> {
        self.check_difficulty(difficulty)?;
        Ok(Instance {
            id: instance_id(&self.meta.id, self.meta.version, seed, difficulty),
            env: self.meta.id.clone(),
            env_version: self.meta.version,
            seed,
            difficulty,
            prompt: String::new(),
            data: serde_json::Value::Null,
            reference: String::new(),
        })
    }

    fn verify(&self, _: &Instance, _: &str) -> Verdict {
        Verdict::zero(ReasonCode::InvalidInstance, "simulated environment")
    }
}
