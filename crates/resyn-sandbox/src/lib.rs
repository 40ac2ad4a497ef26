//! Sandboxed runtime for Python environments.
//!
//! LLM-written environments are Python modules (format: `docs/python-environments.md`)
//! and untrusted: they may loop, eat memory, fork, read secrets, phone home,
//! forge rewards or attack each other. This crate runs hundreds of them fast
//! and contained, behind the same [`resyn_core::Environment`] trait as native
//! environments.
//!
//! - [`PythonEnv::open`] / [`open_dir`] list modules without an interpreter:
//!   `NAME`, `CATEGORY`, `DESCRIPTION`, `VERSION` and whether `solve` is
//!   defined are read from the source by a strict reader of top-level
//!   literals (anything else loads the module to read them). A worker starts
//!   on a module's first use; the metadata the loaded module reports must
//!   match, or the environment fails with [`Error::Load`].
//!   [`PythonEnv::load`] / [`PythonEnv::from_source`] load at once (the
//!   synthesis pipeline's load check). [`LazySandbox`] starts the sandbox on
//!   first use.
//! - [`Sandbox`] resolves the real interpreter, picks the isolation backend
//!   (bubblewrap, or a weaker direct mode), starts a *zygote*, observes from
//!   inside a probe worker which layers hold ([`Enforcement`]), refuses to
//!   start when the [`SandboxPolicy`] requires a missing layer, and owns a
//!   bounded, LRU pool of persistent workers (`max_workers`, default
//!   [`DEFAULT_MAX_WORKERS`]).
//!
//! # Process model
//!
//! The zygote is one sandboxed interpreter (bubblewrap with every namespace,
//! or the direct backend; rlimits; a seccomp filter denying sockets, ptrace,
//! mounts and namespaces, kernel attack surface) that imports the harness and
//! common standard-library modules once, denies itself `exec`, and then only
//! forks: it never receives a module's source. For each worker the host sends
//! it a request over a private control socket with the worker's own socket
//! attached; the forked worker drops the control socket and, before it reads
//! its first request, applies the per-module layers:
//!
//! 1. a private `/tmp`: with bubblewrap a fresh size-capped tmpfs in a mount
//!    namespace of its own (so no other worker's files exist for it), without
//!    it a host directory of its own (mode 0700, removed when it ends); its
//!    cwd, `HOME` and `TMPDIR`;
//! 2. its own Landlock domain: writes only in that directory (reads too, for
//!    the direct backend, beyond the system's libraries and the
//!    interpreter), no TCP, and signals and abstract sockets scoped to the
//!    domain, so it can signal neither the zygote nor another worker;
//! 3. `PR_SET_DUMPABLE=0`: no other process may trace it or read its memory,
//!    environment or descriptors through `/proc`;
//! 4. a seccomp filter denying process creation, `exec`, mounts and
//!    namespaces (stacked on the zygote's).
//!
//! Why a shared zygote keeps modules apart: every worker is forked from the
//! zygote, never from another worker, and the zygote runs no environment
//! code, so every module starts from the same pristine interpreter; whatever
//! a module changes in its process (builtins, `json`, `random`, the harness)
//! stays in it. What a module could still try against another — signal it
//! or the zygote, trace it, read or write its memory or files, create
//! processes — is denied by the layers above, each observed from inside the
//! probe worker before any module runs. Where the host cannot enforce them
//! (e.g. Landlock without signal scoping), every worker gets a zygote, and so
//! a sandbox, of its own ([`ProcessModel::ZygotePerWorker`]), the isolation
//! and the start-up cost of one sandbox per module; `resyn sandbox doctor`
//! reports which (layer `module_isolation`).
//!
//! # Workers
//!
//! A worker hosts exactly one module for its life. Requests and replies
//! travel over its socket as length-prefixed JSON; the module's
//! stdout/stderr are capped buffers, so printing cannot forge a reply.
//! Limits: a per-call wall clock counted from when the worker has the call
//! (a call waiting for a worker is not charged; the worker is killed when it
//! is exceeded), `RLIMIT_AS/CPU/FSIZE/NOFILE`, no core dumps, output caps.
//! Any fault recycles the worker. [`PythonEnv`] implements `Environment`
//! with batched `generate_batch` / `verify_batch`; the `try_*` methods
//! return the typed [`Error`] taxonomy (timeout, memory, exception with
//! traceback, crash with signal, bad return, forbidden operation, ...) for
//! the synthesis pipeline's feedback. `PythonEnv` is a
//! [`resyn_core::conformance::Subject`], so the conformance checks (the one
//! definition of a valid environment) run on it with typed errors, the
//! determinism check on a freshly forked worker.
//!
//! ```no_run
//! use resyn_core::Environment;
//! use resyn_sandbox::{LazySandbox, SandboxConfig};
//!
//! // Listing needs no interpreter; the sandbox starts on first use.
//! let sandbox = LazySandbox::new(SandboxConfig::default());
//! for env in resyn_sandbox::open_dir("envs/python", &sandbox) {
//!     let env = env?;
//!     let inst = env.generate(7, 3)?;
//!     assert!(env.verify(&inst, &inst.reference).correct);
//! }
//! println!("{}", sandbox.get()?.enforcement().to_text());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!("resyn-sandbox supports Linux on x86_64 and aarch64");

pub use config::{
    Backend, CodeCache, DEFAULT_MAX_WORKERS, Limits, SandboxConfig, SandboxPolicy, Zygotes,
};
pub use enforcement::{Enforcement, Layer, LayerReport, LayerStatus};
pub use env::{Batch, Generated, PythonEnv, env_files, load_dir, open_dir};
pub use error::{Error, LoadErrorKind, PyException, Result};
pub use lazy::LazySandbox;
pub use sandbox::{PoolStats, ProcessModel, Sandbox};
pub use sys::{Memory, process_memory, rss_bytes, tree_memory};

mod code_cache;
mod config;
mod conformance;
mod enforcement;
mod env;
mod error;
mod launch;
mod lazy;
mod protocol;
mod python;
mod sandbox;
mod scratch;
mod seccomp;
mod static_meta;
mod sys;
mod worker;
mod zygote;
