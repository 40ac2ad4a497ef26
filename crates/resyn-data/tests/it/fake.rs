//! Small synthetic environments with controllable failures, so the
//! builder's behaviour does not depend on which native environments exist.

use std::sync::Arc;

use resyn_core::{
    Category, EnvMeta, Environment, ExtractConfig, Instance, Registry, Result, Source, Verdict,
    extract_answer, instance_id, wrap_answer,
};

/// An echo task: the answer is a word derived from the seed.
pub(crate) struct Fake {
    meta: EnvMeta,
    /// Prompts repeat every `distinct` seeds (low diversity → duplicates).
    pub distinct: Option<u64>,
    /// The reference is wrong for the k-th generated seed offset >= this.
    pub bad_reference_from: Option<u64>,
    /// Generation fails for seed offsets >= this.
    pub error_from: Option<u64>,
    /// Generation panics.
    pub panics: bool,
}

impl Fake {
    pub(crate) fn new(id: &str, category: Category) -> Self {
        Self {
            meta: EnvMeta {
                id: id.to_string(),
                version: 1,
                category,
                description: format!("fake environment {id}"),
                min_difficulty: 1,
                max_difficulty: 10,
                source: Source::Native,
                calibrated: None,
            },
            distinct: None,
            bad_reference_from: None,
            error_from: None,
            panics: false,
        }
    }

    pub(crate) fn range(mut self, lo: u8, hi: u8) -> Self {
        self.meta.min_difficulty = lo;
        self.meta.max_difficulty = hi;
        self
    }

    /// A synthesized environment, calibrated by a solver or not.
    pub(crate) fn synthesized(mut self, calibrated: bool) -> Self {
        self.meta.source = Source::Synth;
        self.meta.calibrated = Some(calibrated);
        self
    }

    pub(crate) fn source(mut self, s: Source) -> Self {
        self.meta.source = s;
        self
    }

    fn offset(seed: u64) -> u64 {
        seed.wrapping_sub(resyn_data::seed_base(0))
    }
}

impl Environment for Fake {
    fn meta(&self) -> &EnvMeta {
        &self.meta
    }

    fn generate(&self, seed: u64, difficulty: u8) -> Result<Instance> {
        self.check_difficulty(difficulty)?;
        assert!(!self.panics, "fake panic");
        let k = Self::offset(seed);
        if self.error_from.is_some_and(|e| k >= e) {
            return Err(resyn_core::Error::Backend(
                format!("fake failure at {k}").into(),
            ));
        }
        let key = self.distinct.map_or(seed, |d| seed % d);
        let answer = format!("word{key}x{difficulty}");
        let reference = if self.bad_reference_from.is_some_and(|b| k >= b) {
            wrap_answer("wrong")
        } else {
            wrap_answer(&answer)
        };
        Ok(Instance {
            id: instance_id(&self.meta.id, 1, seed, difficulty),
            env: self.meta.id.clone(),
            env_version: 1,
            seed,
            difficulty,
            prompt: format!(
                "[{}] Repeat   the word {answer}.\n\nGive it inside <answer></answer> tags.",
                self.meta.id
            ),
            data: serde_json::json!({ "answer": answer }),
            reference,
        })
    }

    fn verify(&self, instance: &Instance, response: &str) -> Verdict {
        let Ok(a) = extract_answer(response, &ExtractConfig::default()) else {
            return Verdict::parse_error("no answer");
        };
        Verdict::from_check(if Some(a.text.trim()) == instance.data["answer"].as_str() {
            Ok(())
        } else {
            Err("wrong".into())
        })
    }
}

pub(crate) fn registry(envs: Vec<Fake>) -> Registry {
    let mut r = Registry::new();
    for e in envs {
        r.register(Arc::new(e)).unwrap();
    }
    r
}
