//! Sandboxed runtime for Python environments.
//!
//! LLM-written environments are Python modules (format: `docs/python-environments.md`)
//! and untrusted: they may loop, eat memory, fork, read secrets, phone home or
//! forge rewards. This crate runs them fast and contained, behind the same
//! [`resyn_core::Environment`] trait as native environments.
//!
//! - [`Sandbox`] resolves the real interpreter, picks the isolation backend
//!   (bubblewrap, or a weaker direct mode), observes from inside a probe
//!   worker which layers hold ([`Enforcement`]), refuses to start when the
//!   [`SandboxPolicy`] requires a missing layer, and owns a bounded, LRU pool
//!   of persistent workers.
//! - A worker is one sandboxed interpreter running a harness shipped inside
//!   this binary, hosting exactly one module for its life. Requests and
//!   replies travel over a private pipe pair (fds 3/4) as length-prefixed
//!   JSON; the module's stdout/stderr are capped buffers, so printing cannot
//!   forge a reply. Limits: per-call wall clock (the worker and its whole
//!   sandbox are killed), `RLIMIT_AS/CPU/FSIZE/NOFILE`, no core dumps, output
//!   caps, a seccomp filter denying process creation and sockets; before the
//!   module loads, the harness adds Landlock (writes only in the worker's
//!   private directory, no TCP, scoped signals) and a second filter denying
//!   `execve`. Any fault recycles the worker.
//! - Each worker writes only in a private directory, its cwd, `HOME` and
//!   `TMPDIR`: bubblewrap's tmpfs at `/tmp`, or for the direct backend a
//!   directory resyn creates (mode 0700) under the host's temporary directory
//!   and removes when the worker ends; never the host's shared `/tmp` or
//!   another worker's directory.
//! - [`PythonEnv`] implements `Environment` with batched `generate_batch` /
//!   `verify_batch`; the `try_*` methods return the typed [`Error`] taxonomy
//!   (timeout, memory, exception with traceback, crash with signal, bad
//!   return, forbidden operation, ...) for the synthesis pipeline's feedback.
//! - [`load_dir`] loads a directory of modules. `PythonEnv` is a
//!   [`resyn_core::conformance::Subject`], so the conformance checks (the one
//!   definition of a valid environment) run on it with typed errors and a
//!   fresh worker for the determinism check.
//!
//! ```no_run
//! use resyn_core::Environment;
//! use resyn_sandbox::{Sandbox, SandboxConfig};
//!
//! let sandbox = Sandbox::new(SandboxConfig::default())?;
//! println!("{}", sandbox.enforcement().to_text());
//! for env in resyn_sandbox::load_dir("envs/python", &sandbox) {
//!     let env = env?;
//!     let inst = env.generate(7, 3)?;
//!     assert!(env.verify(&inst, &inst.reference).correct);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!("resyn-sandbox supports Linux on x86_64 and aarch64");

pub use config::{Backend, Limits, SandboxConfig, SandboxPolicy};
pub use enforcement::{Enforcement, Layer, LayerReport, LayerStatus};
pub use env::{Batch, Generated, PythonEnv, env_files, load_dir};
pub use error::{Error, LoadErrorKind, PyException, Result};
pub use sandbox::{PoolStats, Sandbox};
pub use sys::rss_bytes;

mod config;
mod conformance;
mod enforcement;
mod env;
mod error;
mod launch;
mod protocol;
mod python;
mod sandbox;
mod scratch;
mod seccomp;
mod sys;
mod worker;
