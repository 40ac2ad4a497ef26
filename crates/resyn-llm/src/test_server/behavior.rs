//! What the test server does with a request.

use std::sync::Mutex;
use std::time::Duration;

use super::RecordedRequest;

/// One scripted reaction to a request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Behavior {
    /// HTTP 200 with `text` as every choice's content.
    Reply {
        /// Completion text.
        text: String,
        /// Reported finish reason (`"stop"`, `"length"`, ...).
        finish_reason: String,
    },
    /// HTTP 200 with `content: null` and this `refusal` message.
    Refusal(String),
    /// An HTTP error status.
    Status {
        /// Status code.
        status: u16,
        /// Response body.
        body: String,
        /// `Retry-After` header value, if any.
        retry_after: Option<String>,
    },
    /// HTTP 200 with this raw (presumably invalid) body.
    Malformed(String),
    /// Wait, then act out the inner behaviour.
    Delay(Duration, Box<Behavior>),
}

impl Behavior {
    /// A normal answer (`finish_reason: "stop"`).
    pub fn answer(text: impl Into<String>) -> Self {
        Self::Reply {
            text: text.into(),
            finish_reason: "stop".into(),
        }
    }

    /// A truncated answer (`finish_reason: "length"`).
    pub fn truncated(text: impl Into<String>) -> Self {
        Self::Reply {
            text: text.into(),
            finish_reason: "length".into(),
        }
    }

    /// A refusal.
    pub fn refusal(message: impl Into<String>) -> Self {
        Self::Refusal(message.into())
    }

    /// An HTTP error with an OpenAI-style error body.
    pub fn status(status: u16) -> Self {
        Self::Status {
            status,
            body: format!(
                r#"{{"error":{{"message":"scripted status {status}","type":"test_server"}}}}"#
            ),
            retry_after: None,
        }
    }

    /// HTTP 429 asking the client to wait `secs` seconds.
    pub fn rate_limited(secs: f64) -> Self {
        Self::Status {
            status: 429,
            body: r#"{"error":{"message":"rate limited","type":"rate_limit"}}"#.into(),
            retry_after: Some(format!("{secs}")),
        }
    }

    /// A 200 response whose body is not a chat completion.
    pub fn malformed(raw: impl Into<String>) -> Self {
        Self::Malformed(raw.into())
    }

    /// This behaviour after `delay`.
    pub fn after(self, delay: Duration) -> Self {
        Self::Delay(delay, Box::new(self))
    }
}

/// Decides how to answer each request. Implemented by [`Script`] and by any
/// `Fn(&RecordedRequest) -> Behavior`.
pub trait Responder: Send + Sync + 'static {
    /// The behaviour for this request.
    fn respond(&self, request: &RecordedRequest) -> Behavior;
}

impl<F> Responder for F
where
    F: Fn(&RecordedRequest) -> Behavior + Send + Sync + 'static,
{
    fn respond(&self, request: &RecordedRequest) -> Behavior {
        self(request)
    }
}

impl Responder for Behavior {
    fn respond(&self, _: &RecordedRequest) -> Behavior {
        self.clone()
    }
}

struct Rule {
    needle: String,
    steps: Vec<Behavior>,
    hits: usize,
}

/// Behaviours keyed by prompt content, with a fallback.
///
/// Rules are tried in the order added; the first whose needle occurs in the
/// request's prompt (its last user message) applies. The k-th request a rule
/// matches gets its k-th behaviour; after the last, the last one repeats.
pub struct Script {
    rules: Mutex<Vec<Rule>>,
    fallback: Box<dyn Responder>,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script").finish_non_exhaustive()
    }
}

impl Script {
    /// A script that answers unmatched requests with `fallback`.
    pub fn new(fallback: impl Responder) -> Self {
        Self {
            rules: Mutex::new(Vec::new()),
            fallback: Box::new(fallback),
        }
    }

    /// Requests whose prompt contains `needle` get `steps` in turn.
    pub fn on(self, needle: impl Into<String>, steps: impl IntoIterator<Item = Behavior>) -> Self {
        let steps: Vec<Behavior> = steps.into_iter().collect();
        if !steps.is_empty() {
            self.rules
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(Rule {
                    needle: needle.into(),
                    steps,
                    hits: 0,
                });
        }
        self
    }
}

impl Responder for Script {
    fn respond(&self, request: &RecordedRequest) -> Behavior {
        {
            // A panicking responder elsewhere must not wedge the script.
            let mut rules = self
                .rules
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(rule) = rules
                .iter_mut()
                .find(|r| request.prompt.contains(&r.needle))
            {
                let step = rule.hits.min(rule.steps.len() - 1);
                rule.hits += 1;
                return rule.steps[step].clone();
            }
        }
        self.fallback.respond(request)
    }
}
