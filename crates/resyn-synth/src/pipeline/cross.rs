//! Cross-verification: independently written verifiers (from the rendered
//! questions alone, never the module's description or code) score the same
//! answers as the module's `verify()`. Every disagreement is adjudicated —
//! a third verifier is drawn and the majority of three decides, an LLM judge
//! where a verifier abstains — and can blame either side: an outvoted
//! module is repaired with the evidence, an outvoted second verifier is
//! replaced. Decided answers become findings a later repair must keep.

use std::collections::HashSet;

use resyn_core::conformance::norm;
use resyn_core::{Environment, Instance};
use resyn_sandbox::PythonEnv;
use resyn_store::{Checkpoint, Finding, StageEvent};
use serde::Serialize;
use serde_json::{Value, json};

use super::Pipeline;
use super::stage::{Fail, Stage, Step};
use crate::Result;
use crate::extract::extract_verifier;
use crate::prompts;
use crate::validate::{InfraError, Validated};

/// Verifiers drawn per candidate at most (second verifiers and tie-breakers).
const MAX_DRAWS: u32 = 5;
/// Disputed answers shown in one repair message.
const EVIDENCE: usize = 3;

/// An independent verifier: its source and the loaded module.
#[derive(Clone)]
pub(super) struct Drawn {
    pub code: String,
    pub env: PythonEnv,
}

/// The module's independent counterparts, with what comparing them found.
pub(super) struct Verifiers {
    pub second: Drawn,
    /// The tie-breaker drawn for the last dispute, if any.
    pub third: Option<Drawn>,
    compared: usize,
    errors: usize,
    /// Every disagreement found, with its resolution.
    pub disputes: Vec<Dispute>,
}

impl Verifiers {
    /// The stored report (`validation.cross_verify`): the second verifier's
    /// code (for `resyn audit`), agreement, and every disagreement.
    pub(crate) fn report(&self) -> Value {
        #[allow(clippy::cast_precision_loss)]
        let agreement = 1.0 - self.disputes.len() as f64 / self.compared.max(1) as f64;
        json!({
            "compared": self.compared,
            "agreement": agreement,
            "verifier_errors": self.errors,
            "disagreements": self.disputes,
            "unresolved": self.disputes.iter().filter(|d| d.resolution == Resolution::Unresolved).count(),
            "verifier_code": self.second.code,
            "tie_breaker_code": self.third.as_ref().map(|t| &t.code),
        })
    }
}

/// Where a compared answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Origin {
    Reference,
    Probe,
    Solver,
}

/// Who was right about a disputed answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Resolution {
    /// The module's verdict stands (the second verifier was wrong).
    Upheld,
    /// The module's verdict is wrong.
    Overruled,
    /// No majority.
    Unresolved,
}

impl Resolution {
    fn as_str(self) -> &'static str {
        match self {
            Resolution::Upheld => "upheld",
            Resolution::Overruled => "overruled",
            Resolution::Unresolved => "unresolved",
        }
    }
}

/// One answer the module's verifier and the second verifier judge
/// differently.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Dispute {
    pub origin: Origin,
    pub seed: u64,
    pub difficulty: u8,
    /// The question as the verifiers see it (without the answer-tag
    /// instruction).
    pub question: String,
    /// Exactly the string `verify()` received.
    pub answer: String,
    pub module: bool,
    /// `None`: the verifier raised or could not be run.
    pub second: Option<bool>,
    pub third: Option<bool>,
    pub judge: Option<bool>,
    pub resolution: Resolution,
}

impl Dispute {
    fn decide(&mut self) {
        let votes = [self.second, self.third, self.judge];
        let against = votes.iter().filter(|v| **v == Some(!self.module)).count();
        let with = votes.iter().filter(|v| **v == Some(self.module)).count();
        // Majority of three voters: the module plus two of the others.
        self.resolution = if against >= 2 {
            Resolution::Overruled
        } else if with >= 1 && with + 1 > against {
            Resolution::Upheld
        } else {
            Resolution::Unresolved
        };
    }

    /// The evidence for a repair message.
    fn evidence(&self, n: usize) -> String {
        let origin = match self.origin {
            Origin::Reference => "your generate()'s own reference",
            Origin::Probe => "a constructed answer",
            Origin::Solver => "a model's answer",
        };
        let mut votes = vec![
            ("your verify()", Some(self.module)),
            (
                "a verifier written from the question text alone",
                self.second,
            ),
        ];
        if self.third.is_some() {
            votes.push((
                "a second verifier written from the question text alone",
                self.third,
            ));
        }
        if self.judge.is_some() {
            votes.push(("an LLM judge", self.judge));
        }
        prompts::disputed_answer(&prompts::Disputed {
            n,
            seed: self.seed,
            difficulty: self.difficulty,
            origin,
            question: &self.question,
            answer: &self.answer,
            votes: &votes,
        })
    }
}

/// The evidence of the first [`EVIDENCE`] disputes resolved `how`.
fn evidence(disputes: &[Dispute], how: Resolution) -> Vec<String> {
    disputes
        .iter()
        .filter(|d| d.resolution == how)
        .take(EVIDENCE)
        .enumerate()
        .map(|(n, d)| d.evidence(n + 1))
        .collect()
}

/// One answer to compare: the instance, the exact answer, the module's verdict.
pub(super) struct Item<'a> {
    pub inst: &'a Instance,
    /// The whole response, as the verifiers get it.
    pub response: String,
    /// The answer inside it, as `verify()` receives it (for the evidence).
    pub answer: String,
    pub module: bool,
    pub origin: Origin,
}

impl Pipeline {
    /// Cross-verification on the validation instances' references and
    /// probes (and the findings of earlier rounds).
    pub(super) async fn cross(
        &self,
        id: i64,
        cp: &mut Checkpoint,
        v: &Validated,
    ) -> Result<Step<Verifiers>> {
        if let Some(f) = self.regressed(cp, v).await? {
            return Ok(Step::Fail(f));
        }
        let Some(second) = self.second_verifier(id, cp, v).await? else {
            return Ok(Step::Fail(Fail::reject(
                Stage::CrossVerifier,
                "cross_verifier_unusable",
                "no independently written verifier could be run",
            )));
        };
        let mut items: Vec<Item<'_>> = v
            .instances
            .iter()
            .map(|i| Item {
                inst: i,
                response: i.reference.clone(),
                answer: answer_of(&i.reference),
                module: true,
                origin: Origin::Reference,
            })
            .collect();
        items.extend(sample_probes(v).into_iter().map(|(k, resp, reward)| Item {
            inst: &v.instances[k],
            answer: answer_of(&resp),
            response: resp,
            module: reward == 1.0,
            origin: Origin::Probe,
        }));
        let mut verifiers = Verifiers {
            second,
            third: None,
            compared: 0,
            errors: 0,
            disputes: Vec::new(),
        };
        match self.compare(id, cp, v, &mut verifiers, &items).await? {
            Step::Pass(()) => {
                self.pass(
                    id,
                    Stage::CrossVerify,
                    cp.round,
                    verifiers.report().to_string(),
                    Some(cp),
                )?;
                Ok(Step::Pass(verifiers))
            }
            Step::Fail(f) => Ok(Step::Fail(f)),
        }
    }

    /// Compare the module's verdicts on `items` with the independent
    /// verifiers' and adjudicate every disagreement; records the disputes in
    /// `verifiers` and the decided ones in the checkpoint.
    pub(super) async fn compare(
        &self,
        id: i64,
        cp: &mut Checkpoint,
        v: &Validated,
        verifiers: &mut Verifiers,
        items: &[Item<'_>],
    ) -> Result<Step<()>> {
        // An answer is one finding, however many responses carried it.
        let mut seen = HashSet::new();
        let items: Vec<&Item<'_>> = items
            .iter()
            .filter(|it| seen.insert((it.inst.id.as_str(), it.answer.as_str())))
            .collect();
        let second = self.verdicts(&verifiers.second, &items).await?;
        let errors = second.iter().filter(|r| r.is_none()).count();
        verifiers.compared += items.len();
        verifiers.errors += errors;
        let mut disputes: Vec<Dispute> = items
            .iter()
            .zip(&second)
            .filter(|(it, s)| **s != Some(it.module))
            .map(|(it, s)| Dispute {
                origin: it.origin,
                seed: it.inst.seed,
                difficulty: it.inst.difficulty,
                question: super::module_prompt(&it.inst.prompt).to_string(),
                answer: it.answer.clone(),
                module: it.module,
                second: *s,
                third: None,
                judge: None,
                resolution: Resolution::Unresolved,
            })
            .collect();
        if disputes.is_empty() {
            return Ok(Step::Pass(()));
        }
        // A tie-breaking verifier, then a judge for what it abstains on.
        let third = match &verifiers.third {
            Some(t) => Some(t.clone()),
            None => self.draw(id, cp, v).await?,
        };
        if let Some(t) = &third {
            let disputed: Vec<&Item<'_>> = items
                .iter()
                .zip(&second)
                .filter(|(it, s)| **s != Some(it.module))
                .map(|(it, _)| *it)
                .collect();
            let votes = self.verdicts(t, &disputed).await?;
            for (d, t) in disputes.iter_mut().zip(votes) {
                d.third = t;
            }
        }
        for d in &mut disputes {
            d.decide();
            if d.resolution == Resolution::Unresolved {
                d.judge = self.judge(id, d).await;
                d.decide();
            }
        }
        verifiers.third = third;
        let count = |r: Resolution| disputes.iter().filter(|d| d.resolution == r).count();
        let overruled = count(Resolution::Overruled);
        let unresolved = count(Resolution::Unresolved);
        // One event per disputed answer: the summary counts them.
        for d in &disputes {
            self.event(
                id,
                &StageEvent {
                    stage: Stage::Adjudicate.as_str().into(),
                    passed: d.resolution == Resolution::Upheld,
                    reason: d.resolution.as_str().into(),
                    detail: serde_json::to_string(d).unwrap_or_default(),
                    round: cp.round,
                },
                None,
            )?;
        }
        // Where the module was right, a later repair must keep it right
        // (where it was wrong, the next comparison finds it again).
        for d in disputes
            .iter()
            .filter(|d| d.resolution == Resolution::Upheld)
        {
            cp.settled.push(Finding {
                seed: d.seed,
                difficulty: d.difficulty,
                answer: d.answer.clone(),
                correct: d.module,
            });
        }
        verifiers.disputes.extend(disputes.iter().cloned());
        if overruled > 0 {
            let evidence = evidence(&disputes, Resolution::Overruled);
            return Ok(Step::Fail(Fail::repair(
                Stage::CrossVerify,
                "module_overruled",
                prompts::overruled(overruled, verifiers.compared, &evidence),
            )));
        }
        if unresolved > self.cfg.cross_max_unresolved {
            let evidence = evidence(&disputes, Resolution::Unresolved);
            return Ok(Step::Fail(Fail::reject(
                Stage::CrossVerify,
                "unresolved_disagreement",
                prompts::unresolved(unresolved, &evidence),
            )));
        }
        // The second verifier was outvoted on every dispute: the
        // tie-breaker, which sided with the module, replaces it.
        if let Some(t) = &verifiers.third
            && disputes.iter().all(|d| d.third == Some(d.module))
        {
            verifiers.second = t.clone();
            verifiers.third = None;
            cp.cross_code = Some(verifiers.second.code.clone());
        }
        Ok(Step::Pass(()))
    }

    /// The module must keep the verdicts adjudication upheld in earlier
    /// rounds: a module that "fixes" itself to agree with an outvoted
    /// verifier fails.
    async fn regressed(&self, cp: &Checkpoint, v: &Validated) -> Result<Option<Fail>> {
        if cp.settled.is_empty() {
            return Ok(None);
        }
        let env = v.env.clone();
        let settled = cp.settled.clone();
        let flipped = Self::blocking(move || {
            let reqs: Vec<(u64, u8)> = settled.iter().map(|f| (f.seed, f.difficulty)).collect();
            let insts = env.generate_batch(&reqs);
            let mut out = Vec::new();
            for (f, i) in settled.iter().zip(insts) {
                let Ok(i) = i else { continue };
                let response = resyn_core::wrap_answer(&f.answer);
                if env.verify(&i, &response).correct != f.correct {
                    out.push((f.clone(), super::module_prompt(&i.prompt).to_string()));
                }
            }
            Ok(out)
        })
        .await?;
        let Some((f, question)) = flipped.first() else {
            return Ok(None);
        };
        Ok(Some(Fail::repair(
            Stage::CrossVerify,
            "settled_verdict_changed",
            prompts::settled_changed(
                flipped.len(),
                f.seed,
                f.difficulty,
                question,
                &f.answer,
                f.correct,
            ),
        )))
    }

    /// The current second verifier, drawing one if needed.
    async fn second_verifier(
        &self,
        id: i64,
        cp: &mut Checkpoint,
        v: &Validated,
    ) -> Result<Option<Drawn>> {
        if let Some(code) = cp.cross_code.clone()
            && let Some(d) = self.load(id, cp, v, code).await?
        {
            return Ok(Some(d));
        }
        let drawn = self.draw(id, cp, v).await?;
        cp.cross_code = drawn.as_ref().map(|d| d.code.clone());
        Ok(drawn)
    }

    /// Draw a new independent verifier (up to [`MAX_DRAWS`] per candidate,
    /// retrying ones that cannot be run).
    async fn draw(&self, id: i64, cp: &mut Checkpoint, v: &Validated) -> Result<Option<Drawn>> {
        while cp.cross_draws < MAX_DRAWS {
            cp.cross_draws += 1;
            let questions: Vec<String> = [1u8, 4, 7, 10]
                .into_iter()
                .filter_map(|d| v.instances.iter().find(|i| i.difficulty == d))
                .map(|i| super::module_prompt(&i.prompt).to_string())
                .collect();
            let prompt = prompts::cross_verifier(&questions, &self.cfg.validation.allowed_imports);
            // The draw number makes each request differ from the others.
            let seed = Some(u64::from(cp.cross_draws));
            let code = match self
                .llm
                .ask(
                    "cross_verifier",
                    Some(id),
                    Some(prompts::SYSTEM),
                    &prompt,
                    seed,
                )
                .await
            {
                Err(e) => {
                    self.cross_event(id, cp, false, "llm_error", e)?;
                    continue;
                }
                Ok(r) => match extract_verifier(&r.text, r.truncated) {
                    Ok(c) => c,
                    Err(e) => {
                        self.cross_event(id, cp, false, "no_code", e.to_string())?;
                        continue;
                    }
                },
            };
            if let Some(d) = self.load(id, cp, v, code).await? {
                self.cross_event(id, cp, true, "ok", String::new())?;
                return Ok(Some(d));
            }
        }
        Ok(None)
    }

    fn cross_event(
        &self,
        id: i64,
        cp: &Checkpoint,
        passed: bool,
        reason: &str,
        detail: String,
    ) -> Result<()> {
        self.event(
            id,
            &StageEvent {
                stage: Stage::CrossVerifier.as_str().into(),
                passed,
                reason: reason.into(),
                detail,
                round: cp.round,
            },
            Some(cp),
        )
    }

    /// Load a verifier into the sandbox and check it runs on the
    /// references (at most one in ten may raise).
    async fn load(
        &self,
        id: i64,
        cp: &Checkpoint,
        v: &Validated,
        code: String,
    ) -> Result<Option<Drawn>> {
        let meta = v.env.meta().clone();
        let source = crate::verifier_module(&code, &meta);
        let sb = self.validator.sandbox().clone();
        let instances = v.instances.clone();
        let file = format!("cross_{id}_{}.py", cp.cross_draws);
        let loaded = Self::blocking(move || -> std::result::Result<_, InfraError> {
            let env = match PythonEnv::from_source(&file, source, &sb) {
                Ok(e) => e,
                Err(e) => return Ok(Err(e.to_string())),
            };
            let items: Vec<(&Instance, &str)> = instances
                .iter()
                .map(|i| (i, i.reference.as_str()))
                .collect();
            let res = env.try_verify_batch(&items);
            let errors: Vec<String> = res
                .results
                .into_iter()
                .filter_map(|r| r.err().map(|e| e.to_string()))
                .collect();
            if errors.len() * 10 > items.len() {
                return Ok(Err(format!(
                    "raises on {} of {} references: {}",
                    errors.len(),
                    items.len(),
                    errors[0]
                )));
            }
            Ok(Ok(env))
        })
        .await?;
        match loaded {
            Ok(env) => Ok(Some(Drawn { code, env })),
            Err(e) => {
                self.cross_event(id, cp, false, "unusable", e)?;
                Ok(None)
            }
        }
    }

    /// A verifier's verdicts on `items` (`None` where it raised).
    async fn verdicts(&self, d: &Drawn, items: &[&Item<'_>]) -> Result<Vec<Option<bool>>> {
        let env = d.env.clone();
        let owned: Vec<(Instance, String)> = items
            .iter()
            .map(|it| (it.inst.clone(), it.response.clone()))
            .collect();
        Self::blocking(move || {
            let refs: Vec<(&Instance, &str)> = owned.iter().map(|(i, r)| (i, r.as_str())).collect();
            Ok(env
                .try_verify_batch(&refs)
                .results
                .into_iter()
                .map(|r| match r {
                    Ok(Ok(x)) => Some(x == 1.0),
                    // An answer the harness rejects before verify() (no
                    // answer block): wrong for every verifier alike.
                    Ok(Err(_)) => Some(false),
                    Err(_) => None,
                })
                .collect())
        })
        .await
    }

    /// The reviewer model's verdict on one disputed answer (`None`: no
    /// usable verdict).
    async fn judge(&self, id: i64, d: &Dispute) -> Option<bool> {
        let prompt = prompts::judge(&d.question, &d.answer);
        let reply = self
            .reviewer
            .ask("judge", Some(id), None, &prompt, None)
            .await
            .ok()?;
        crate::review::parse_judgement(&reply.text)
    }
}

/// The answer inside a model-style response, as `verify()` receives it
/// (whitespace around it removed); the response itself when it has none.
pub(super) fn answer_of(response: &str) -> String {
    resyn_core::extract_answer(response, &resyn_core::ExtractConfig::default())
        .map_or_else(|_| response.to_string(), |a| a.text.trim().to_string())
}

/// Probes for cross-verification: all accepted ones plus up to 200 others,
/// spread over families. `(instance index, response, reward)`.
fn sample_probes(v: &Validated) -> Vec<(usize, String, f64)> {
    let mut out: Vec<(usize, String, f64)> = v
        .probes
        .iter()
        .filter(|p| p.reward > 0.0)
        .map(|p| (p.inst, p.response.clone(), p.reward))
        .collect();
    let rejected: Vec<_> = v.probes.iter().filter(|p| p.reward == 0.0).collect();
    let step = (rejected.len() / 200).max(1);
    out.extend(
        rejected
            .iter()
            .step_by(step)
            .take(200)
            .map(|p| (p.inst, p.response.clone(), p.reward)),
    );
    // Identical answers to one instance are compared once.
    let mut seen = HashSet::new();
    out.retain(|(i, r, _)| seen.insert((*i, norm(r))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispute(
        module: bool,
        second: Option<bool>,
        third: Option<bool>,
        judge: Option<bool>,
    ) -> Resolution {
        let mut d = Dispute {
            origin: Origin::Solver,
            seed: 0,
            difficulty: 1,
            question: String::new(),
            answer: String::new(),
            module,
            second,
            third,
            judge,
            resolution: Resolution::Unresolved,
        };
        d.decide();
        d.resolution
    }

    #[test]
    fn the_majority_of_three_decides_and_abstentions_leave_it_open() {
        use Resolution::*;
        for m in [true, false] {
            // Second and tie-breaker against the module: overruled.
            assert_eq!(dispute(m, Some(!m), Some(!m), None), Overruled);
            // The tie-breaker sides with the module: the second is outvoted.
            assert_eq!(dispute(m, Some(!m), Some(m), None), Upheld);
            // The second raised, the tie-breaker agrees with the module.
            assert_eq!(dispute(m, None, Some(m), None), Upheld);
            // One vote against, one abstention: no majority until a judge.
            assert_eq!(dispute(m, Some(!m), None, None), Unresolved);
            assert_eq!(dispute(m, Some(!m), None, Some(!m)), Overruled);
            assert_eq!(dispute(m, Some(!m), None, Some(m)), Upheld);
            assert_eq!(dispute(m, None, None, None), Unresolved);
        }
    }
}
