//! The client: bounded concurrency, per-request timeout, retries, accounting.
//!
//! Invariants:
//! - At most `max_concurrency` HTTP requests of one client (and its clones)
//!   are in flight at once; a request waiting out a backoff holds no slot.
//! - Every attempt has the full per-request timeout, body read included.
//! - Usage counters count every attempt and every successful call's tokens.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use tokio::sync::Semaphore;

use crate::error::excerpt;
use crate::retry::{Jitter, parse_retry_after, retryable_status};
use crate::types::WireResponse;
use crate::usage::Counters;
use crate::{ChatRequest, ChatResponse, Error, Result, RetryPolicy, UsageSnapshot};

/// Builds a [`Client`]; see [`Client::builder`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    api_key: Option<String>,
    api_key_env: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    max_concurrency: usize,
    retry: RetryPolicy,
}

impl ClientBuilder {
    /// Send this API key as a bearer token.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Read the API key from this environment variable when building; an
    /// unset or empty variable is an error ([`Error::MissingApiKey`]).
    pub fn api_key_env(mut self, var: impl Into<String>) -> Self {
        self.api_key_env = Some(var.into());
        self
    }

    /// Timeout of one attempt, from sending to the last body byte (default 10 min).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Timeout of establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Most requests in flight at once (default 16).
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n;
        self
    }

    /// Retry settings (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Build the client.
    ///
    /// # Errors
    /// [`Error::MissingApiKey`] when the key variable is unset,
    /// [`Error::Config`] for an unusable URL, key or concurrency, and
    /// [`Error::Build`] if the TLS stack cannot be set up.
    pub fn build(self) -> Result<Client> {
        let base = self.base_url.trim().trim_end_matches('/');
        let url = reqwest::Url::parse(base)
            .map_err(|e| Error::Config(format!("base URL `{base}`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "base URL `{base}` must start with http:// or https://"
            )));
        }
        if self.max_concurrency == 0 {
            return Err(Error::Config("max_concurrency must be at least 1".into()));
        }
        let key = match (&self.api_key, &self.api_key_env) {
            (Some(k), _) => Some(k.clone()),
            (None, Some(var)) => match std::env::var(var) {
                Ok(k) if !k.trim().is_empty() => Some(k.trim().to_string()),
                _ => return Err(Error::MissingApiKey { var: var.clone() }),
            },
            (None, None) => None,
        };
        let auth = key
            .map(|k| {
                let mut v = HeaderValue::from_str(&format!("Bearer {k}")).map_err(|_| {
                    Error::Config("API key contains characters not allowed in a header".into())
                })?;
                v.set_sensitive(true);
                Ok::<_, Error>(v)
            })
            .transpose()?;
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(Error::Build)?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoint: format!("{base}/chat/completions"),
                auth,
                limit: Semaphore::new(self.max_concurrency),
                max_concurrency: self.max_concurrency,
                timeout: self.timeout,
                retry: self.retry,
                usage: Counters::default(),
                jitter: Jitter::new(),
            }),
        })
    }
}

/// An OpenAI-compatible chat-completions client. Cheap to clone; clones
/// share the connection pool, the concurrency limit and the usage counters.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    endpoint: String,
    auth: Option<HeaderValue>,
    limit: Semaphore,
    max_concurrency: usize,
    timeout: Duration,
    retry: RetryPolicy,
    usage: Counters,
    jitter: Jitter,
}

/// One failed attempt, before it is known whether it will be retried.
enum Attempt {
    Status {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    Timeout,
    Transport(reqwest::Error),
    Malformed {
        body: String,
        source: serde_json::Error,
    },
    NoChoices(String),
}

impl Attempt {
    fn retry_after(&self) -> Option<Option<Duration>> {
        match self {
            Self::Status {
                status,
                retry_after,
                ..
            } if retryable_status(*status) => Some(*retry_after),
            Self::Timeout | Self::Transport(_) => Some(None),
            _ => None,
        }
    }

    fn into_error(self, url: &str, timeout: Duration, attempts: u32) -> Error {
        let url = url.to_string();
        match self {
            Self::Status { status, body, .. } => Error::Status {
                status,
                body,
                url,
                attempts,
            },
            Self::Timeout => Error::Timeout {
                url,
                timeout,
                attempts,
            },
            Self::Transport(source) => Error::Transport {
                url,
                attempts,
                source,
            },
            Self::Malformed { body, source } => Error::Malformed { url, body, source },
            Self::NoChoices(body) => Error::NoChoices { url, body },
        }
    }
}

impl Client {
    /// Start building a client for an endpoint such as
    /// `http://127.0.0.1:8000/v1` (requests go to `{base_url}/chat/completions`).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            api_key: None,
            api_key_env: None,
            timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(10),
            max_concurrency: 16,
            retry: RetryPolicy::default(),
        }
    }

    /// The URL requests are sent to.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The configured concurrency limit.
    pub fn max_concurrency(&self) -> usize {
        self.inner.max_concurrency
    }

    /// Requests in flight right now.
    pub fn in_flight(&self) -> usize {
        self.inner.max_concurrency - self.inner.limit.available_permits()
    }

    /// Usage totals so far.
    pub fn usage(&self) -> UsageSnapshot {
        self.inner.usage.snapshot()
    }

    /// Send a chat-completions request, retrying per the [`RetryPolicy`].
    ///
    /// # Errors
    /// [`Error::Status`], [`Error::Timeout`] or [`Error::Transport`] once
    /// retries are exhausted (or at once for a non-retryable status);
    /// [`Error::Malformed`] / [`Error::NoChoices`] for an unusable 200 body.
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let inner = &self.inner;
        // Serializing plain data structs with string keys cannot fail.
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::Config(format!("cannot serialize request: {e}")))?;
        let mut retries = 0u32;
        loop {
            let outcome = {
                // The semaphore is never closed, so acquiring cannot fail.
                let _slot = inner.limit.acquire().await.ok();
                inner.usage.attempt();
                self.attempt(&body).await
            };
            match outcome {
                Ok(mut resp) => {
                    resp.attempts = retries + 1;
                    inner.usage.success(
                        resp.usage.prompt_tokens,
                        resp.usage.completion_tokens,
                        resp.latency,
                    );
                    return Ok(resp);
                }
                Err(failed) => match failed.retry_after() {
                    Some(retry_after) if retries < inner.retry.max_retries => {
                        inner.usage.retry();
                        let wait = inner.retry.delay(retries, inner.jitter.next(), retry_after);
                        tokio::time::sleep(wait).await;
                        retries += 1;
                    }
                    _ => {
                        inner.usage.failure();
                        return Err(failed.into_error(&inner.endpoint, inner.timeout, retries + 1));
                    }
                },
            }
        }
    }

    async fn attempt(&self, body: &[u8]) -> Result<ChatResponse, Attempt> {
        let inner = &self.inner;
        let start = Instant::now();
        let mut req = inner
            .http
            .post(&inner.endpoint)
            .timeout(inner.timeout)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let Some(auth) = &inner.auth {
            req = req.header(AUTHORIZATION, auth.clone());
        }
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                Attempt::Timeout
            } else {
                Attempt::Transport(e)
            }
        };
        let resp = req.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let bytes = resp.bytes().await.map_err(classify)?;
        if !(200..300).contains(&status) {
            return Err(Attempt::Status {
                status,
                body: excerpt(&bytes),
                retry_after,
            });
        }
        let wire: WireResponse =
            serde_json::from_slice(&bytes).map_err(|source| Attempt::Malformed {
                body: excerpt(&bytes),
                source,
            })?;
        let (model, choices, usage) = wire.into_choices();
        if choices.is_empty() {
            return Err(Attempt::NoChoices(excerpt(&bytes)));
        }
        Ok(ChatResponse {
            model,
            choices,
            usage,
            latency: start.elapsed(),
            attempts: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_validates() {
        assert!(matches!(
            Client::builder("ftp://x").build(),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Client::builder("not a url").build(),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Client::builder("http://127.0.0.1:1")
                .max_concurrency(0)
                .build(),
            Err(Error::Config(_))
        ));
        let e = Client::builder("http://127.0.0.1:1")
            .api_key_env("RESYN_LLM_TEST_SURELY_UNSET")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("RESYN_LLM_TEST_SURELY_UNSET"), "{e}");
        let c = Client::builder("http://127.0.0.1:1/v1/").build().unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:1/v1/chat/completions");
        assert_eq!(c.in_flight(), 0);
    }
}
