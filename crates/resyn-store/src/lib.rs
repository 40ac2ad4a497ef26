//! The resyn store: one SQLite file (WAL mode) recording everything the
//! synthesis pipeline decides.
//!
//! - [`Store`] opens (and migrates) the file. Tables:
//!   - `runs`: one row per `resyn synth` run, with its configuration (so
//!     `--resume` needs nothing else) and [`RunStatus`] (`running`,
//!     `finished`, `exhausted`, `interrupted`);
//!   - `keywords`: the keywords a run works through and whether their
//!     proposals are in;
//!   - `candidates`: one row per proposed task, with its checkpoint (current
//!     code, repair round, review and cross-verifier state) and
//!     [`CandidateStatus`] (`pending`, `accepted`, `rejected`, `skipped`);
//!   - `stage_events`: every stage outcome of every candidate, with its reason
//!     and the precise detail;
//!   - `environments`: accepted environments — code, content hash, `NAME`,
//!     version, category, description, provenance, validation and
//!     calibration reports;
//!   - `llm_calls`: every request and reply (tokens, latency, status) for
//!     audit and replay.
//! - Every decision is one transaction ([`Store::record_stage`],
//!   [`Store::finish_keyword`], [`Store::accept`]), so a `kill -9` loses at
//!   most the calls in flight. `environments.name` and
//!   `environments.content_hash` are unique: a resumed run can never store an
//!   environment twice ([`Accepted::Duplicate`]).
//! - Rows are read by column name into named types; a status this resyn does
//!   not know is an error naming the row ([`Error::UnknownStatus`]), never a
//!   silent default.
//! - The schema version lives in `schema_version`; [`Store::open`] applies
//!   missing migrations in order inside one transaction and refuses files
//!   written by a newer resyn.
//! - [`Store::open_read_only`] is for viewers (`resyn ui`, `resyn gallery`,
//!   listing environments): it never writes, refuses a file of a newer
//!   schema or of one older than it can read as is (migrations that only
//!   add indexes do not count), and reads while `resyn synth` writes; its light
//!   queries ([`Store::stage_counts`], [`Store::candidate_outcomes`],
//!   [`Store::call_log`]) skip code and request bodies.
//!
//! ```
//! use resyn_store::{NewCandidate, Store};
//! let store = Store::open_in_memory()?;
//! let run = store.create_run(&serde_json::json!({"model": "m"}))?;
//! store.add_keywords(run, &[("sudoku".into(), "constraint_satisfaction".into())])?;
//! let kw = store.pending_keywords(run)?;
//! let cand = NewCandidate { keyword: "sudoku".into(), title: "Killer sudoku".into(), ..Default::default() };
//! let ids = store.finish_keyword(kw[0].id, &[cand])?;
//! assert_eq!(store.candidates(run)?[0].id, ids[0]);
//! # Ok::<(), resyn_store::Error>(())
//! ```
#![deny(missing_docs)]

pub use error::{Error, Result};
pub use read::{CallDetail, CallEntry, CandidateOutcome, EnvMarker, StageCount};
pub use store::Store;
pub use types::{
    Accepted, CallRecord, Candidate, CandidateStatus, Checkpoint, Finding, KeywordRow,
    NewCandidate, NewEnvironment, Run, RunStatus, StageEvent, StoredEnv, Summary,
};

mod error;
mod read;
mod rows;
mod schema;
mod store;
mod types;
