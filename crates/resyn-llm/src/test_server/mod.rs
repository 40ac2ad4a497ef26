//! A scriptable OpenAI-compatible server on 127.0.0.1, for offline tests
//! and benchmarks (feature `test-server`).
//!
//! Each request to `POST /v1/chat/completions` (or `/chat/completions`) is
//! recorded as a [`RecordedRequest`] and handed to a [`Responder`], which
//! returns the [`Behavior`] to act out: a normal answer, a truncated one
//! (`finish_reason: "length"`), a refusal, an HTTP error with an optional
//! `Retry-After`, a malformed body, or any of these after a delay. A
//! [`Script`] keys behaviours by prompt content (the k-th request whose
//! prompt contains a needle gets the k-th behaviour) with a fallback; any
//! `Fn(&RecordedRequest) -> Behavior` is a responder too.
//!
//! The server keeps a log of requests (unless disabled for benchmarks), a
//! total count and a gauge of requests in flight with its maximum, also
//! served as JSON at `GET /stats`. It runs on its own runtime in a
//! background thread, so it works under sync and async tests alike, and stops
//! when the [`TestServer`] is dropped.
//!
//! ```
//! use resyn_llm::test_server::{Behavior, Script, TestServer};
//! let script = Script::new(Behavior::answer("<answer>4</answer>"))
//!     .on("capital", [Behavior::status(429), Behavior::answer("<answer>Paris</answer>")]);
//! let server = TestServer::start(script);
//! assert!(server.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(server.request_count(), 0);
//! ```

mod behavior;
mod server;

pub use behavior::{Behavior, Responder, Script};
pub use server::{RecordedRequest, ServerStats, TestServer, TestServerBuilder};
