//! The one OpenAI-compatible chat-completions client of resyn, shared by
//! evaluation and synthesis.
//!
//! - [`Client`] (built with [`Client::builder`]) sends [`ChatRequest`]s to
//!   `{base_url}/chat/completions` and returns [`ChatResponse`]s: choice
//!   texts, finish reasons, token usage and latency.
//! - It bounds requests in flight with a semaphore, gives each attempt a
//!   timeout, and retries 408/429/5xx, timeouts and connection errors with
//!   exponential backoff, jitter and `Retry-After` ([`RetryPolicy`]).
//! - Usage is counted across clones in atomic counters ([`Client::usage`]).
//! - Errors ([`Error`]) name the URL, the status, a body excerpt and the
//!   number of attempts.
//! - With the `test-server` feature, `test_server` provides a scriptable
//!   local server for offline tests.
//!
//! ```no_run
//! # async fn demo() -> resyn_llm::Result<()> {
//! use resyn_llm::{ChatRequest, Client};
//! let client = Client::builder("http://127.0.0.1:8000/v1")
//!     .api_key_env("OPENAI_API_KEY")
//!     .max_concurrency(32)
//!     .build()?;
//! let mut req = ChatRequest::new("qwen2.5-7b-instruct", "What is 2 + 2?");
//! req.temperature = Some(0.0);
//! let resp = client.chat(&req).await?;
//! println!("{} ({:?}, {} tokens)", resp.text(), resp.latency, resp.usage.completion_tokens);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod client;
mod error;
mod retry;
mod types;
mod usage;

pub use client::{Client, ClientBuilder};
pub use error::{Error, Result};
pub use retry::RetryPolicy;
pub use types::{ChatRequest, ChatResponse, Choice, FinishReason, Message, Role, TokenUsage};
pub use usage::UsageSnapshot;

#[cfg(feature = "test-server")]
pub mod test_server;
