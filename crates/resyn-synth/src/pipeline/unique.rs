//! Dedup and decontamination: cheap, so they run right after validation,
//! before any further LLM call (and dedup again at storage, against what
//! was accepted meanwhile).

use std::sync::{Arc, OnceLock};

use resyn_core::{Environment, Instance};
use resyn_sandbox::PythonEnv;

use super::Pipeline;
use super::stage::{Fail, Stage, Step, step};
use crate::Result;
use crate::dedup::{Fingerprint, find_duplicate, without_answer_fields};
use crate::validate::Validated;

/// Instances of a candidate another verifier is run on (behavioural dedup).
const BEHAVIOUR_SAMPLE: usize = 40;
/// Fewer compared instances than this decide nothing.
const BEHAVIOUR_MIN: usize = 8;

/// An environment a candidate must not duplicate: native, stored, or a seed
/// example.
pub(super) struct Known {
    pub name: String,
    pub fp: Fingerprint,
    /// A native environment, or a stored module's source (loaded into the
    /// sandbox the first time a candidate resembles it).
    verifier: Verifier,
    loaded: OnceLock<Option<Arc<dyn Environment>>>,
}

enum Verifier {
    Native(Arc<dyn Environment>),
    Stored(String),
    None,
}

impl Known {
    pub(crate) fn native(env: Arc<dyn Environment>) -> Self {
        let m = env.meta();
        // A handful of instances per level give the template and shape.
        let instances: Vec<Instance> = (m.min_difficulty..=m.max_difficulty)
            .flat_map(|d| (0..3u64).map(move |s| (s, d)))
            .filter_map(|(s, d)| env.generate(s, d).ok())
            .collect();
        let fp = Fingerprint::new(&m.description, instances.iter().map(|i| i.prompt.as_str()))
            .with_shape(&instances);
        Self {
            name: m.id.clone(),
            fp,
            verifier: Verifier::Native(env),
            loaded: OnceLock::new(),
        }
    }

    pub(crate) fn stored(name: String, fp: Fingerprint, code: String) -> Self {
        Self {
            name,
            fp,
            verifier: Verifier::Stored(code),
            loaded: OnceLock::new(),
        }
    }

    /// Compared by text only (seed examples are not run here).
    pub(crate) fn text_only(name: String, fp: Fingerprint) -> Self {
        Self {
            name,
            fp,
            verifier: Verifier::None,
            loaded: OnceLock::new(),
        }
    }

    /// Its verifier (`None` when it has none or its module fails to load).
    fn env(&self, sandbox: &resyn_sandbox::Sandbox) -> Option<Arc<dyn Environment>> {
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
    /// references).
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
        for k in known.iter().filter(|k| k.fp.shape.resembles(&fp.shape)) {
            let sandbox = self.validator.sandbox().clone();
            let (k2, instances) = (k.clone(), v.instances.clone());
            let rate = Self::blocking(move || Ok(acceptance(&k2, &instances, &sandbox))).await?;
            if let Some((accepted, compared)) = rate {
                #[allow(clippy::cast_precision_loss)]
                let share = accepted as f64 / compared as f64;
                if share >= self.cfg.dedup.verifier_acceptance {
                    return Ok(Step::Fail(Fail::reject(
                        Stage::Dedup,
                        "behavioural_duplicate",
                        format!(
                            "the verifier of `{}` accepts {accepted} of {compared} of this \
                             environment's reference answers on its own instances (fields \
                             holding the answer removed): the same task in other words",
                            k.name
                        ),
                    )));
                }
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

/// How many of the candidate's references `known`'s verifier accepts on the
/// candidate's instances, out of how many compared (`None`: it has no
/// verifier, or too few instances).
fn acceptance(
    known: &Known,
    instances: &[Instance],
    sandbox: &resyn_sandbox::Sandbox,
) -> Option<(usize, usize)> {
    let env = known.env(sandbox)?;
    let m = env.meta();
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
    let verdicts =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| env.verify_batch(&items))).ok()?;
    let accepted = verdicts.iter().filter(|v| v.correct).count();
    Some((accepted, relabeled.len()))
}
