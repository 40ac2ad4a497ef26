//! Dedup and decontamination: cheap, so they run right after validation,
//! before any further LLM call (and dedup again at storage, against what
//! was accepted meanwhile).
//!
//! Behavioural dedup compares a candidate with every [`Known`] environment
//! whose answer [`Shape`] resembles its own, in two directions, and rejects
//! when either reaches `DedupConfig::verifier_acceptance` over at least
//! [`BEHAVIOUR_MIN`] of at most [`BEHAVIOUR_SAMPLE`] instances:
//! - the known verifier on the candidate's instances, with the candidate's
//!   references (a paraphrase of a known task);
//! - the candidate's verifier on the known environment's instances, with
//!   the known references (a more lenient check of a known task, whose
//!   references the known verifier rejects for their form).
//!
//! Invariants:
//! - a known environment's instances are [`KNOWN_SEEDS`] seeds per
//!   difficulty level (the same ones every run), generated up front for
//!   natives and in the sandbox on first need for stored modules, cached
//!   either way; a fingerprint stored without a shape gets theirs;
//! - a stored module that does not load is compared by text only; one that
//!   cannot generate gets no reverse comparison (and none at all when its
//!   shape had to come from its instances): a failure is never a rejection
//!   nor an error of the run;
//! - a verifier that panics accepts nothing.

use std::sync::{Arc, OnceLock};

use resyn_core::{Environment, Instance};
use resyn_sandbox::{PythonEnv, Sandbox};

use super::Pipeline;
use super::stage::{Fail, Stage, Step, step};
use crate::Result;
use crate::dedup::{Fingerprint, Shape, find_duplicate, without_answer_fields};
use crate::validate::Validated;

/// Instances of one side the other side's verifier is run on (behavioural
/// dedup).
const BEHAVIOUR_SAMPLE: usize = 40;
/// Fewer compared instances than this decide nothing.
const BEHAVIOUR_MIN: usize = 8;
/// Seeds per difficulty level of a known environment's instances.
const KNOWN_SEEDS: u64 = 3;

/// An environment a candidate must not duplicate: native, stored, or a seed
/// example.
pub(super) struct Known {
    pub name: String,
    pub fp: Fingerprint,
    /// A native environment, or a stored module's source (loaded into the
    /// sandbox the first time a candidate resembles it).
    verifier: Verifier,
    loaded: OnceLock<Option<Arc<dyn Environment>>>,
    /// Its instances ([`sample`]): a native's are generated up front, a
    /// stored module's in the sandbox the first time they are needed.
    /// `None`: none could be generated (no reverse comparison then).
    instances: OnceLock<Option<Vec<Instance>>>,
    /// The shape of `instances`, for a fingerprint stored without one.
    shape: OnceLock<Shape>,
}

enum Verifier {
    Native(Arc<dyn Environment>),
    Stored(String),
    None,
}

impl Known {
    fn new(name: String, fp: Fingerprint, verifier: Verifier) -> Self {
        Self {
            name,
            fp,
            verifier,
            loaded: OnceLock::new(),
            instances: OnceLock::new(),
            shape: OnceLock::new(),
        }
    }

    pub(crate) fn native(env: Arc<dyn Environment>) -> Self {
        let m = env.meta();
        // A handful of instances per level give the template and shape,
        // and are kept for the reverse comparison.
        let instances = sample(env.as_ref());
        let fp = Fingerprint::new(&m.description, instances.iter().map(|i| i.prompt.as_str()))
            .with_shape(&instances);
        Self {
            instances: OnceLock::from((!instances.is_empty()).then_some(instances)),
            ..Self::new(m.id.clone(), fp, Verifier::Native(env))
        }
    }

    pub(crate) fn stored(name: String, fp: Fingerprint, code: String) -> Self {
        Self::new(name, fp, Verifier::Stored(code))
    }

    /// Compared by text only (seed examples are not run here).
    pub(crate) fn text_only(name: String, fp: Fingerprint) -> Self {
        Self::new(name, fp, Verifier::None)
    }

    /// Its verifier (`None` when it has none or its module fails to load).
    fn env(&self, sandbox: &Sandbox) -> Option<Arc<dyn Environment>> {
        self.loaded
            .get_or_init(|| match &self.verifier {
                Verifier::Native(e) => Some(e.clone()),
                Verifier::Stored(code) => {
                    PythonEnv::from_source(&format!("{}.py", self.name), code.clone(), sandbox)
                        .ok()
                        .map(|e| Arc::new(e) as Arc<dyn Environment>)
                }
                Verifier::None => None,
            })
            .clone()
    }

    /// Its instances (`None` when none can be generated).
    fn instances(&self, sandbox: &Sandbox) -> Option<&[Instance]> {
        self.instances
            .get_or_init(|| {
                let instances = sample(self.env(sandbox)?.as_ref());
                (!instances.is_empty()).then_some(instances)
            })
            .as_deref()
    }

    /// Its answer shape when known without running anything: the stored
    /// one, or the one already taken from its instances.
    fn known_shape(&self) -> Option<&Shape> {
        if self.fp.shape.is_known() {
            Some(&self.fp.shape)
        } else {
            self.shape.get()
        }
    }

    /// Its answer shape; a fingerprint stored before shapes were recorded
    /// gets the shape of its instances (unknown when there are none).
    fn shape(&self, sandbox: &Sandbox) -> &Shape {
        self.known_shape().unwrap_or_else(|| {
            self.shape
                .get_or_init(|| self.instances(sandbox).map(Shape::of).unwrap_or_default())
        })
    }

    /// Whether it may resemble `shape`, decided without running anything
    /// where possible (a shape still to be taken from instances may).
    fn may_resemble(&self, shape: &Shape) -> bool {
        match self.known_shape() {
            Some(own) => own.resembles(shape),
            None => matches!(self.verifier, Verifier::Stored(_)),
        }
    }
}

/// [`KNOWN_SEEDS`] instances of `env` per difficulty level (those that
/// generate), in a fixed order.
fn sample(env: &dyn Environment) -> Vec<Instance> {
    let m = env.meta();
    let requests: Vec<(u64, u8)> = (m.min_difficulty..=m.max_difficulty)
        .flat_map(|d| (0..KNOWN_SEEDS).map(move |s| (s, d)))
        .collect();
    env.generate_batch(&requests)
        .into_iter()
        .filter_map(std::result::Result::ok)
        .collect()
}

/// The candidate's side of a behavioural comparison.
struct Ours {
    env: PythonEnv,
    instances: Vec<Instance>,
    shape: Shape,
}

/// Whose verifier accepted whose reference answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// The known environment's verifier, on the candidate's instances.
    KnownAcceptsOurs,
    /// The candidate's verifier, on the known environment's instances: the
    /// candidate may be a more lenient check of the same task.
    OursAcceptsKnown,
}

/// One verifier accepting `accepted` of `compared` of the other side's
/// reference answers on the other side's instances.
struct Behaviour {
    direction: Direction,
    accepted: usize,
    compared: usize,
}

impl Behaviour {
    fn share(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let share = self.accepted as f64 / self.compared as f64;
        share
    }

    /// The rejection detail; `known` names the known environment.
    fn detail(&self, known: &str) -> String {
        let Self {
            accepted, compared, ..
        } = self;
        match self.direction {
            Direction::KnownAcceptsOurs => format!(
                "the verifier of `{known}` accepts {accepted} of {compared} of this \
                 environment's reference answers on its own instances (fields holding the \
                 answer removed): the same task in other words"
            ),
            Direction::OursAcceptsKnown => format!(
                "this environment's verifier accepts {accepted} of {compared} of `{known}`'s \
                 reference answers on `{known}`'s own instances (fields holding the answer \
                 removed): the same task, checked at least as leniently"
            ),
        }
    }
}

/// Whether `known` poses the candidate's task: their answers look alike and
/// one's verifier accepts at least `threshold` of the other's reference
/// answers on the other's instances (the known verifier is tried first).
fn same_behaviour(
    known: &Known,
    ours: &Ours,
    sandbox: &Sandbox,
    threshold: f64,
) -> Option<Behaviour> {
    if !known.shape(sandbox).resembles(&ours.shape) {
        return None;
    }
    let reaching = |direction, rate: Option<(usize, usize)>| {
        rate.map(|(accepted, compared)| Behaviour {
            direction,
            accepted,
            compared,
        })
        .filter(|b| b.share() >= threshold)
    };
    reaching(
        Direction::KnownAcceptsOurs,
        known
            .env(sandbox)
            .and_then(|env| acceptance(env.as_ref(), &ours.instances)),
    )
    .or_else(|| {
        reaching(
            Direction::OursAcceptsKnown,
            known
                .instances(sandbox)
                .and_then(|instances| acceptance(&ours.env, instances)),
        )
    })
}

/// What the unique stage hands on: the fingerprint to store, and how many
/// known environments it was compared with (storage compares the rest).
pub(super) struct Unique {
    pub fp: Fingerprint,
    pub compared: usize,
}

impl Pipeline {
    pub(super) async fn unique(&self, id: i64, round: u32, v: &Validated) -> Result<Step<Unique>> {
        let meta = v.env.meta();
        let fp = Fingerprint::new(
            &meta.description,
            v.instances.iter().map(|i| i.prompt.as_str()),
        )
        .with_shape(&v.instances);
        let known: Vec<Arc<Known>> = self.existing.lock().await.clone();
        step!(self.dedup(&fp, v, &known).await?);
        self.pass(
            id,
            Stage::Dedup,
            round,
            format!("{} known environments", known.len()),
            None,
        )?;
        step!(self.decontaminate(v));
        if !self.contamination.is_empty() {
            self.pass(id, Stage::Decontaminate, round, String::new(), None)?;
        }
        Ok(Step::Pass(Unique {
            fp,
            compared: known.len(),
        }))
    }

    /// The first of `known` the candidate duplicates: by text (description,
    /// prompt template), then by behaviour (another verifier accepts its
    /// references, or its verifier accepts another's; see the module docs).
    pub(super) async fn dedup(
        &self,
        fp: &Fingerprint,
        v: &Validated,
        known: &[Arc<Known>],
    ) -> Result<Step<()>> {
        if let Some(d) = find_duplicate(
            fp,
            known.iter().map(|k| (k.name.as_str(), &k.fp)),
            &self.cfg.dedup,
        ) {
            return Ok(Step::Fail(Fail::reject(
                Stage::Dedup,
                d.reason,
                format!(
                    "similar to `{}` (estimated Jaccard similarity {:.2})",
                    d.of, d.similarity
                ),
            )));
        }
        let ours = Arc::new(Ours {
            env: v.env.clone(),
            instances: v.instances.clone(),
            shape: fp.shape.clone(),
        });
        let threshold = self.cfg.dedup.verifier_acceptance;
        for k in known.iter().filter(|k| k.may_resemble(&fp.shape)) {
            let sandbox = self.validator.sandbox().clone();
            let (k2, ours) = (k.clone(), ours.clone());
            let found =
                Self::blocking(move || Ok(same_behaviour(&k2, &ours, &sandbox, threshold))).await?;
            if let Some(b) = found {
                return Ok(Step::Fail(Fail::reject(
                    Stage::Dedup,
                    "behavioural_duplicate",
                    b.detail(&k.name),
                )));
            }
        }
        Ok(Step::Pass(()))
    }

    fn decontaminate(&self, v: &Validated) -> Step<()> {
        if self.contamination.is_empty() {
            return Step::Pass(());
        }
        for i in &v.instances {
            if let Some(g) = self.contamination.find(&i.prompt) {
                return Step::Fail(Fail::reject(
                    Stage::Decontaminate,
                    "benchmark_overlap",
                    format!(
                        "the prompt of seed {} difficulty {} shares the {}-gram {g:?} with a \
                         benchmark file",
                        i.seed, i.difficulty, self.cfg.dedup.ngram
                    ),
                ));
            }
        }
        Step::Pass(())
    }
}

/// How many of the references of `instances` `verifier` accepts on them,
/// out of how many compared (`None`: too few instances). The instances are
/// relabeled as the verifier's own, with the data fields holding the answer
/// removed.
fn acceptance(verifier: &dyn Environment, instances: &[Instance]) -> Option<(usize, usize)> {
    let m = verifier.meta();
    let step = (instances.len() / BEHAVIOUR_SAMPLE).max(1);
    let relabeled: Vec<Instance> = instances
        .iter()
        .step_by(step)
        .take(BEHAVIOUR_SAMPLE)
        .map(|i| Instance {
            env: m.id.clone(),
            env_version: m.version,
            data: without_answer_fields(&i.data, resyn_core::probes::reference_answer(i)),
            ..i.clone()
        })
        .collect();
    if relabeled.len() < BEHAVIOUR_MIN {
        return None;
    }
    let items: Vec<(&Instance, &str)> = relabeled
        .iter()
        .map(|i| (i, i.reference.as_str()))
        .collect();
    // Foreign data must not take the run down, even if a verifier panics
    // on it (a panic is "does not accept").
    let verdicts = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        verifier.verify_batch(&items)
    }))
    .ok()?;
    let accepted = verdicts.iter().filter(|v| v.correct).count();
    Some((accepted, relabeled.len()))
}

#[cfg(test)]
mod tests {
    use resyn_core::{Category, EnvMeta, ReasonCode, Source, Verdict, wrap_answer};

    use super::*;

    /// Instances ask for twice `data.n`; `data.answer` holds the answer.
    struct Double {
        meta: EnvMeta,
        check: Check,
    }

    /// How [`Double`] verifies.
    #[derive(Clone, Copy)]
    enum Check {
        /// Recomputes the answer from `n`.
        Recompute,
        /// Compares with the `answer` field.
        Lookup,
        /// Panics.
        Panic,
    }

    fn double(check: Check) -> Double {
        let meta = EnvMeta {
            id: "double".into(),
            version: 1,
            category: Category::Math,
            description: String::new(),
            min_difficulty: 1,
            max_difficulty: 4,
            source: Source::Native,
            calibrated: None,
        };
        Double { meta, check }
    }

    impl Environment for Double {
        fn meta(&self) -> &EnvMeta {
            &self.meta
        }

        fn generate(&self, seed: u64, difficulty: u8) -> resyn_core::Result<Instance> {
            let n = seed * 10 + u64::from(difficulty);
            Ok(Instance {
                id: format!("{seed}-{difficulty}"),
                env: self.meta.id.clone(),
                env_version: 1,
                seed,
                difficulty,
                prompt: format!("Double {n}."),
                data: serde_json::json!({"n": n, "answer": 2 * n}),
                reference: wrap_answer(&(2 * n).to_string()),
            })
        }

        fn verify(&self, instance: &Instance, response: &str) -> Verdict {
            let answer = resyn_core::extract_answer(response, &Default::default())
                .map(|a| a.text.trim().to_string())
                .unwrap_or_default();
            let expected = match self.check {
                Check::Recompute => instance.data["n"].as_u64().map(|n| 2 * n),
                Check::Lookup => instance.data["answer"].as_u64(),
                Check::Panic => panic!("a verifier bug"),
            };
            if expected.map(|e| e.to_string()) == Some(answer) {
                Verdict::correct()
            } else {
                Verdict::zero(ReasonCode::Wrong, "")
            }
        }
    }

    #[test]
    fn known_instances_are_a_fixed_sample_per_level() {
        let instances = sample(&double(Check::Recompute));
        assert_eq!(instances.len(), 4 * 3);
        let order: Vec<(u64, u8)> = instances.iter().map(|i| (i.seed, i.difficulty)).collect();
        assert_eq!(&order[..4], &[(0, 1), (1, 1), (2, 1), (0, 2)]);
        assert_eq!(instances, sample(&double(Check::Recompute)));
    }

    #[test]
    fn acceptance_scores_references_on_data_without_the_answer() {
        let instances = sample(&double(Check::Recompute));
        let n = instances.len();
        assert_eq!(
            acceptance(&double(Check::Recompute), &instances),
            Some((n, n))
        );
        // The field holding the answer is gone: a verifier that only
        // compares with it accepts nothing.
        assert_eq!(acceptance(&double(Check::Lookup), &instances), Some((0, n)));
        assert_eq!(acceptance(&double(Check::Panic), &instances), None);
        assert_eq!(
            acceptance(&double(Check::Recompute), &instances[..BEHAVIOUR_MIN - 1]),
            None
        );
    }
}
