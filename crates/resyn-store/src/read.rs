//! Read-only access for viewers (`resyn ui`, `resyn gallery`): opening a
//! store without ever writing it, and light queries that never load code or
//! request bodies, so a viewer stays fast on a store of thousands of
//! candidates.
//!
//! Invariants:
//! - [`Store::open_read_only`] opens with `SQLITE_OPEN_READ_ONLY` and sets
//!   `query_only`: no statement through that connection can change the
//!   file, and nothing is migrated. A file of a newer schema is refused
//!   ([`Error::NewerSchema`]), and so is one older than the oldest version
//!   whose tables this build reads as is ([`Error::OlderSchema`]): files
//!   missing only index migrations are read. A SQLite file without resyn's
//!   tables is refused too ([`Error::NotAStore`]).
//! - In WAL mode a reader never waits for a writer (`resyn synth` running);
//!   a store held under an exclusive lock answers [`Error::is_busy`] after a
//!   short wait instead of hanging.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::rows::{Cols, FromRow};
use crate::schema::{MIGRATIONS, READABLE_FROM};
use crate::{CandidateStatus, Error, Result, Store};

/// How long a read-only open waits for a lock before answering busy.
const READ_BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// How one stage went for the candidates of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCount {
    /// Stage name (`extract`, `validate`, `review`, ...).
    pub stage: String,
    /// Distinct candidates with a passing outcome at this stage.
    pub passed: u64,
    /// Distinct candidates with a failing outcome at this stage (repaired
    /// ones included).
    pub failed: u64,
    /// Failing outcomes at this stage, counting every repair round.
    pub failures: u64,
}

/// A candidate's outcome without its code or proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateOutcome {
    /// Candidate id.
    pub id: i64,
    /// Keyword it was proposed for.
    pub keyword: String,
    /// Proposal title.
    pub title: String,
    /// Outcome so far.
    pub status: CandidateStatus,
    /// Last stage reached.
    pub stage: String,
    /// Machine-readable reason of the last outcome.
    pub reason: String,
    /// The precise detail of the last outcome.
    pub detail: String,
    /// Repair rounds used.
    pub round: u32,
    /// The environment `NAME`, once accepted.
    pub env_name: Option<String>,
}

/// One LLM call without its request and reply bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEntry {
    /// Call id.
    pub id: i64,
    /// Run id.
    pub run_id: Option<i64>,
    /// Candidate the call was for.
    pub candidate_id: Option<i64>,
    /// What the call was for (`proposal`, `implement`, `repair`, ...).
    pub purpose: String,
    /// `ok` or `error`.
    pub status: String,
    /// The finish reason, on success.
    pub finish_reason: Option<String>,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Latency, milliseconds.
    pub latency_ms: u64,
    /// The error, on failure.
    pub error: Option<String>,
    /// When it was recorded, Unix seconds.
    pub at: i64,
}

/// One LLM call with its request and reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallDetail {
    /// The call's metadata.
    #[serde(flatten)]
    pub entry: CallEntry,
    /// The request body (JSON).
    pub request: serde_json::Value,
    /// The reply text, on success.
    pub reply: Option<String>,
}

/// Cheap marker of the stored environments: changes whenever one is added
/// or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EnvMarker {
    /// Number of stored environments.
    pub count: u64,
    /// Largest environment row id (0 when there is none).
    pub max_id: i64,
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl FromRow for CandidateOutcome {
    const TABLE: &'static str = "candidates";
    const COLUMNS: &'static str =
        "id, keyword, title, status, stage, reason, detail, round, env_name";
    fn from_row(r: &Cols<'_>) -> Result<Self> {
        Ok(CandidateOutcome {
            id: r.get("id")?,
            keyword: r.get("keyword")?,
            title: r.get("title")?,
            status: r.status(Self::TABLE)?,
            stage: r.get("stage")?,
            reason: r.get("reason")?,
            detail: r.get("detail")?,
            round: u32::try_from(r.get::<i64>("round")?).unwrap_or(0),
            env_name: r.get("env_name")?,
        })
    }
}

impl FromRow for CallEntry {
    const TABLE: &'static str = "llm_calls";
    const COLUMNS: &'static str = "id, run_id, candidate_id, purpose, status, finish_reason, prompt_tokens, completion_tokens, latency_ms, error, at";
    fn from_row(r: &Cols<'_>) -> Result<Self> {
        Ok(CallEntry {
            id: r.get("id")?,
            run_id: r.get("run_id")?,
            candidate_id: r.get("candidate_id")?,
            purpose: r.get("purpose")?,
            status: r.get("status")?,
            finish_reason: r.get("finish_reason")?,
            prompt_tokens: r.unsigned("prompt_tokens")?,
            completion_tokens: r.unsigned("completion_tokens")?,
            latency_ms: r.unsigned("latency_ms")?,
            error: r.get("error")?,
            at: r.get("at")?,
        })
    }
}

impl FromRow for CallDetail {
    const TABLE: &'static str = "llm_calls";
    const COLUMNS: &'static str = "id, run_id, candidate_id, purpose, status, finish_reason, prompt_tokens, completion_tokens, latency_ms, error, at, request, reply";
    fn from_row(r: &Cols<'_>) -> Result<Self> {
        Ok(CallDetail {
            entry: CallEntry::from_row(r)?,
            request: r.json("llm_calls.request")?,
            reply: r.get("reply")?,
        })
    }
}

impl Store {
    /// Open an existing store for reading only: nothing is created,
    /// migrated or written, and a running `resyn synth` can keep writing.
    ///
    /// # Errors
    /// [`Error::Sqlite`] when the file does not exist or is not SQLite;
    /// [`Error::NotAStore`] for SQLite without resyn's tables;
    /// [`Error::NewerSchema`] / [`Error::OlderSchema`] for a file of another
    /// schema version; a busy [`Error::Sqlite`] ([`Error::is_busy`]) when
    /// another process holds the file under an exclusive lock.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store> {
        let p = path.as_ref().display().to_string();
        let sq = |source| Error::Sqlite {
            path: p.clone(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path.as_ref(), flags).map_err(sq)?;
        conn.busy_timeout(READ_BUSY_TIMEOUT).map_err(sq)?;
        conn.execute_batch("PRAGMA query_only=1").map_err(sq)?;
        let has_version: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .map_err(sq)?;
        if !has_version {
            return Err(Error::NotAStore { path: p });
        }
        let found: i64 = conn
            .query_row(
                "SELECT coalesce(max(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
            .map_err(sq)?;
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        if found > known {
            return Err(Error::NewerSchema {
                path: p,
                found,
                known,
            });
        }
        if found < READABLE_FROM {
            return Err(Error::OlderSchema {
                path: p,
                found,
                known,
            });
        }
        Ok(Store {
            conn: Mutex::new(conn),
            path: p,
        })
    }

    /// Per stage, how many candidates of a run passed and failed it, in the
    /// order stages first occurred.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn stage_counts(&self, run: i64) -> Result<Vec<StageCount>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT stage,
                        count(DISTINCT CASE WHEN passed THEN candidate_id END),
                        count(DISTINCT CASE WHEN passed THEN NULL ELSE candidate_id END),
                        coalesce(sum(passed = 0), 0)
                 FROM stage_events WHERE run_id = ?1 GROUP BY stage ORDER BY min(id)",
            )?;
            st.query_map(params![run], |r| {
                Ok(StageCount {
                    stage: r.get(0)?,
                    passed: u(r.get(1)?),
                    failed: u(r.get(2)?),
                    failures: u(r.get(3)?),
                })
            })?
            .collect()
        })
    }

    /// Every candidate of a run with its outcome (no code), in creation
    /// order.
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::UnknownStatus`].
    pub fn candidate_outcomes(&self, run: i64) -> Result<Vec<CandidateOutcome>> {
        self.select("WHERE run_id = ?1 ORDER BY id", params![run])
    }

    /// The LLM calls of a run without their bodies, in order.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn call_log(&self, run: i64) -> Result<Vec<CallEntry>> {
        self.select("WHERE run_id = ?1 ORDER BY id", params![run])
    }

    /// One LLM call with its request and reply.
    ///
    /// # Errors
    /// [`Error::Sqlite`], [`Error::Json`].
    pub fn call_detail(&self, id: i64) -> Result<Option<CallDetail>> {
        Ok(self.select("WHERE id = ?1", params![id])?.pop())
    }

    /// The latest time anything happened in a run (its status, a stage
    /// outcome or an LLM call), Unix seconds.
    ///
    /// # Errors
    /// [`Error::UnknownRun`], [`Error::Sqlite`].
    pub fn last_activity(&self, run: i64) -> Result<i64> {
        self.with(|c| {
            c.query_row(
                "SELECT max(updated_at,
                            coalesce((SELECT max(at) FROM stage_events WHERE run_id = ?1), 0),
                            coalesce((SELECT max(at) FROM llm_calls WHERE run_id = ?1), 0))
                 FROM runs WHERE id = ?1",
                params![run],
                |r| r.get(0),
            )
            .optional()
        })?
        .ok_or(Error::UnknownRun(run))
    }

    /// A marker that changes whenever an environment is stored, so a viewer
    /// knows when to reload without reading every row.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn env_marker(&self) -> Result<EnvMarker> {
        self.with(|c| {
            c.query_row(
                "SELECT count(*), coalesce(max(id), 0) FROM environments",
                [],
                |r| {
                    Ok(EnvMarker {
                        count: u(r.get(0)?),
                        max_id: r.get(1)?,
                    })
                },
            )
        })
    }
}

impl Error {
    /// Whether the store could not be read because another connection held
    /// a lock on it for too long (e.g. an exclusive lock).
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Error::Sqlite { source, .. }
                if matches!(
                    source.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                )
        )
    }
}
