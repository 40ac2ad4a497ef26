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
//!   source [`resyn_core::Source::Synth`], loaded into the sandbox on first
//!   use. The store is opened read-only
//!   ([`resyn_store::Store::open_read_only`]): assembling never writes it,
//!   and works while `resyn synth` is writing it.
//!
//! [`Loaded`] also says which file each directory module came from, for
//! viewers that show the source; gives the store row of each synthesized
//! environment ([`Loaded::stored`]) and the sandboxed module behind a Python
//! or synthesized environment ([`Loaded::python`], for its `solve()`); and
//! loads further untrusted source, such as the second verifier `resyn synth`
//! stores, into the same sandbox ([`Loaded::load_module`]), so audits never
//! assemble sources or run such code themselves.
//!
//! Entry points only *choose* sources: [`Sources::from_env`] reads
//! `RESYN_ENV_DIRS`, `RESYN_STORE` and `RESYN_ALLOW_WEAK_SANDBOX` (what the
//! Python package does by default), and the CLI fills [`Sources`] from its
//! flags. The store rule is the same everywhere: a named store must exist;
//! without one, `resyn.db` in the current directory is used when it exists
//! ([`DEFAULT_STORE`]). All Python and synthesized environments of one
//! registry share one sandbox worker pool, started only when needed.
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
    ALLOW_WEAK_VAR, DEFAULT_STORE, ENV_DIRS_VAR, Loaded, STORE_VAR, Sources, StoreSource,
    allow_weak_from_env, env_dirs_from_env, sandbox_config, store_from_env,
};

mod error;
mod shared_sandbox;
mod sources;
mod synth_env;
