//! Shared fixtures: a small registry, a deterministic simulated policy,
//! and a training loop that records its stream.

use std::sync::Arc;

use resyn_core::{
    Category, EnvMeta, Environment, Instance, Registry, Source, Verdict, content_hash,
};
use resyn_curriculum::{CurriculumConfig, Generator, Outcome, RunOptions, write_decisions};

/// Responses per prompt in the tests.
pub(crate) const G: u32 = 4;
/// Prompts per training step in the tests.
pub(crate) const BATCH: usize = 12;

/// Four native environments.
pub(crate) fn registry() -> Registry {
    let all = resyn_envs::registry();
    let mut r = Registry::new();
    for id in ["maze", "sudoku", "tower_of_hanoi", "knapsack"] {
        r.register(all.get(id).unwrap().clone()).unwrap();
    }
    r
}

pub(crate) fn config() -> CurriculumConfig {
    CurriculumConfig {
        min_samples: 16,
        group_size: G,
        ..CurriculumConfig::default()
    }
}

pub(crate) fn generator(seed: u64) -> Generator {
    Generator::new(
        registry(),
        config(),
        RunOptions {
            seed,
            ..RunOptions::default()
        },
    )
    .unwrap()
}

/// A simulated policy: response `r` to an instance is right with
/// probability `(11 - difficulty) / 10`, decided by a hash of the id and
/// `r`, so outcomes are a pure function of the instance.
pub(crate) fn reward(inst: &Instance, r: u32) -> f64 {
    let h = content_hash(&[inst.id.as_bytes(), &r.to_le_bytes()])[0];
    if u32::from(h) * 10 < 256 * (11 - u32::from(inst.difficulty)) {
        1.0
    } else {
        0.0
    }
}

/// The G outcomes of each instance.
pub(crate) fn outcomes(batch: &[Instance]) -> Vec<Outcome> {
    batch
        .iter()
        .flat_map(|inst| {
            (0..G).map(move |r| Outcome {
                id: Some(inst.id.clone()),
                env: inst.env.clone(),
                difficulty: inst.difficulty,
                reward: reward(inst, r),
            })
        })
        .collect()
}

/// One training step: draw, "train", report. Returns the step's record:
/// the batch and the decisions it caused, as JSON (one line).
pub(crate) fn step(g: &mut Generator) -> String {
    let batch = g.draw(BATCH).unwrap();
    g.report(&outcomes(&batch)).unwrap();
    let mut log = Vec::new();
    write_decisions(&g.take_decisions(), &mut log).unwrap();
    format!(
        "{}\t{}",
        serde_json::to_string(&batch).unwrap(),
        String::from_utf8(log).unwrap().replace('\n', " ")
    )
}

/// An environment whose generator fails for every seed divisible by
/// `fail_every` (all seeds with 1).
pub(crate) struct Flaky {
    pub meta: EnvMeta,
    pub fail_every: u64,
}

impl Flaky {
    pub(crate) fn new(id: &str, fail_every: u64) -> Arc<Self> {
        Arc::new(Self {
            meta: EnvMeta {
                id: id.into(),
                version: 1,
                category: Category::Math,
                description: "test".into(),
                min_difficulty: 1,
                max_difficulty: 10,
                source: Source::Python,
                calibrated: None,
            },
            fail_every,
        })
    }
}

impl Environment for Flaky {
    fn meta(&self) -> &EnvMeta {
        &self.meta
    }

    fn generate(&self, seed: u64, difficulty: u8) -> resyn_core::Result<Instance> {
        if seed.is_multiple_of(self.fail_every) {
            return Err(resyn_core::Error::Generation {
                env: self.meta.id.clone(),
                seed,
                difficulty,
                source: "ValueError: flaky".into(),
            });
        }
        Ok(Instance {
            id: resyn_core::instance_id(&self.meta.id, 1, seed, difficulty),
            env: self.meta.id.clone(),
            env_version: 1,
            seed,
            difficulty,
            prompt: format!("task {seed}"),
            data: serde_json::Value::Null,
            reference: String::new(),
        })
    }

    fn verify(&self, _: &Instance, _: &str) -> Verdict {
        Verdict::wrong("test")
    }
}
