//! Request and response types of the chat-completions API.
//!
//! Requests serialize to the OpenAI wire format, leaving out every unset
//! option so servers apply their own defaults. Responses are parsed
//! leniently: `content` may be `null` (refusals), `finish_reason` and `usage`
//! may be missing, and unknown fields are ignored.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The user's turn.
    User,
    /// The model's turn.
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Text.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A chat-completions request. Unset options are omitted from the body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Model name as the server knows it.
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Maximum completion tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Number of choices to sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Sampling seed (best effort on most servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Vendor-specific fields merged into the body (e.g. `top_k`).
    #[serde(flatten, default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ChatRequest {
    /// A request for `model` with one user message.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            messages: vec![Message::user(prompt)],
            ..Self::default()
        }
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FinishReason {
    /// Natural end or a stop sequence.
    Stop,
    /// `max_tokens` was reached: the text is truncated.
    Length,
    /// The provider's content filter cut the text.
    ContentFilter,
    /// The model called a tool.
    ToolCalls,
    /// Anything else a server reports.
    Other(String),
}

impl FinishReason {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ContentFilter => "content_filter",
            Self::ToolCalls => "tool_calls",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for FinishReason {
    fn from(s: &str) -> Self {
        match s {
            "stop" | "eos" => Self::Stop,
            "length" => Self::Length,
            "content_filter" => Self::ContentFilter,
            "tool_calls" | "function_call" => Self::ToolCalls,
            other => Self::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for FinishReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FinishReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::from(s.as_str()))
    }
}

/// One sampled completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The completion text (empty when the server sent `null`).
    pub text: String,
    /// Why generation stopped, when the server said.
    pub finish_reason: Option<FinishReason>,
    /// The provider's refusal message, if it refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Separate reasoning text some servers return (`reasoning_content`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
}

/// Token counts reported by the server (zero when it reported none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Prompt tokens.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Completion tokens (all choices).
    #[serde(default)]
    pub completion_tokens: u64,
}

/// A successful response.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    /// The model that answered, as the server named it.
    pub model: String,
    /// Sampled completions, in `index` order.
    pub choices: Vec<Choice>,
    /// Token counts.
    pub usage: TokenUsage,
    /// Time of the successful attempt, from sending to the parsed body.
    pub latency: Duration,
    /// Attempts made (1 when the first one succeeded).
    pub attempts: u32,
}

impl ChatResponse {
    /// The first choice's text (empty if there is none).
    pub fn text(&self) -> &str {
        self.choices.first().map_or("", |c| c.text.as_str())
    }

    /// Every choice's text.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.choices.iter().map(|c| c.text.as_str())
    }
}

// ---- wire format of responses -------------------------------------------

#[derive(Deserialize)]
pub(crate) struct WireResponse {
    #[serde(default)]
    pub model: String,
    pub choices: Vec<WireChoice>,
    #[serde(default)]
    pub usage: Option<TokenUsage>,
}

#[derive(Deserialize)]
pub(crate) struct WireChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub message: Option<WireMessage>,
    /// Legacy completions-style text.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
}

#[derive(Deserialize)]
pub(crate) struct WireMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default)]
    pub reasoning_content: Option<String>,
}

impl WireResponse {
    pub(crate) fn into_choices(mut self) -> (String, Vec<Choice>, TokenUsage) {
        self.choices.sort_by_key(|c| c.index);
        let choices = self
            .choices
            .into_iter()
            .map(|c| {
                let (content, refusal, reasoning) = match c.message {
                    Some(m) => (m.content, m.refusal, m.reasoning_content),
                    None => (None, None, None),
                };
                Choice {
                    text: content.or(c.text).unwrap_or_default(),
                    finish_reason: c.finish_reason,
                    refusal,
                    reasoning,
                }
            })
            .collect();
        (self.model, choices, self.usage.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_omits_unset_options() {
        let r = ChatRequest::new("m", "hi");
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#
        );
        let mut r = ChatRequest {
            temperature: Some(0.5),
            n: Some(2),
            stop: vec!["</answer>".into()],
            seed: Some(7),
            ..r
        };
        r.extra.insert("top_k".into(), 20.into());
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(v["top_k"], 20);
        assert_eq!(v["stop"][0], "</answer>");
        assert_eq!(serde_json::from_value::<ChatRequest>(v).unwrap(), r);
    }

    #[test]
    fn lenient_response_parsing() {
        let body = r#"{"id":"x","choices":[
            {"index":1,"message":{"role":"assistant","content":null,"refusal":"no"},"finish_reason":"stop"},
            {"index":0,"message":{"role":"assistant","content":"A"},"finish_reason":"length","logprobs":null}
        ]}"#;
        let w: WireResponse = serde_json::from_str(body).unwrap();
        let (_, choices, usage) = w.into_choices();
        assert_eq!(usage, TokenUsage::default());
        assert_eq!(choices[0].text, "A");
        assert_eq!(choices[0].finish_reason, Some(FinishReason::Length));
        assert_eq!(choices[1].text, "");
        assert_eq!(choices[1].refusal.as_deref(), Some("no"));
        assert_eq!(FinishReason::from("weird").as_str(), "weird");
    }
}
