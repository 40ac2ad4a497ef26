//! The resyn reward server (`resyn serve`): rewards over HTTP for trainers
//! that call out to a reward service instead of importing Python.
//!
//! [`app`] builds the [`axum::Router`] over an [`AppState`] (the
//! [`resyn_reward::Scorer`], the instances loaded at startup, the default
//! [`resyn_reward::RewardConfig`], [`Limits`], [`Metrics`] and, optionally,
//! an [`Online`] curriculum); [`serve`]
//! runs it on a listener until Ctrl-C or SIGTERM, finishing in-flight
//! requests. Routes:
//!
//! | route | what |
//! |---|---|
//! | `POST /verify` | `{"items": [{"id" \| "instance" \| "ground_truth", "response"}], "reward"?, "report"?}` → `{"results": [Reward]}` |
//! | `POST /openrlhf`, `POST /get_reward` | OpenRLHF's remote reward protocol: `{"query", "prompts", "labels"}` → `{"rewards", "scores", "extra_logs"}` |
//! | `POST /curriculum/draw` | `{"n"}` → `{"instances", "position"}`: online instances (`--curriculum`) |
//! | `POST /curriculum/report` | `{"outcomes": [{"id"?, "env", "difficulty", "reward"}]}` → what the curriculum did |
//! | `GET /curriculum` | every environment's difficulty distribution, accuracy, weight and counters |
//! | `GET /health` | liveness and what is loaded |
//! | `GET /metrics` | Prometheus text exposition |
//!
//! Scoring runs on tokio's blocking pool (and from there on all cores), so
//! the async runtime is never stalled; large request bodies are decoded
//! there too. Limits are tower layers on the scoring routes: body size
//! (413), a global concurrency limit (requests queue), and a per-request
//! timeout (503) that counts time spent in the queue. Every error is JSON
//! `{"error": {"code", "message"}}` with a 4xx status for bad input
//! ([`ApiError`]); `docs/trainers.md` documents the protocol.
//!
//! ```
//! use resyn_serve::{AppState, Limits, app};
//! use resyn_reward::{RewardConfig, Scorer};
//!
//! let state = AppState::new(Scorer::new(resyn_envs::registry()), Vec::new(),
//!                           RewardConfig::default(), Limits::default())?;
//! let router: axum::Router = app(state);
//! # Ok::<(), resyn_serve::Error>(())
//! ```
#![deny(missing_docs)]

pub use app::{app, run, run_router, serve, serve_router, shutdown_signal};
pub use curriculum::Online;
pub use error::{ApiError, Error};
pub use json::Json;
pub use metrics::Metrics;
pub use openrlhf::response_text;
pub use state::{AppState, Limits};

mod app;
mod curriculum;
mod error;
mod json;
mod metrics;
mod openrlhf;
mod ops;
mod state;
mod verify;
