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
//!    ([`validate`]); dedup (text and behaviour, against stored, native and
//!    seed environments) and decontamination ([`dedup`]) before any further
//!    LLM call; a two-step LLM review ([`review`]) by the reviewer model;
//!    cross-verification: verifiers written from the rendered questions
//!    alone score references, probes and (with a solver) real model
//!    answers, and every disagreement is adjudicated (majority of three
//!    verifiers, an LLM judge where one abstains).
//! 5. repair: failures go back to the LLM with the evidence (the question,
//!    the exact disputed answer, who said what), up to
//!    [`SynthConfig::repair_rounds`] times.
//! 6. calibration ([`calibrate`]) with a solver endpoint: a one-sided
//!    Cochran–Armitage trend test on solve rate versus difficulty, headroom
//!    at the top, reach at the bottom; without one the environment is
//!    stored as uncalibrated.
//! 7. store: code, hash, provenance, reports (dedup again, under the
//!    acceptance lock).
//!
//! Each stage is a [`Stage`]; the summary's funnel counts the candidates
//! that passed each.
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
pub use pipeline::{
    Event, Example, Observer, Pipeline, Quiet, Stage, code_hash, create_run, load_examples,
};
pub use verifier_module::verifier_module;

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
mod verifier_module;

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
    /// A task of the run panicked (a bug, not a candidate's fault): `task`
    /// says which kind, `source` is tokio's report of it.
    #[error("a {task} panicked: {source}")]
    Panicked {
        /// `pipeline task` or `validation thread`.
        task: &'static str,
        /// The join error carrying the panic.
        #[source]
        source: tokio::task::JoinError,
    },
    /// A keyword file names an unknown category
    /// ([`keywords::parse_keyword_file`]).
    #[error("line {line}: {source}")]
    KeywordFile {
        /// 1-based line number.
        line: usize,
        /// The category that did not parse.
        #[source]
        source: resyn_core::UnknownCategory,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
