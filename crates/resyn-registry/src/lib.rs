//! The environments an entry point sees, assembled in one place.
//!
//! Every resyn entry point (the `resyn` command, its reward server, the
//! `resyn` Python package) scores and generates through one
//! [`resyn_core::Registry`]. This crate builds it from three kinds of
//! source, so that a dataset built by one entry point scores in every other:
//!
//! - the native environments ([`resyn_envs::registry`]), always;
//! - Python environment directories ([`Sources::env_dirs`]), each module run
//!   in the sandbox;
//! - the accepted environments of a synthesis store ([`StoreSource`]),
//!   source [`resyn_core::Source::Synth`]. The store is opened read-only
//!   ([`resyn_store::Store::open_read_only`]): assembling never writes it,
//!   and works while `resyn synth` is writing it.
//!
//! Python and synthesized environments are listed from their source
//! ([`resyn_sandbox::PythonEnv::open`]: metadata without an interpreter), so
//! assembling a registry of hundreds of them starts nothing; all of them
//! share one sandbox ([`resyn_sandbox::LazySandbox`]), started on the first
//! use of any, whose pool size is [`Sources::sandbox`]'s `max_workers`.
//! [`Loaded`] also says which file each directory module came from, for
//! viewers that show the source; gives the store row of each synthesized
//! environment ([`Loaded::stored`]) and the sandboxed module behind a Python
//! or synthesized environment ([`Loaded::python`], for its `solve()`); and
//! loads further untrusted source, such as the second verifier `resyn synth`
//! stores, into the same sandbox ([`Loaded::load_module`]), so audits never
//! assemble sources or run such code themselves.
//!
//! Entry points only *choose* sources: [`Sources::from_env`] reads
//! `RESYN_ENV_DIRS`, `RESYN_STORE`, `RESYN_ALLOW_WEAK_SANDBOX` and
//! `RESYN_SANDBOX_WORKERS` (what the Python package does by default), and
//! the CLI fills [`Sources`] from its flags. The store rule is the same
//! everywhere: a named store must exist; without one, `resyn.db` in the
//! current directory is used when it exists ([`DEFAULT_STORE`]).
//!
//! ```
//! use resyn_registry::{Sources, StoreSource};
//!
//! let sources = Sources { store: StoreSource::None, ..Sources::default() };
//! let loaded = sources.load()?;
//! assert!(loaded.registry.get("sudoku").is_ok());
//! assert!(loaded.skipped.is_empty());
//!
//! // A store that is named must exist: an error, not an empty list.
//! let missing = Sources { store: StoreSource::Path("no/such/store.db".into()), ..Sources::default() };
//! assert!(missing.load().is_err());
//! # Ok::<(), resyn_registry::Error>(())
//! ```
#![deny(missing_docs)]

pub use error::{Error, Result};
pub use sources::{
    ALLOW_WEAK_VAR, DEFAULT_STORE, ENV_DIRS_VAR, Loaded, SANDBOX_WORKERS_VAR, STORE_VAR, Sources,
    StoreSource, allow_weak_from_env, env_dirs_from_env, sandbox_config, sandbox_workers_from_env,
    store_from_env,
};

mod error;
mod sources;
