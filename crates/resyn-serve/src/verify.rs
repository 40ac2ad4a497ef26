//! `POST /verify`: score a batch of responses.
//!
//! Request: `{"items": [ITEM, ...], "reward": {"verifier_weight", "format_weight"}?}`
//! where each ITEM is `{"response": "...", ...}` plus exactly one of
//! - `"id"`: an instance loaded at startup (`resyn serve --instances`),
//! - `"instance"`: a whole instance as `resyn generate` writes it,
//! - `"ground_truth"`: a dataset row's `reward_model.ground_truth` string.
//!
//! With `"report": true` (a server started with `--curriculum`), each
//! item's verifier reward is also reported to the online curriculum as an
//! outcome of its instance; every item then needs an instance (`id`,
//! `instance`, or a verifier-mode ground truth) of a curriculum
//! environment.
//!
//! Response: `{"results": [REWARD, ...]}` in item order, each
//! `{"score", "format_ok", "reward", "correct", "reason", "detail"}`
//! ([`resyn_reward::Reward`]). An item that cannot be scored (unknown id or
//! environment, malformed ground truth, none or several of the three keys)
//! rejects the whole request with 422 naming the item (`items[3]: ...`):
//! bad input is an error, while a bad *response* is a verdict.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use resyn_core::Instance;
use resyn_reward::{Reward, RewardConfig, Target};
use serde::{Deserialize, Serialize};

use crate::{ApiError, AppState, Json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyRequest {
    items: Vec<Item>,
    #[serde(default)]
    reward: Option<RewardConfig>,
    #[serde(default)]
    report: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    instance: Option<Instance>,
    #[serde(default)]
    ground_truth: Option<String>,
    response: String,
}

#[derive(Serialize)]
struct VerifyResponse<'a> {
    results: &'a [Reward],
}

pub(crate) async fn verify(
    State(state): State<AppState>,
    Json(req): Json<VerifyRequest>,
) -> Result<Response, ApiError> {
    check_batch(&state, req.items.len(), "items")?;
    let config = reward_config(&state, req.reward)?;
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let resolved = req
            .items
            .into_iter()
            .enumerate()
            .map(|(i, item)| resolve(&st, item).map_err(|e| prefix(e, &format!("items[{i}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        if req.report {
            crate::curriculum::online(&st)?;
            for (i, (t, _)) in resolved.iter().enumerate() {
                if let Target::Answer { .. } = t {
                    return Err(ApiError::invalid(
                        "invalid_request",
                        format!(
                            "items[{i}]: \"report\" needs an instance (`id`, `instance`, or a \
                             verifier-mode ground truth)"
                        ),
                    ));
                }
            }
        }
        let items: Vec<(&Target, &str)> = resolved.iter().map(|(t, r)| (t, r.as_str())).collect();
        let rewards = score(&st, &items, &config)?;
        st.metrics.record_rewards(&rewards);
        if req.report {
            crate::curriculum::report_verdicts(&st, &resolved, &rewards)?;
        }
        Ok(crate::json::bytes_response(&VerifyResponse {
            results: &rewards,
        }))
    })
    .await
    .map_err(ApiError::internal)?
}

fn resolve(state: &AppState, item: Item) -> Result<(Target, String), ApiError> {
    let target = match (item.id, item.instance, item.ground_truth) {
        (Some(id), None, None) => Target::Instance(lookup(state, &id)?),
        (None, Some(inst), None) => Target::Instance(Arc::new(inst)),
        (None, None, Some(gt)) => parse_ground_truth(&gt)?,
        _ => {
            return Err(ApiError::invalid(
                "invalid_request",
                "give exactly one of `id`, `instance`, `ground_truth`",
            ));
        }
    };
    check_env(state, &target)?;
    Ok((target, item.response))
}

/// The instance loaded under `id`.
pub(crate) fn lookup(state: &AppState, id: &str) -> Result<Arc<Instance>, ApiError> {
    state.instances.get(id).cloned().ok_or_else(|| {
        ApiError::invalid(
            "unknown_instance",
            if state.instances.is_empty() {
                format!("unknown instance id `{id}` (no instances loaded: start the server with --instances FILE)")
            } else {
                format!("unknown instance id `{id}`")
            },
        )
    })
}

/// Decode a ground truth, as a 422 on failure.
pub(crate) fn parse_ground_truth(gt: &str) -> Result<Target, ApiError> {
    Target::parse_ground_truth(gt)
        .map_err(|e| ApiError::invalid("malformed_ground_truth", e.to_string()))
}

/// Reject targets whose environment is unknown (verifier targets only).
pub(crate) fn check_env(state: &AppState, target: &Target) -> Result<(), ApiError> {
    if let Target::Instance(i) = target
        && state.scorer.registry().get(&i.env).is_err()
    {
        return Err(ApiError::invalid(
            "unknown_environment",
            format!("unknown environment `{}`", i.env),
        ));
    }
    Ok(())
}

/// Score resolved items: a 503 when an environment cannot run on this
/// machine (never a reward of 0 for it); any other error left at this point
/// is a server bug.
pub(crate) fn score(
    state: &AppState,
    items: &[(&Target, &str)],
    config: &RewardConfig,
) -> Result<Vec<Reward>, ApiError> {
    state
        .scorer
        .score_targets(items, config)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| match e {
            resyn_reward::Error::Unavailable { .. } => ApiError::unavailable(e.to_string()),
            other => ApiError::internal(other),
        })
}

pub(crate) fn check_batch(state: &AppState, n: usize, what: &str) -> Result<(), ApiError> {
    if n > state.limits.max_batch {
        return Err(ApiError::too_large(
            "batch_too_large",
            format!(
                "{n} {what} in one request; the limit is {} (split the batch)",
                state.limits.max_batch
            ),
        ));
    }
    Ok(())
}

pub(crate) fn reward_config(
    state: &AppState,
    given: Option<RewardConfig>,
) -> Result<RewardConfig, ApiError> {
    let config = given.unwrap_or(state.reward);
    config
        .validate()
        .map_err(|e| ApiError::invalid("invalid_request", e.to_string()))?;
    Ok(config)
}

pub(crate) fn prefix(mut e: ApiError, at: &str) -> ApiError {
    e.message = format!("{at}: {}", e.message);
    e
}
