//! One candidate from implementation to storage: the stage sequence, the
//! repair loop, and implementation/validation themselves.

use std::collections::HashMap;
use std::sync::Arc;

use resyn_core::Environment;
use resyn_store::{Candidate, CandidateStatus, Checkpoint, StageEvent};
use serde_json::Value;

use super::stage::{Fail, Outcome, Stage, Step, Then, step};
use super::{Event, Pipeline};
use crate::Result;
use crate::extract::{ExtractError, extract_code};
use crate::prompts;
use crate::validate::{Validated, ValidationReport};

/// Validation results of the modules a candidate has had, by content hash:
/// a repair that returns an identical module is not validated again.
pub(super) type ValidationCache = HashMap<String, (ValidationReport, Option<Validated>)>;

impl Pipeline {
    pub(super) async fn candidate(self: Arc<Self>, cand: Candidate) -> Result<Outcome> {
        let id = cand.id;
        let mut cp = cand.checkpoint.clone();
        let mut pending: Option<Fail> = None;
        let mut cache = ValidationCache::new();
        loop {
            if *self.accept_lock.lock().await >= self.cfg.target {
                self.skip_target_reached(id, cp.round)?;
                return Ok(Outcome::Skipped);
            }
            if cp.code.is_none() || pending.is_some() {
                match self.implement(&cand, &cp, pending.as_ref()).await {
                    Step::Pass(code) => {
                        // The review holds for the module it read.
                        if cp.code.as_deref() != Some(code.as_str()) {
                            cp.review_passed = false;
                        }
                        cp.code = Some(code);
                        pending = None;
                        self.pass(id, Stage::Extract, cp.round, String::new(), Some(&cp))?;
                    }
                    Step::Fail(f) => {
                        if self.failed(id, &mut cp, f, &mut pending)? {
                            continue;
                        }
                        return Ok(Outcome::Rejected);
                    }
                }
            }
            let Some(code) = cp.code.clone() else {
                continue;
            };
            match self.check(&cand, &mut cp, &code, &mut cache).await? {
                Step::Pass(outcome) => return Ok(outcome),
                Step::Fail(f) => {
                    if self.failed(id, &mut cp, f, &mut pending)? {
                        continue;
                    }
                    return Ok(Outcome::Rejected);
                }
            }
        }
    }

    /// Record a failure; returns whether to repair (else it was rejected).
    fn failed(
        &self,
        id: i64,
        cp: &mut Checkpoint,
        f: Fail,
        pending: &mut Option<Fail>,
    ) -> Result<bool> {
        let e = StageEvent {
            stage: f.stage.as_str().into(),
            passed: false,
            reason: f.reason.clone(),
            detail: f.detail.clone(),
            round: cp.round,
        };
        if f.then == Then::Repair && cp.round < self.cfg.repair_rounds {
            cp.round += 1;
            self.event(id, &e, Some(cp))?;
            *pending = Some(f);
            return Ok(true);
        }
        self.store
            .finish_candidate(id, CandidateStatus::Rejected, &e)?;
        self.observer.event(&Event::Stage {
            candidate: id,
            stage: e.stage.clone(),
            passed: false,
            reason: e.reason.clone(),
        });
        self.observer.event(&Event::Rejected {
            candidate: id,
            stage: e.stage,
            reason: e.reason,
        });
        Ok(false)
    }

    /// The implementation call, or a repair call carrying the failure's
    /// evidence; the module extracted from the reply.
    async fn implement(
        &self,
        cand: &Candidate,
        cp: &Checkpoint,
        fail: Option<&Fail>,
    ) -> Step<String> {
        let imports = &self.cfg.validation.allowed_imports;
        let (purpose, prompt) = match (&cp.code, fail) {
            (None, None) => (
                "implement",
                prompts::implement(&cand.proposal, &self.examples_for(cand), imports),
            ),
            (None, Some(f)) => (
                "repair",
                prompts::reimplement(&cand.proposal, &f.detail, imports),
            ),
            (Some(code), Some(f)) => (
                "repair",
                prompts::repair(code, f.stage.as_str(), &f.reason, &f.detail, imports),
            ),
            // A module and nothing to repair: keep it (not reached by
            // `candidate`, which only asks when one of the two is missing).
            (Some(code), None) => return Step::Pass(code.clone()),
        };
        let reply = match self
            .llm
            .ask(purpose, Some(cand.id), Some(prompts::SYSTEM), &prompt, None)
            .await
        {
            Err(e) => return Step::Fail(Fail::reject(Stage::Implement, "llm_error", e)),
            Ok(r) => r,
        };
        match extract_code(&reply.text, reply.truncated) {
            Ok(code) => Step::Pass(code),
            Err(e @ ExtractError::Truncated { .. }) => {
                Step::Fail(Fail::reject(Stage::Extract, "truncated", e.to_string()))
            }
            Err(e) => Step::Fail(Fail::repair(Stage::Extract, "no_code", e.to_string())),
        }
    }

    /// Every stage after extraction, cheapest first: validation, name,
    /// dedup and decontamination before any further LLM call, then review,
    /// cross-verification, calibration, storage.
    async fn check(
        &self,
        cand: &Candidate,
        cp: &mut Checkpoint,
        code: &str,
        cache: &mut ValidationCache,
    ) -> Result<Step<Outcome>> {
        let id = cand.id;
        let (report, validated) = step!(self.validate(id, cp, code, cache).await?);
        let meta = validated.env.meta().clone();
        if self.reserved.contains(&meta.id) || self.store.environment(&meta.id).is_ok() {
            return Ok(Step::Fail(name_taken(&meta.id)));
        }
        let unique = step!(self.unique(id, cp.round, &validated).await?);
        let mut review = Value::Null;
        if self.cfg.review && !cp.review_passed {
            review = step!(self.review(id, cand, code, &validated).await?);
            cp.review_passed = true;
            self.pass(id, Stage::Review, cp.round, review.to_string(), Some(cp))?;
        }
        let mut verifiers = if self.cfg.cross_verify {
            Some(step!(self.cross(id, cp, &validated).await?))
        } else {
            None
        };
        let calibration = match &self.solver {
            Some(solver) => Some(step!(
                self.calibrate(id, cp, solver, &validated, verifiers.as_mut())
                    .await?
            )),
            None => None,
        };
        self.accept(super::accept::Accepting {
            cand,
            cp,
            code,
            report: &report,
            validated: &validated,
            review,
            verifiers: verifiers.as_ref(),
            calibration: calibration.as_ref(),
            unique,
        })
        .await
    }

    /// Offline validation in the sandbox (from the cache for a module
    /// validated before).
    async fn validate(
        &self,
        id: i64,
        cp: &Checkpoint,
        code: &str,
        cache: &mut ValidationCache,
    ) -> Result<Step<(ValidationReport, Validated)>> {
        let hash = super::code_hash(code);
        let cached = cache.contains_key(&hash);
        if !cached {
            let v = self.validator.clone();
            let (file, src) = (format!("candidate_{id}.py"), code.to_string());
            let result = Self::blocking(move || v.validate(&file, &src)).await?;
            cache.insert(hash.clone(), result);
        }
        let (report, validated) = cache[&hash].clone();
        let Some(validated) = validated else {
            let f = report.failure.clone().unwrap_or_else(|| {
                crate::validate::Failure::new(crate::validate::Check::Load, "unknown", "")
            });
            let again = if cached {
                "\n(The module is identical to one that already failed this check.)"
            } else {
                ""
            };
            return Ok(Step::Fail(Fail::repair(
                Stage::Validate,
                format!("{}:{}", f.check.as_str(), f.reason),
                format!("{}{again}", f.detail),
            )));
        };
        let mut detail = summary_of(&report);
        if cached {
            detail.push_str(" (identical module: validated before, not run again)");
        }
        self.pass(id, Stage::Validate, cp.round, detail, None)?;
        Ok(Step::Pass((report, validated)))
    }
}

pub(super) fn name_taken(name: &str) -> Fail {
    Fail::repair(Stage::Name, "name_taken", prompts::name_taken(name))
}

fn summary_of(r: &ValidationReport) -> String {
    format!(
        "{} instances, {} probes ({} rejected), min distinct-prompt ratio {:.2}, {} ms",
        r.stats.instances,
        r.stats.probes,
        r.stats.probes_rejected,
        r.stats.unique_ratio,
        r.elapsed_ms
    )
}
