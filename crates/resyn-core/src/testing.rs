//! Conformance harness for environments (feature `testing`).
//!
//! [`Conformance::run`] sweeps seeds × difficulties and panics with a precise
//! message on the first violated guarantee:
//! - generation succeeds, is deterministic (byte-identical JSON twice) and
//!   fills `id`/`env`/`env_version`/`seed`/`difficulty` correctly;
//! - the prompt carries the `<answer>` instruction;
//! - the reference verifies to 1.0;
//! - every [standard probe](crate::probes) and every env-specific wrong answer
//!   scores 0 (binary envs) — unless the `acceptable` oracle says the answer
//!   is legitimately correct (e.g. another instance's answer that happens to
//!   solve this one too);
//! - rewards are in `[0, 1]` and `correct == (reward == 1.0)`;
//! - out-of-range difficulties are errors, not panics.

use std::ops::RangeInclusive;

use crate::probes::{reference_answer, standard_probes};
use crate::{Environment, Instance, Rng, Verdict, wrap_answer};

type WrongFn<'a> = Box<dyn Fn(&Instance, &mut Rng) -> Vec<String> + 'a>;
type AcceptFn<'a> = Box<dyn Fn(&Instance, &str) -> bool + 'a>;

/// A configured conformance run.
pub struct Conformance<'a> {
    env: &'a dyn Environment,
    seeds: u64,
    difficulties: RangeInclusive<u8>,
    wrong: WrongFn<'a>,
    acceptable: AcceptFn<'a>,
    partial: bool,
    others: usize,
}

/// Counts from a passing run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Instances generated and checked.
    pub instances: usize,
    /// Wrong answers (probes + env-specific) that scored 0.
    pub rejected: usize,
    /// Probes skipped because the oracle said they are legitimately correct.
    pub legit: usize,
}

impl<'a> Conformance<'a> {
    /// Defaults: 20 seeds, every difficulty, no env-specific wrong answers,
    /// acceptance only of answers equal to the reference (modulo whitespace).
    pub fn new(env: &'a dyn Environment) -> Self {
        let m = env.meta();
        Self {
            env,
            seeds: 20,
            difficulties: m.min_difficulty..=m.max_difficulty,
            wrong: Box::new(|_, _| Vec::new()),
            acceptable: Box::new(|i, a| same_text(reference_answer(i), a)),
            partial: false,
            others: 2,
        }
    }

    /// Number of seeds per difficulty.
    pub fn seeds(mut self, n: u64) -> Self {
        self.seeds = n;
        self
    }

    /// Difficulties to sweep.
    pub fn difficulties(mut self, d: RangeInclusive<u8>) -> Self {
        self.difficulties = d;
        self
    }

    /// Env-specific wrong answers (bare answer text, wrapped in tags by the
    /// harness), e.g. one-step mutations of the reference. Each must score 0
    /// unless `acceptable` says otherwise.
    pub fn wrong(mut self, f: impl Fn(&Instance, &mut Rng) -> Vec<String> + 'a) -> Self {
        self.wrong = Box::new(f);
        self
    }

    /// Independent oracle: is this bare answer text legitimately correct for
    /// the instance? Needed for tasks with many valid answers.
    pub fn acceptable(mut self, f: impl Fn(&Instance, &str) -> bool + 'a) -> Self {
        self.acceptable = Box::new(f);
        self
    }

    /// Allow rewards strictly between 0 and 1 (documented partial credit).
    pub fn partial_credit(mut self) -> Self {
        self.partial = true;
        self
    }

    /// Run every check; panics with a precise message on the first failure.
    pub fn run(self) -> Report {
        let env = self.env;
        let id = env.meta().id.clone();
        let mut report = Report::default();
        for bad in [0u8, env.meta().max_difficulty.saturating_add(1)] {
            assert!(
                env.generate(0, bad).is_err(),
                "{id}: difficulty {bad} should be rejected"
            );
        }
        for d in self.difficulties.clone() {
            let instances: Vec<Instance> = (0..self.seeds)
                .map(|seed| self.generate_checked(seed, d))
                .collect();
            let mut rng = Rng::from_seed(u64::from(d));
            for (k, inst) in instances.iter().enumerate() {
                report.instances += 1;
                let v = env.verify(inst, &inst.reference);
                self.check_verdict(inst, "reference", &v);
                assert!(
                    v.correct,
                    "{id} d{d} seed {}: reference scored {:?}\nprompt:\n{}\nreference:\n{}",
                    inst.seed, v, inst.prompt, inst.reference
                );
                let others: Vec<&Instance> = (1..=self.others)
                    .map(|o| &instances[(k + o) % instances.len()])
                    .collect();
                let mut probes: Vec<(String, String)> = standard_probes(inst, &others)
                    .into_iter()
                    .map(|p| (p.name.to_string(), p.response))
                    .collect();
                for w in (self.wrong)(inst, &mut rng) {
                    probes.push(("env_specific_wrong".into(), wrap_answer(&w)));
                }
                for (name, response) in probes {
                    let v = env.verify(inst, &response);
                    self.check_verdict(inst, &name, &v);
                    if v.reward > 0.0 {
                        let answer = crate::extract_answer(&response, &Default::default())
                            .map(|a| a.text.trim())
                            .unwrap_or("");
                        assert!(
                            (self.acceptable)(inst, answer),
                            "{id} d{d} seed {}: probe `{name}` scored {:?}\nresponse:\n{response}\nreference:\n{}",
                            inst.seed,
                            v,
                            inst.reference
                        );
                        report.legit += 1;
                    } else {
                        report.rejected += 1;
                    }
                }
            }
        }
        report
    }

    fn generate_checked(&self, seed: u64, d: u8) -> Instance {
        let env = self.env;
        let m = env.meta();
        let a = env
            .generate(seed, d)
            .unwrap_or_else(|e| panic!("{}: generate({seed}, {d}) failed: {e}", m.id));
        let b = env
            .generate(seed, d)
            .unwrap_or_else(|e| panic!("{}: generate({seed}, {d}) failed: {e}", m.id));
        let (ja, jb) = (
            serde_json::to_string(&a).expect("serialize instance"),
            serde_json::to_string(&b).expect("serialize instance"),
        );
        assert_eq!(
            ja, jb,
            "{}: generate({seed}, {d}) is not deterministic",
            m.id
        );
        assert_eq!(a.id, crate::instance_id(&m.id, m.version, seed, d));
        assert_eq!(
            (a.env.as_str(), a.env_version, a.seed, a.difficulty),
            (m.id.as_str(), m.version, seed, d)
        );
        assert!(
            a.prompt.contains("<answer>"),
            "{}: prompt lacks the answer instruction",
            m.id
        );
        let back: Instance = serde_json::from_str(&ja).expect("instance round-trips");
        assert_eq!(
            back, a,
            "{}: instance does not round-trip through JSON",
            m.id
        );
        a
    }

    fn check_verdict(&self, inst: &Instance, what: &str, v: &Verdict) {
        let id = &inst.env;
        assert!(
            (0.0..=1.0).contains(&v.reward),
            "{id} seed {} d{}: {what}: reward {} out of range",
            inst.seed,
            inst.difficulty,
            v.reward
        );
        assert_eq!(
            v.correct,
            v.reward == 1.0,
            "{id}: {what}: correct flag inconsistent"
        );
        if !self.partial {
            assert!(
                v.reward == 0.0 || v.reward == 1.0,
                "{id} seed {} d{}: {what}: non-binary reward {}",
                inst.seed,
                inst.difficulty,
                v.reward
            );
        }
    }
}

fn same_text(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}
