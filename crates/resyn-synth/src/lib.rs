//! The resyn synthesis pipeline: an OpenAI-compatible LLM endpoint becomes a
//! stream of validated reasoning environments.
//!
//! Stages, one module each, every decision recorded in the store
//! ([`resyn_store`]) with its reason:
//!
//! 1. [`keywords`]: built-in taxonomy (~100), user keyword files, keywords
//!    derived by the LLM from example problems; ordered for coverage.
//! 2. proposal ([`prompts::proposal`]): several tasks per keyword, told the
//!    titles that exist.
//! 3. implementation ([`prompts::implement`], few-shot from the seed corpus)
//!    and robust code extraction ([`extract`]).
//! 4. offline validation in the sandbox, cheapest checks first
//!    ([`validate`]), then a two-step LLM review ([`review`]), then
//!    cross-verification: a second verifier written from the question text
//!    alone must agree with the module's on references, probes and (with a
//!    solver) real model answers.
//! 5. repair: failures go back to the LLM with the precise error, up to
//!    [`SynthConfig::repair_rounds`] times.
//! 6. calibration ([`calibrate`]) with a solver endpoint: a one-sided
//!    Cochran–Armitage trend test on solve rate versus difficulty.
//! 7. dedup and decontamination ([`dedup`]).
//! 8. store: code, hash, provenance, reports.
//!
//! [`Pipeline`] runs the stages concurrently (bounded), resumably, and
//! reports progress through an [`Observer`]. Accepted environments reach
//! every entry point through `resyn-registry`, which reads the store.
//!
//! ```no_run
//! use std::sync::Arc;
//! use resyn_synth::{Pipeline, Quiet, SynthConfig, create_run, keywords, validate::Validator};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(resyn_store::Store::open("resyn.db")?);
//! let cfg = SynthConfig { base_url: "http://127.0.0.1:8000/v1".into(), model: "m".into(), target: 5, ..Default::default() };
//! let run = create_run(&store, &cfg, &keywords::order(keywords::builtin(), cfg.seed))?;
//! let sandbox = resyn_sandbox::Sandbox::new(Default::default())?;
//! let validator = Validator::new(sandbox, cfg.validation.clone());
//! let pipeline = Arc::new(Pipeline::new(store, run, validator, Vec::new(), Arc::new(Quiet))?);
//! let summary = pipeline.run().await?;
//! println!("accepted {} of {}", summary.accepted, summary.candidates);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub use config::{StructuredOutput, SynthConfig};
pub use llm::{Llm, Reply};
pub use pipeline::{
    Event, Example, Observer, Pipeline, Quiet, code_hash, create_run, load_examples,
};

pub mod calibrate;
pub mod dedup;
pub mod extract;
pub mod keywords;
pub mod prompts;
#[cfg(feature = "replay")]
pub mod replay;
pub mod review;
pub mod validate;

mod config;
mod llm;
mod pipeline;

/// Errors that stop a run (candidate failures are data, not errors).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] resyn_store::Error),
    /// The sandbox failed (not a candidate's fault).
    #[error(transparent)]
    Sandbox(#[from] validate::InfraError),
    /// An LLM client could not be built.
    #[error("LLM client: {0}")]
    Llm(#[source] resyn_llm::Error),
    /// The configuration is unusable.
    #[error("{0}")]
    Config(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
