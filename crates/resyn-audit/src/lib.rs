//! Audit verifiers on real answers.
//!
//! Synthesis checks a verifier on references, probes and a few solver
//! answers; training and evaluation then produce many more real responses,
//! and a verifier that accepts some unforeseen family of wrong answers is
//! rewarding reward hacking. [`audit`] re-scores stored responses with every
//! judge an environment has and reports where they disagree:
//!
//! - the environment's own `verify()` (through the registry, as a trainer's
//!   reward scores it);
//! - the second verifier `resyn synth` wrote from the question text alone
//!   and stored with the environment (its source at
//!   [`VERIFIER_CODE_POINTER`] in the validation report, loaded with
//!   [`resyn_synth::verifier_module`]);
//! - on each disagreement, the tie-breaking verifier `resyn synth` drew for
//!   the environment's last dispute, if one is stored (at
//!   [`TIE_BREAKER_CODE_POINTER`]): the side it agrees with wins two to one,
//!   which says which verifier is likely wrong;
//! - the module's `solve()`, where it has one: an answer equal to
//!   `solve()`'s must be accepted by a correct verifier. A different answer
//!   proves nothing, since a task may have several solutions.
//!
//! The second verifier and `solve()` are untrusted Python and run only in
//! the sandbox of the [`resyn_registry::Loaded`] registry, which also finds
//! the environments. Environments without a second verifier (native ones,
//! Python directories, store rows from before they were kept) are reported
//! as such and have no disagreement rate. The [`Report`] counts responses
//! per environment: scored, compared, disagreements (which side accepted),
//! `solve()` rejections, verifier errors, and the first examples; an
//! environment fails when its disagreement rate exceeds
//! [`Options::max_disagreement`] or a verifier rejects `solve()`'s own
//! answer.
//!
//! ```no_run
//! use resyn_audit::{Options, Response, audit};
//! use resyn_registry::{Sources, StoreSource};
//!
//! let loaded = Sources { store: StoreSource::Path("resyn.db".into()), ..Sources::default() }.load()?;
//! let env = loaded.registry.get("word_ladder")?;
//! let instance = env.generate(0, 3)?;
//! let responses = vec![Response {
//!     response: "<answer>cold cord card ward warm</answer>".into(),
//!     instance,
//!     origin: "example".into(),
//! }];
//! let report = audit(&loaded, &responses, &Options::default())?;
//! print!("{}", report.table());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub use audit::{Options, Response, audit};
pub use error::{Error, Result};
pub use judges::{TIE_BREAKER_CODE_POINTER, VERIFIER_CODE_POINTER};
pub use report::{EnvAudit, Errors, Example, Report, SecondStatus, SolveCheck};

mod audit;
mod error;
mod judges;
mod report;
