//! The core model of a resyn reasoning environment.
//!
//! An [`Environment`] has two halves: an instance generator
//! ([`Environment::generate`]: seed + difficulty → [`Instance`]) and a verifier
//! ([`Environment::verify`]: instance + model response → [`Verdict`]). Native
//! (Rust) and sandboxed (Python) environments both implement this trait, so
//! everything downstream (datasets, rewards, evaluation) treats them alike.
//!
//! Invariants every implementation keeps:
//! - **Determinism**: the same `(env id, version, seed, difficulty)` gives a
//!   byte-identical [`Instance`]; randomness comes only from [`Rng`], which is
//!   seeded from exactly those four values ([`Rng::for_instance`]).
//! - **Stable ids**: [`instance_id`] is a content hash of the same four values.
//! - **Total verification**: `verify` never panics and always returns a reward
//!   in `[0, 1]`; the model's answer is taken by the shared [`extract_answer`].
//!
//! [`GroundTruth`] is the contract between datasets and rewards: the string a
//! dataset row carries and a reward function scores against.
//! [`conformance`] defines, once, what a valid environment is; every kind of
//! environment (native, hand-written or LLM-written Python) is held to it.
//!
//! ```
//! use resyn_core::{extract_answer, ExtractConfig};
//! let got = extract_answer("thinking... <answer> 42 </answer>", &ExtractConfig::default()).unwrap();
//! assert_eq!(got.text.trim(), "42");
//! ```

mod atomic;
mod environment;
mod error;
mod extract;
mod id;
mod instance;
mod registry;
mod rng;
mod text;
mod verdict;

pub use atomic::{AtomicFile, write_atomic};
pub use environment::{
    Category, EnvMeta, Environment, MAX_DIFFICULTY, MIN_DIFFICULTY, Source, UnknownCategory,
};
pub use error::{BoxError, Error, Result};
pub use extract::{ExtractConfig, ExtractError, Extracted, ExtractedFrom, extract_answer};
pub use ground_truth::GroundTruth;
pub use id::{content_hash, id_from_hash, instance_hash, instance_id};
pub use instance::{ANSWER_INSTRUCTION, Instance, wrap_answer};
pub use registry::Registry;
pub use rng::Rng;
pub use text::{error_chain, utc_minute};
pub use verdict::{ReasonCode, Verdict};

pub mod conformance;
pub mod ground_truth;
pub mod parallel;
pub mod probes;
#[cfg(feature = "testing")]
pub mod testing;
