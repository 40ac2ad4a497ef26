//! Calibration with a solver model: k answers per level; replies cut off by
//! the token limit are retried once, then counted apart; every answer the
//! two verifiers judge differently is adjudicated like the probes; the solve
//! rates must fall with difficulty within the policy's bounds. A failed
//! curve goes back to the model (difficulty scaling is code).

use resyn_core::{Environment, Instance};
use resyn_store::Checkpoint;
use tokio::task::JoinSet;

use super::Pipeline;
use super::cross::{Item, Origin, Verifiers, answer_of};
use super::stage::{Fail, Stage, Step, step};
use crate::calibrate::{self, Calibration, Level};
use crate::llm::Llm;
use crate::validate::Validated;
use crate::{Result, prompts};

/// Seeds of calibration instances start here (apart from validation seeds).
const SEED_BASE: u64 = 100_000;
/// Seed offset of the retry of a truncated reply.
const RETRY_SEED: u64 = 1 << 32;

/// A solver's reply to one instance.
#[derive(Debug, Clone, Default)]
struct Answer {
    text: String,
    /// Cut off by the token limit, on the retry too.
    truncated: bool,
}

impl Pipeline {
    pub(super) async fn calibrate(
        &self,
        id: i64,
        cp: &mut Checkpoint,
        solver: &Llm,
        v: &Validated,
        verifiers: Option<&mut Verifiers>,
    ) -> Result<Step<Calibration>> {
        let k = self.cfg.calibration_samples.max(1);
        let requests: Vec<(u64, u8)> = (resyn_core::MIN_DIFFICULTY..=resyn_core::MAX_DIFFICULTY)
            .flat_map(|d| (0..u64::from(k)).map(move |j| (SEED_BASE + j, d)))
            .collect();
        let env = v.env.clone();
        let generated = Self::blocking(move || Ok(env.generate_batch(&requests))).await?;
        let mut insts = Vec::with_capacity(generated.len());
        for r in generated {
            match r {
                Ok(i) => insts.push(i),
                Err(e) => {
                    return Ok(Step::Fail(Fail::repair(
                        Stage::Calibrate,
                        "generate",
                        e.to_string(),
                    )));
                }
            }
        }
        let answers = solve_all(id, solver, &insts).await;
        let env = v.env.clone();
        let (i2, a2) = (insts.clone(), answers.clone());
        let ours = Self::blocking(move || {
            let items: Vec<(&Instance, &str)> = i2
                .iter()
                .zip(&a2)
                .map(|(i, a)| (i, a.text.as_str()))
                .collect();
            Ok(env.verify_batch(&items))
        })
        .await?;
        if let Some(verifiers) = verifiers {
            let items: Vec<Item<'_>> = insts
                .iter()
                .zip(&answers)
                .zip(&ours)
                .filter(|((_, a), _)| !a.truncated)
                .map(|((i, a), o)| Item {
                    inst: i,
                    response: a.text.clone(),
                    answer: answer_of(&a.text),
                    module: o.correct,
                    origin: Origin::Solver,
                })
                .collect();
            step!(self.compare(id, cp, v, verifiers, &items).await?);
        }
        let curve: Vec<Level> = (resyn_core::MIN_DIFFICULTY..=resyn_core::MAX_DIFFICULTY)
            .map(|d| {
                let at = || {
                    insts
                        .iter()
                        .zip(&answers)
                        .zip(&ours)
                        .filter(move |((i, _), _)| i.difficulty == d)
                };
                let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
                Level {
                    difficulty: d,
                    n: count(at().filter(|((_, a), _)| !a.truncated).count()),
                    solved: count(at().filter(|((_, a), o)| !a.truncated && o.correct).count()),
                    truncated: count(at().filter(|((_, a), _)| a.truncated).count()),
                }
            })
            .collect();
        let c = calibrate::assess(curve, k, &self.cfg.calibration);
        if !c.passed {
            let rates: Vec<String> = c
                .curve
                .iter()
                .map(|l| format!("{}: {}/{}", l.difficulty, l.solved, l.n))
                .collect();
            let detail = prompts::calibration_failed(&rates, &c, &self.cfg.calibration);
            // Cut-off replies say nothing about the module: not repairable.
            let fail = if c.reason == "too_many_truncated" {
                Fail::reject(Stage::Calibrate, c.reason.clone(), detail)
            } else {
                Fail::repair(Stage::Calibrate, c.reason.clone(), detail)
            };
            return Ok(Step::Fail(fail));
        }
        self.pass(
            id,
            Stage::Calibrate,
            cp.round,
            serde_json::to_string(&c).unwrap_or_default(),
            None,
        )?;
        Ok(Step::Pass(c))
    }
}

/// Every instance asked of the solver at once (bounded by its client);
/// a reply cut off by the token limit is asked again once.
async fn solve_all(id: i64, solver: &Llm, insts: &[Instance]) -> Vec<Answer> {
    let mut set = JoinSet::new();
    for (n, inst) in insts.iter().enumerate() {
        let s = solver.clone();
        let prompt = inst.prompt.clone();
        set.spawn(async move {
            let mut answer = Answer::default();
            for seed in [n as u64, n as u64 + RETRY_SEED] {
                match s.ask("solve", Some(id), None, &prompt, Some(seed)).await {
                    Ok(r) if r.truncated => answer.truncated = true,
                    Ok(r) => {
                        answer = Answer {
                            text: r.text,
                            truncated: false,
                        };
                        break;
                    }
                    // A failed call is an unanswered question: wrong.
                    Err(_) => break,
                }
            }
            (n, answer)
        });
    }
    let mut answers = vec![Answer::default(); insts.len()];
    while let Some(r) = set.join_next().await {
        if let Ok((n, a)) = r {
            answers[n] = a;
        }
    }
    answers
}
