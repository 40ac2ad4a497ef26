//! The pipeline's view of an LLM: one chat call, recorded in the store, and
//! replayed from it when a resumed run repeats a byte-identical request.

use std::sync::Arc;
use std::time::Instant;

use resyn_llm::{ChatRequest, Client, FinishReason, Message};
use resyn_store::{CallRecord, Store};
use sha2::{Digest, Sha256};

/// A reply text and whether it was cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The first choice's text.
    pub text: String,
    /// `finish_reason` was `length`.
    pub truncated: bool,
    /// Served from the store (an identical request of this run succeeded
    /// before an interruption).
    pub replayed: bool,
}

/// A model on an endpoint, recording every call.
#[derive(Debug, Clone)]
pub(crate) struct Llm {
    client: Client,
    model: String,
    store: Arc<Store>,
    run: i64,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    /// Replies of calls up to this id (earlier sessions) are replayed.
    replay_up_to: i64,
}

impl Llm {
    /// Calls go to `client` for `model` and are recorded under `run`.
    /// Byte-identical requests answered before this `Llm` was made (an
    /// interrupted session of the run) are replayed from the store.
    pub(crate) fn new(
        client: Client,
        model: impl Into<String>,
        store: Arc<Store>,
        run: i64,
    ) -> Self {
        let replay_up_to = store.last_call_id().unwrap_or(0);
        Self {
            replay_up_to,
            client,
            model: model.into(),
            store,
            run,
            temperature: None,
            max_tokens: None,
        }
    }

    /// Sampling temperature sent with every request.
    pub(crate) fn temperature(mut self, t: Option<f64>) -> Self {
        self.temperature = t;
        self
    }

    /// `max_tokens` sent with every request.
    pub(crate) fn max_tokens(mut self, n: Option<u32>) -> Self {
        self.max_tokens = n;
        self
    }

    /// The model name.
    pub(crate) fn model(&self) -> &str {
        &self.model
    }

    /// The endpoint URL.
    pub(crate) fn endpoint(&self) -> &str {
        self.client.endpoint()
    }

    /// The underlying client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// One chat call with the system message and `prompt`.
    ///
    /// # Errors
    /// The client's error (after its retries), as text; it is recorded too.
    pub(crate) async fn ask(
        &self,
        purpose: &str,
        candidate: Option<i64>,
        system: Option<&str>,
        prompt: &str,
        seed: Option<u64>,
    ) -> Result<Reply, String> {
        self.ask_formatted(purpose, candidate, system, prompt, seed, None)
            .await
    }

    /// [`Llm::ask`] with an optional `response_format` request field
    /// (structured output; see [`crate::StructuredOutput`]).
    ///
    /// # Errors
    /// As [`Llm::ask`].
    pub(crate) async fn ask_formatted(
        &self,
        purpose: &str,
        candidate: Option<i64>,
        system: Option<&str>,
        prompt: &str,
        seed: Option<u64>,
        response_format: Option<serde_json::Value>,
    ) -> Result<Reply, String> {
        let mut messages = Vec::new();
        if let Some(s) = system {
            messages.push(Message::system(s));
        }
        messages.push(Message::user(prompt));
        let mut req = ChatRequest {
            model: self.model.clone(),
            messages,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            seed,
            ..ChatRequest::default()
        };
        if let Some(f) = response_format {
            req.extra.insert("response_format".into(), f);
        }
        let body = serde_json::to_value(&req).unwrap_or(serde_json::Value::Null);
        let hash = {
            let mut h = Sha256::new();
            h.update(body.to_string().as_bytes());
            h.finalize().iter().fold(String::new(), |mut s, b| {
                s.push_str(&format!("{b:02x}"));
                s
            })
        };
        if let Ok(Some((text, finish))) = self.store.replay(self.run, &hash, self.replay_up_to) {
            return Ok(Reply {
                truncated: finish.as_deref() == Some("length"),
                text,
                replayed: true,
            });
        }
        let start = Instant::now();
        let result = self.client.chat(&req).await;
        let mut rec = CallRecord {
            run_id: Some(self.run),
            candidate_id: candidate,
            purpose: purpose.to_string(),
            request_hash: hash,
            request: body,
            ..CallRecord::default()
        };
        let out = match result {
            Ok(resp) => {
                let choice = resp.choices.first();
                let finish = choice.and_then(|c| c.finish_reason.clone());
                rec.reply = Some(resp.text().to_string());
                rec.finish_reason = finish.as_ref().map(|f| f.as_str().to_string());
                rec.prompt_tokens = resp.usage.prompt_tokens;
                rec.completion_tokens = resp.usage.completion_tokens;
                rec.latency_ms = u64::try_from(resp.latency.as_millis()).unwrap_or(u64::MAX);
                rec.status = "ok".into();
                Ok(Reply {
                    text: resp.text().to_string(),
                    truncated: finish == Some(FinishReason::Length),
                    replayed: false,
                })
            }
            Err(e) => {
                rec.latency_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
                rec.status = "error".into();
                rec.error = Some(e.to_string());
                Err(e.to_string())
            }
        };
        // An audit row that cannot be written is reported but does not
        // discard a good reply.
        if let Err(e) = self.store.record_call(&rec) {
            return Err(format!("recording the LLM call failed: {e}"));
        }
        out
    }
}
