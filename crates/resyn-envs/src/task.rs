//! The native-environment adapter: a [`Task`] implements only what is
//! specific to a puzzle (generate data, render a prompt, check an answer);
//! [`Native`] supplies everything shared — instance ids, seeding, the answer
//! instruction, answer extraction, instance validation — so no environment
//! re-implements it.

use resyn_core::{
    Category, EnvMeta, Environment, ExtractConfig, Instance, ReasonCode, Result, Rng, Source,
    Verdict, extract_answer, id_from_hash, instance_hash, wrap_answer,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// The sentence appended to every prompt (defined in `resyn-core`, shared
/// with sandboxed Python environments).
pub use resyn_core::ANSWER_INSTRUCTION;

/// What a task generator returns.
#[derive(Debug, Clone)]
pub struct Generated<D> {
    /// The task text including its "Answer format: ..." paragraph (the
    /// generic answer-tag instruction is appended by [`Native`]).
    pub prompt: String,
    /// Everything the verifier needs.
    pub data: D,
    /// The bare reference answer text (without tags); it must verify to 1.0.
    pub answer: String,
}

/// Static description of a task.
#[derive(Debug, Clone, Copy)]
pub struct TaskInfo {
    /// Environment id.
    pub id: &'static str,
    /// Bump whenever generation or verification changes.
    pub version: u32,
    /// Category.
    pub category: Category,
    /// One-paragraph description, including how difficulty scales.
    pub description: &'static str,
}

/// A puzzle family: generation and checking, nothing else.
pub trait Task: Send + Sync + 'static {
    /// Hidden instance data (stored as JSON in [`Instance::data`]).
    type Data: Serialize + DeserializeOwned;

    /// What [`Task::check`] reads, decoded from [`Instance::data`] at every
    /// verification: usually `Self::Data`; a task whose check needs only
    /// part of the data may decode just those fields (serde skips the
    /// others), or borrow strings from the stored JSON.
    type View<'a>: Deserialize<'a>;

    /// Static description.
    fn info(&self) -> TaskInfo;

    /// Generate an instance at `difficulty` (1..=10) using only `rng`.
    fn generate(&self, rng: &mut Rng, difficulty: u8) -> Generated<Self::Data>;

    /// Check an extracted answer text against the data. Must be total.
    fn check(&self, data: &Self::View<'_>, answer: &str) -> Verdict;
}

/// A [`Task`] made into an [`Environment`].
pub struct Native<T: Task> {
    task: T,
    meta: EnvMeta,
    extract: ExtractConfig,
}

impl<T: Task> Native<T> {
    /// Wrap a task with default extraction limits.
    pub fn new(task: T) -> Self {
        let info = task.info();
        let meta = EnvMeta {
            id: info.id.to_string(),
            version: info.version,
            category: info.category,
            description: info.description.to_string(),
            min_difficulty: resyn_core::MIN_DIFFICULTY,
            max_difficulty: resyn_core::MAX_DIFFICULTY,
            source: Source::Native,
            calibrated: None,
        };
        Self {
            task,
            meta,
            extract: ExtractConfig::default(),
        }
    }

    /// The wrapped task.
    pub fn task(&self) -> &T {
        &self.task
    }
}

impl<T: Task> Environment for Native<T> {
    fn meta(&self) -> &EnvMeta {
        &self.meta
    }

    fn generate(&self, seed: u64, difficulty: u8) -> Result<Instance> {
        self.check_difficulty(difficulty)?;
        let m = &self.meta;
        let hash = instance_hash(&m.id, m.version, seed, difficulty);
        let mut rng = Rng::from_hash(hash);
        let g = self.task.generate(&mut rng, difficulty);
        // The prompt is `{task prompt, trimmed at the end}\n\n{instruction}`,
        // built in the task's buffer.
        let mut prompt = g.prompt;
        prompt.truncate(prompt.trim_end().len());
        prompt.reserve_exact(2 + ANSWER_INSTRUCTION.len());
        prompt.push_str("\n\n");
        prompt.push_str(ANSWER_INSTRUCTION);
        Ok(Instance {
            id: id_from_hash(&hash),
            env: m.id.clone(),
            env_version: m.version,
            seed,
            difficulty,
            prompt,
            data: serde_json::to_value(&g.data)?,
            reference: wrap_answer(&g.answer),
        })
    }

    fn verify(&self, instance: &Instance, response: &str) -> Verdict {
        if instance.env != self.meta.id || instance.env_version != self.meta.version {
            return Verdict::zero(
                ReasonCode::InvalidInstance,
                format!(
                    "instance is for {} v{}, not {} v{}",
                    instance.env, instance.env_version, self.meta.id, self.meta.version
                ),
            );
        }
        let answer = match extract_answer(response, &self.extract) {
            Ok(a) => a,
            Err(e) => return e.into(),
        };
        match T::View::deserialize(&instance.data) {
            Ok(data) => self.task.check(&data, answer.text),
            Err(e) => Verdict::zero(ReasonCode::InvalidInstance, format!("instance data: {e}")),
        }
    }
}
