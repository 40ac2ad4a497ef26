//! `POST /openrlhf` (alias `POST /get_reward`, the path of OpenRLHF's own
//! `openrlhf.cli.serve_rm`): OpenRLHF's remote reward protocol.
//!
//! OpenRLHF (`openrlhf/utils/agent.py`, `_fetch_rewards_via_http`) POSTs
//! `{"query": [...], "prompts": [...], "labels": [...]}`: `query` is the
//! prompt followed by the response, decoded with the chat template's special
//! tokens kept; `prompts` the chat-templated prompts; `labels` the dataset
//! column named by `--data.label_key` (`--label_key` before the 2026 rename),
//! which for a resyn dataset is `label`, the ground-truth string. It reads
//! `rewards` (the training reward), `scores` (for dynamic filtering, in
//! `[0, 1]`) and `extra_logs` (logged per key).
//!
//! Reply: `rewards` = the composed score, `scores` = the verifier's reward,
//! `extra_logs` = `{"format_ok": [...], "correct": [...]}` (lists of 0/1 per
//! query, as `serve_rm` does). A label may also be the id of an instance
//! loaded with `--instances`.
//!
//! The response is recovered from each query by [`response_text`].

use axum::extract::State;
use axum::response::Response;
use resyn_reward::Target;
use serde::{Deserialize, Serialize};

use crate::verify::{
    check_batch, check_env, lookup, parse_ground_truth, prefix, reward_config, score,
};
use crate::{ApiError, AppState, Json};

#[derive(Debug, Deserialize)]
pub(crate) struct RewardRequest {
    query: Vec<String>,
    #[serde(default)]
    prompts: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<Vec<String>>,
}

#[derive(Serialize)]
struct RewardResponse {
    rewards: Vec<f64>,
    scores: Vec<f64>,
    extra_logs: ExtraLogs,
}

#[derive(Serialize)]
struct ExtraLogs {
    format_ok: Vec<f64>,
    correct: Vec<f64>,
}

/// Special tokens stripped from the end of a response (end-of-turn and
/// end-of-text markers of common chat templates).
const END_TOKENS: [&str; 8] = [
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "</s>",
    "<end_of_turn>",
    "<eos>",
    "<｜end▁of▁sentence｜>",
];

/// Assistant-turn openers, for queries whose prompt is not a prefix.
const ASSISTANT_MARKERS: [&str; 4] = [
    "<|im_start|>assistant",
    "<|start_header_id|>assistant<|end_header_id|>",
    "<start_of_turn>model",
    "<｜Assistant｜>",
];

/// The model's response inside an OpenRLHF `query`.
///
/// 1. When `prompt` is a prefix of `query`, the rest (the usual case:
///    OpenRLHF tokenizes the prompt and decodes prompt + response tokens).
/// 2. Else, when `prompt` occurs in `query`, what follows it.
/// 3. Else (a left-truncated prompt, or no prompt), what follows the last
///    assistant-turn opener of a known chat template (ChatML, Llama 3,
///    Gemma, DeepSeek); else the whole query.
///
/// Trailing end-of-turn special tokens and whitespace are then stripped.
pub fn response_text<'a>(query: &'a str, prompt: Option<&str>) -> &'a str {
    let body = match prompt.filter(|p| !p.is_empty()) {
        Some(p) if query.starts_with(p) => &query[p.len()..],
        Some(p) => match query.find(p) {
            Some(at) => &query[at + p.len()..],
            None => after_marker(query),
        },
        None => after_marker(query),
    };
    let mut s = body;
    loop {
        let t = s.trim_end();
        let t = END_TOKENS
            .iter()
            .find_map(|tok| t.strip_suffix(tok))
            .unwrap_or(t);
        if t.len() == s.len() {
            return s;
        }
        s = t;
    }
}

fn after_marker(query: &str) -> &str {
    ASSISTANT_MARKERS
        .iter()
        .filter_map(|m| query.rfind(m).map(|at| at + m.len()))
        .max()
        .map_or(query, |at| {
            query[at..].strip_prefix('\n').unwrap_or(&query[at..])
        })
}

pub(crate) async fn reward(
    State(state): State<AppState>,
    Json(req): Json<RewardRequest>,
) -> Result<Response, ApiError> {
    let n = req.query.len();
    check_batch(&state, n, "queries")?;
    let labels = req.labels.ok_or_else(|| {
        ApiError::invalid(
            "missing_labels",
            "`labels` is required: start OpenRLHF with `--data.label_key label` \
             (`--label_key label` before 2026) on a resyn dataset",
        )
    })?;
    if labels.len() != n || req.prompts.as_ref().is_some_and(|p| p.len() != n) {
        return Err(ApiError::invalid(
            "invalid_request",
            format!(
                "`query`, `prompts` and `labels` must have equal lengths (got {n}, {}, {})",
                req.prompts.as_ref().map_or(n, Vec::len),
                labels.len()
            ),
        ));
    }
    let config = reward_config(&state, None)?;
    let st = state.clone();
    let prompts = req.prompts;
    let query = req.query;
    tokio::task::spawn_blocking(move || {
        let targets = labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                label_target(&st, label).map_err(|e| prefix(e, &format!("labels[{i}]")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let items: Vec<(&Target, &str)> = targets
            .iter()
            .zip(&query)
            .enumerate()
            .map(|(i, (t, q))| {
                let p = prompts.as_ref().map(|p| p[i].as_str());
                (t, response_text(q, p))
            })
            .collect();
        let rewards = score(&st, &items, &config)?;
        st.metrics.record_rewards(&rewards);
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let body = RewardResponse {
            rewards: rewards.iter().map(|r| r.score).collect(),
            scores: rewards.iter().map(|r| r.verdict.reward).collect(),
            extra_logs: ExtraLogs {
                format_ok: rewards.iter().map(|r| flag(r.format_ok)).collect(),
                correct: rewards.iter().map(|r| flag(r.verdict.correct)).collect(),
            },
        };
        Ok(crate::json::bytes_response(&body))
    })
    .await
    .map_err(ApiError::internal)?
}

fn label_target(state: &AppState, label: &str) -> Result<Target, ApiError> {
    let target = if label.trim_start().starts_with('{') {
        parse_ground_truth(label)?
    } else if state.instances.contains_key(label) {
        Target::Instance(lookup(state, label)?)
    } else {
        return Err(ApiError::invalid(
            "malformed_ground_truth",
            "a label must be a resyn ground-truth JSON string (the dataset's `label` column) \
             or the id of an instance loaded with --instances",
        ));
    };
    check_env(state, &target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::response_text;

    #[test]
    fn strips_prompt_and_end_tokens() {
        let p = "<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n";
        let q = format!("{p}<think>t</think><answer>4</answer><|im_end|>\n<|endoftext|>");
        assert_eq!(
            response_text(&q, Some(p)),
            "<think>t</think><answer>4</answer>"
        );
        // A truncated prompt falls back to the assistant marker.
        assert_eq!(
            response_text(&q, Some("not in the query")),
            "<think>t</think><answer>4</answer>"
        );
        assert_eq!(response_text("plain", None), "plain");
        assert_eq!(response_text("", Some("")), "");
    }
}
