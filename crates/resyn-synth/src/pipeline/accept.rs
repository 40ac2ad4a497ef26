//! Storage, under the acceptance lock: the target check, dedup against what
//! was accepted since the candidate's own dedup, and the store's unique keys.

use std::sync::Arc;

use resyn_core::Environment;
use resyn_store::{Accepted, Candidate, Checkpoint, NewEnvironment, StageEvent};
use serde_json::{Value, json};

use super::cross::Verifiers;
use super::stage::{Fail, Outcome, Stage, Step, step};
use super::unique::{Known, Unique};
use super::{Event, Pipeline, candidate::name_taken};
use crate::Result;
use crate::calibrate::Calibration;
use crate::validate::{Validated, ValidationReport};

/// Everything a passing candidate brings to storage.
pub(super) struct Accepting<'a> {
    pub cand: &'a Candidate,
    pub cp: &'a Checkpoint,
    pub code: &'a str,
    pub report: &'a ValidationReport,
    pub validated: &'a Validated,
    pub review: Value,
    pub verifiers: Option<&'a Verifiers>,
    pub calibration: Option<&'a Calibration>,
    pub unique: Unique,
}

impl Pipeline {
    pub(super) async fn accept(&self, a: Accepting<'_>) -> Result<Step<Outcome>> {
        let id = a.cand.id;
        let meta = a.validated.env.meta().clone();
        // Two near-identical candidates finishing together cannot both get
        // in, and the target is never exceeded.
        let mut accepted = self.accept_lock.lock().await;
        if *accepted >= self.cfg.target {
            self.skip_target_reached(id, a.cp.round)?;
            return Ok(Step::Pass(Outcome::Skipped));
        }
        let since: Vec<Arc<Known>> = self.existing.lock().await[a.unique.compared..].to_vec();
        step!(self.dedup(&a.unique.fp, a.validated, &since).await?);
        let calls: Vec<Value> = self
            .store
            .candidate_calls(id)?
            .into_iter()
            .map(|c| json!({"purpose": c.purpose, "request_hash": c.request_hash}))
            .collect();
        let env = NewEnvironment {
            name: meta.id.clone(),
            version: meta.version,
            content_hash: super::code_hash(a.code),
            category: meta.category.as_str().to_string(),
            description: meta.description.clone(),
            code: a.code.to_string(),
            provenance: json!({
                "endpoint": self.llm.endpoint(),
                "model": self.llm.model(),
                "reviewer": json!({"endpoint": self.reviewer.endpoint(), "model": self.reviewer.model()}),
                "solver": self.solver.as_ref().map(|s| json!({"endpoint": s.endpoint(), "model": s.model()})),
                "run": self.run,
                "candidate": id,
                "keyword": a.cand.keyword,
                "proposal": a.cand.proposal,
                "repair_rounds": a.cp.round,
                "calls": calls,
            }),
            validation: json!({
                "offline": a.report,
                "review": a.review,
                "cross_verify": a.verifiers.map(Verifiers::report),
            }),
            calibration: a.calibration.and_then(|c| serde_json::to_value(c).ok()),
            fingerprint: serde_json::to_value(&a.unique.fp).unwrap_or(Value::Null),
            run_id: Some(self.run),
            candidate_id: Some(id),
        };
        let ev = StageEvent {
            stage: Stage::Store.as_str().into(),
            passed: true,
            reason: "ok".into(),
            detail: meta.id.clone(),
            round: a.cp.round,
        };
        match self.store.accept(&env, &ev)? {
            Accepted::Stored(_) => {
                *accepted += 1;
                self.existing.lock().await.push(Arc::new(Known::stored(
                    meta.id.clone(),
                    a.unique.fp,
                    a.code.to_string(),
                )));
                self.observer.event(&Event::Accepted {
                    candidate: id,
                    name: meta.id,
                });
                Ok(Step::Pass(Outcome::Accepted))
            }
            Accepted::Duplicate {
                key: "name",
                existing,
            } => Ok(Step::Fail(Fail {
                stage: Stage::Store,
                ..name_taken(&existing)
            })),
            Accepted::Duplicate { existing, .. } => Ok(Step::Fail(Fail::reject(
                Stage::Store,
                "duplicate_code",
                format!("identical code is already stored as `{existing}`"),
            ))),
            other => Ok(Step::Fail(Fail::reject(
                Stage::Store,
                "not_stored",
                format!("{other:?}"),
            ))),
        }
    }
}
