//! Online instances over HTTP (`resyn serve --curriculum CONFIG`).
//!
//! - `POST /curriculum/draw` `{"n": 8}` → `{"instances": [INSTANCE, ...],
//!   "position"}`: fresh instances (the `resyn generate` JSON shape) from
//!   the [`resyn_curriculum::Generator`].
//! - `POST /curriculum/report` `{"outcomes": [{"id"?, "env", "difficulty",
//!   "reward"}, ...]}` → the [`resyn_curriculum::ReportSummary`].
//! - `GET /curriculum` → `{"position", "environments": [...]}`: every
//!   environment's status, centre, level distribution, accuracy, weight
//!   and counters.
//! - `POST /verify` with `"report": true` reports each item's verifier
//!   reward itself (items need an instance: `id`, `instance` or a
//!   verifier-mode ground truth).
//!
//! After every draw or report the decisions made are appended to the
//! decision log (JSON Lines) and the state is saved atomically, when the
//! server was given those files, so a restarted server resumes the run.
//! Draws and reports are serialised by one lock; a rejected report
//! changes nothing.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use resyn_curriculum::{Generator, Outcome, ReportSummary, append_decisions};
use resyn_reward::{Reward, Target};
use serde::Deserialize;
use serde_json::json;

use crate::verify::check_batch;
use crate::{ApiError, AppState, Json};

/// The online curriculum of a server: a generator and where its state and
/// decision log go.
#[derive(Debug)]
pub struct Online {
    generator: Mutex<Generator>,
    state: Option<PathBuf>,
    log: Option<PathBuf>,
}

impl Online {
    /// Serve `generator`, keeping its state and decisions in memory only.
    pub fn new(generator: Generator) -> Self {
        Self {
            generator: Mutex::new(generator),
            state: None,
            log: None,
        }
    }

    /// Save the state to `path` after every draw and report.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state = Some(path.into());
        self
    }

    /// Append decisions to `path` (JSON Lines) after every draw and report.
    pub fn decision_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.log = Some(path.into());
        self
    }

    fn lock(&self) -> Result<MutexGuard<'_, Generator>, ApiError> {
        // A panic while holding the lock may have left the run half-updated:
        // refuse to go on rather than serve an inconsistent stream.
        self.generator
            .lock()
            .map_err(|_| ApiError::internal("curriculum lock poisoned by an earlier panic"))
    }

    /// Report outcomes, then persist.
    pub(crate) fn report(&self, outcomes: &[Outcome]) -> Result<ReportSummary, ApiError> {
        let mut g = self.lock()?;
        let summary = g.report(outcomes).map_err(curriculum_error)?;
        self.persist(&mut g)?;
        Ok(summary)
    }

    /// Log the decisions made, then save the state (in that order: a crash
    /// in between loses no logged decision).
    fn persist(&self, g: &mut Generator) -> Result<(), ApiError> {
        let decisions = g.take_decisions();
        if let Some(path) = &self.log {
            append_decisions(path, &decisions)
                .map_err(|e| ApiError::internal(format!("decision log {}: {e}", path.display())))?;
        }
        if let Some(path) = &self.state {
            g.save(path).map_err(ApiError::internal)?;
        }
        Ok(())
    }
}

/// A curriculum error as an answer: bad outcomes are 422, an exhausted
/// run 409, an environment that cannot run 503, anything else internal.
fn curriculum_error(e: resyn_curriculum::Error) -> ApiError {
    use resyn_curriculum::Error as E;
    match e {
        E::UnknownEnvironment { .. } | E::InvalidOutcome { .. } => {
            ApiError::invalid("invalid_outcome", e.to_string())
        }
        E::Exhausted(_) => ApiError::new(StatusCode::CONFLICT, "exhausted", e.to_string()),
        E::Unavailable(_) => ApiError::unavailable(e.to_string()),
        other => ApiError::internal(other),
    }
}

/// Report the verifier rewards of scored `/verify` items (all instances,
/// checked by the caller); errors name the item.
pub(crate) fn report_verdicts(
    state: &AppState,
    items: &[(Target, String)],
    rewards: &[Reward],
) -> Result<(), ApiError> {
    let outcomes: Vec<Outcome> = items
        .iter()
        .zip(rewards)
        .filter_map(|((t, _), r)| match t {
            Target::Instance(i) => Some(Outcome {
                id: Some(i.id.clone()),
                env: i.env.clone(),
                difficulty: i.difficulty,
                reward: r.verdict.reward,
            }),
            Target::Answer { .. } => None,
        })
        .collect();
    online(state)?.report(&outcomes).map_err(|mut e| {
        // Outcome i is item i: name the item the client sent.
        if let Some(rest) = e.message.strip_prefix("outcomes[") {
            e.message = format!("items[{rest}");
        }
        e
    })?;
    Ok(())
}

/// The server's curriculum, or 404 when it runs none.
pub(crate) fn online(state: &AppState) -> Result<&Online, ApiError> {
    state.curriculum.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_curriculum",
            "this server runs no curriculum (start it with --curriculum CONFIG)",
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DrawRequest {
    n: usize,
}

pub(crate) async fn draw(
    State(state): State<AppState>,
    Json(req): Json<DrawRequest>,
) -> Result<Response, ApiError> {
    check_batch(&state, req.n, "instances")?;
    online(&state)?;
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let online = online(&st)?;
        let mut g = online.lock()?;
        let instances = g.draw(req.n).map_err(curriculum_error)?;
        online.persist(&mut g)?;
        let position = g.position();
        drop(g);
        Ok(crate::json::bytes_response(
            &json!({"instances": instances, "position": position}),
        ))
    })
    .await
    .map_err(ApiError::internal)?
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportRequest {
    outcomes: Vec<Outcome>,
}

pub(crate) async fn report(
    State(state): State<AppState>,
    Json(req): Json<ReportRequest>,
) -> Result<Response, ApiError> {
    check_batch(&state, req.outcomes.len(), "outcomes")?;
    online(&state)?;
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let summary = online(&st)?.report(&req.outcomes)?;
        Ok(crate::json::bytes_response(&summary))
    })
    .await
    .map_err(ApiError::internal)?
}

pub(crate) async fn status(State(state): State<AppState>) -> Result<Response, ApiError> {
    online(&state)?;
    // The lock may be held by a long draw: wait for it off the runtime.
    tokio::task::spawn_blocking(move || {
        let g = online(&state)?.lock()?;
        Ok(crate::json::bytes_response(
            &json!({"position": g.position(), "environments": g.snapshot()}),
        ))
    })
    .await
    .map_err(ApiError::internal)?
}
